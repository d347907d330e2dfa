//! Removing a comment changes nothing else: the HTML rendered from a copy equals pulldown-cmark's
//! HTML of the source body with each comment cut out of the raw HTML event that carries it
//! (same options, headings one level down). Checked over every paper in tests/ and fixtures/
//! that is built without refusal, and over generated papers. A tagged passage is rendered
//! with its marker, which pulldown-cmark knows nothing of, so a tagged paper is compared with
//! its tags cut out (the `[` and `]{…}` of a span, a div's fence lines, the attribute block
//! of a heading or link): its content and comments stay where they were.
//!
//! Case counts of the property follow PROPTEST_CASES (default 32 here).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Parser, Tag, TagEnd, html};
use redact::front_matter;
use redact::model::Paper;
use redact::parse::markdown_options;
use redact::pipeline::build_paper_only;
use redact::render::Templates;
use redact::rules::Rules;
use redact::schedule::Release;

use crate::project_root;

fn one_down(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// `html` with its comments cut out (`<!-->` and `<!--->` are comments to CommonMark); one left
/// open runs to the end. A tag's quoted attribute values are read whole, as an HTML reader
/// reads them: a `<!--` inside one is part of the value.
fn without_comments(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = next_comment(rest) {
        out.push_str(&rest[..open]);
        let after = &rest[open + 4..];
        let end = if after.starts_with('>') {
            1
        } else if after.starts_with("->") {
            2
        } else {
            after.find("-->").map_or(after.len(), |k| k + 3)
        };
        rest = &after[end..];
        // A comment on a line of its own goes with its line break.
        if (out.is_empty() || out.ends_with('\n')) && rest.starts_with('\n') {
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Where the next comment outside a tag's quoted values opens.
fn next_comment(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"<!--") {
            return Some(i);
        }
        if bytes[i] == b'<'
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/')
        {
            let mut quote = None;
            i += 1;
            while i < bytes.len() {
                let c = bytes[i];
                i += 1;
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    None if c == b'>' => break,
                    None => {}
                }
            }
            continue;
        }
        i += 1;
    }
    None
}

/// A link to a local `.md` points at that paper's `.html` copy (DESIGN.md, "Assets").
fn paper_link(dest: CowStr<'_>) -> CowStr<'_> {
    let local = !dest.contains(':') && !dest.starts_with('#') && !dest.starts_with('/');
    let (path, fragment) = dest.split_once('#').unwrap_or((&dest, ""));
    match path.strip_suffix(".md") {
        Some(stem) if local => {
            let sep = if fragment.is_empty() && !dest.contains('#') {
                ""
            } else {
                "#"
            };
            format!("{stem}.html{sep}{fragment}").into()
        }
        _ => dest,
    }
}

/// pulldown-cmark's HTML for `body`: headings one level down, every comment cut out of the
/// raw HTML that carries it, and an HTML block left blank by the cut gone.
fn expected_html(body: &str) -> String {
    let mut events = Vec::new();
    let mut block: Option<String> = None;
    for event in Parser::new_ext(body, markdown_options()) {
        let event = match event {
            Event::Start(Tag::Heading { level, .. }) => Event::Start(Tag::Heading {
                level: one_down(level),
                id: None,
                classes: Vec::new(),
                attrs: Vec::new(),
            }),
            Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(one_down(level))),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Link {
                link_type,
                dest_url: paper_link(dest_url),
                title,
                id,
            }),
            other => other,
        };
        match (event, block.as_mut()) {
            (Event::Start(Tag::HtmlBlock), _) => block = Some(String::new()),
            (Event::Html(text) | Event::Text(text), Some(b)) => b.push_str(&text),
            (Event::End(TagEnd::HtmlBlock), Some(b)) => {
                let cut = without_comments(b);
                if !cut.trim().is_empty() {
                    events.push(Event::Start(Tag::HtmlBlock));
                    events.push(Event::Html(cut.into()));
                    events.push(Event::End(TagEnd::HtmlBlock));
                }
                block = None;
            }
            (Event::InlineHtml(text), _) => {
                let cut = without_comments(&text);
                if !cut.is_empty() {
                    events.push(Event::InlineHtml(cut.into()));
                }
            }
            (other, _) => events.push(other),
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out
}

/// A page template that is the body alone.
fn body_templates() -> Templates {
    let audit = std::fs::read_to_string(project_root().join("templates/audit.html")).unwrap();
    Templates::from_files(
        &[
            ("paper.html", "{{ body | safe }}".to_string()),
            ("audit.html", audit),
        ],
        None,
    )
    .unwrap()
}

/// The page without the schedule of exemptions a public copy ends with.
fn without_schedule(html: &str) -> &str {
    match html.rfind("<section class=\"redact-schedule\">") {
        Some(at) => &html[..at],
        None => html,
    }
}

/// `html` without the `id` of each heading: the tool gives a heading the id its attribute
/// block names (a link target), which pulldown-cmark's HTML, with heading attributes off,
/// does not have.
fn without_heading_ids(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("<h") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        rest = tail;
        let level = head.as_bytes()[at + 2];
        if (b'1'..=b'6').contains(&level)
            && rest.starts_with(" id=\"")
            && let Some(end) = rest[5..].find('"')
        {
            rest = &rest[5 + end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// What comparing one paper found.
enum Compared {
    /// Refused, or tagged: not compared.
    Skipped,
    Same,
    /// Each difference, described.
    Differs(Vec<String>),
}

fn compare(path: &Path, text: &str, rules: &Rules, templates: &Templates) -> Compared {
    let Ok(built) = build_paper_only(
        path,
        "paper",
        text,
        rules,
        templates,
        &Release::default(),
        None,
    ) else {
        return Compared::Skipped;
    };
    if !built.paper.redactions.is_empty() || !built.paper.heading_attrs.is_empty() {
        let untagged = without_tags(text, &built.paper);
        if untagged == text {
            return Compared::Skipped;
        }
        return compare(path, &untagged, rules, templates);
    }
    if !built.findings.is_empty() {
        return Compared::Differs(vec![format!("failed its proof: {:?}", built.findings)]);
    }
    let Ok(split) = front_matter::split(text) else {
        return Compared::Skipped;
    };
    let expected = expected_html(&text[split.block.end..]);
    let mut differs = Vec::new();
    // The audience that sees everything: its copy holds every passage of the paper.
    for audience in rules.audiences.iter().filter(|a| a.withholds.is_empty()) {
        let wanted = Path::new(&audience.name).join("paper.html");
        let Some(output) = built.outputs.iter().find(|o| o.relative == wanted) else {
            differs.push(format!("no {}", wanted.display()));
            continue;
        };
        let got = String::from_utf8_lossy(&output.bytes);
        let got = without_heading_ids(without_schedule(&got));
        if got != expected {
            let at = expected
                .lines()
                .zip(got.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let line = |s: &str| s.lines().nth(at).unwrap_or("").to_string();
            differs.push(format!(
                "{} differs at line {}:\n  expected {}\n  got      {}",
                wanted.display(),
                at + 1,
                line(&expected),
                line(&got)
            ));
        }
    }
    if differs.is_empty() {
        Compared::Same
    } else {
        Compared::Differs(differs)
    }
}

/// `text` with every tag cut out and its content kept; a fence line leaves its line break, so
/// what it ended stays ended.
fn without_tags(text: &str, paper: &Paper) -> String {
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let tags = paper
        .redactions
        .iter()
        .flat_map(|r| [r.open, r.close, r.attrs]);
    for span in tags.chain(paper.heading_attrs.iter().map(|h| h.span)) {
        {
            let inside = |s: &(usize, usize)| s.0 <= span.start && span.end <= s.1;
            if span.start < span.end && !cuts.iter().any(inside) {
                cuts.retain(|s| !(span.start <= s.0 && s.1 <= span.end));
                cuts.push((span.start, span.end));
            }
        }
    }
    cuts.sort_unstable();
    let mut out = String::new();
    let mut at = 0;
    for (start, end) in cuts {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        // A fence line's break is kept: a blank line ends what the fence ended.
        let end = if text[start..end].ends_with('\n') {
            end - 1
        } else {
            end
        };
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Papers whose copy differs today where the contract says it must not, each with why; checked
/// to still differ, so a row goes when its defect is fixed.
const KNOWN_DEFECTS: &[(&str, &str)] = &[
    (
        "tests/adversarial/comments/cmt-07-comment-in-list-and-quote.md",
        TRAILING_SPACE,
    ),
    (
        "tests/adversarial/comments/cmt-09-comment-in-table-cell.md",
        TRAILING_SPACE,
    ),
];

const TRAILING_SPACE: &str = "the space before a comment that ends a line or cell goes with it \
                              (`quote` for `quote `; tests/suites.rs, spec #625)";

/// Every `.md` under tests/ and fixtures/, sorted.
fn papers() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["tests", "fixtures"] {
        for entry in walkdir::WalkDir::new(project_root().join(dir)).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "md") {
                out.push(entry.into_path());
            }
        }
    }
    out
}

#[test]
fn every_paper_renders_as_its_source_with_comments_cut() {
    let rules = Rules::embedded().unwrap();
    let templates = body_templates();
    let (mut same, mut skipped) = (0, 0);
    let mut problems = Vec::new();
    let mut known = 0;
    for path in papers() {
        let rel = path
            .strip_prefix(project_root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let defect = KNOWN_DEFECTS.iter().find(|(p, _)| *p == rel);
        let Ok(text) = std::fs::read_to_string(&path) else {
            skipped += 1;
            continue;
        };
        match (compare(&path, &text, &rules, &templates), defect) {
            (Compared::Differs(_), Some(_)) => known += 1,
            (_, Some((_, why))) => problems.push(format!(
                "{rel}: listed as a known defect ({why}) but no longer differs: remove its row"
            )),
            (Compared::Skipped, None) => skipped += 1,
            (Compared::Same, None) => same += 1,
            (Compared::Differs(d), None) => problems.push(format!("{rel}: {}", d.join("\n"))),
        }
    }
    eprintln!(
        "{same} papers identical, {skipped} refused, {known} known defects, {} differ",
        problems.len()
    );
    assert!(same > 10, "too few papers compared: {same}");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        // About a fifth of generated papers put a comment where a known defect is.
        max_global_rejects: cases.max(1024),
        ..ProptestConfig::default()
    }
}

/// Pieces of a body, comments among them in the places a comment changes most: after lists,
/// before indented code, at a line's end, inside HTML blocks, between paragraphs.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "Plain words here.\n",
        "\n",
        "- one\n- two\n",
        "1. first\n",
        "    indented code\n",
        "```\nfenced\n```\n",
        "<!-- a note -->\n",
        "<!-- a\n\nlong note -->\n",
        "words <!-- inline --> more\n",
        // Not "ends with a note <!-- x -->": the space before it goes with the comment, a
        // known defect listed in KNOWN_DEFECTS and tests/suites.rs (spec #625).
        "<div>\n*text*\n</div>\n",
        // Not "<!-- note --> and *emphasis*": the text after the comment in its HTML block
        // becomes a paragraph, a known defect listed in tests/suites.rs (spec #177).
        "> quoted\n",
        "## Heading\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "text[^n]\n\n[^n]: a note\n",
    ])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_papers_render_as_their_source_with_comments_cut(
        pieces in prop::collection::vec(piece(), 1..10)
    ) {
        // A comment block that ends a list or footnote, or comes before indented code, is cut
        // today so that what follows joins it: a known defect listed in tests/suites.rs (spec
        // #308, #309, footnotes #17). A comment inside an HTML block, with lines after it,
        // ends the block in the copy (spec #177).
        let after_comment_code = pieces
            .windows(2)
            .any(|w| w[0].starts_with("<!--") && w[1].starts_with("    "));
        // A list or footnote runs on past blank lines until other text (or lazily through
        // plain text); an HTML block runs on until a blank line.
        let (mut in_list, mut in_block, mut after_blank) = (false, false, false);
        let cut_inside = pieces.iter().any(|p| {
            let comment = p.starts_with("<!--");
            let hit = comment && (in_list || in_block);
            let blank = *p == "\n";
            let listy = p.starts_with("- ") || p.starts_with("1. ") || p.contains("[^n]:");
            let breaks = ["##", "```", ">", "<div>"].iter().any(|b| p.starts_with(b));
            let lazy = (!after_blank && !breaks) || p.starts_with("    ");
            in_list = listy || (in_list && (blank || comment || lazy));
            in_block = (in_block || p.starts_with("<div>")) && !blank;
            after_blank = blank;
            hit
        });
        let joins = after_comment_code || cut_inside;
        prop_assume!(!joins);
        let rules = Rules::embedded().unwrap();
        let templates = body_templates();
        let text = format!(
            "---\ntitle: Example\nclassification: OFFICIAL-SENSITIVE\n---\n{}",
            pieces.concat()
        );
        if let Compared::Differs(d) = compare(Path::new("example.md"), &text, &rules, &templates) {
            prop_assert!(false, "{}\nsource: {text:?}", d.join("\n"));
        }
    }
}
