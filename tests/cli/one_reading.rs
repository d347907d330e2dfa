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
        // A comment alone on its line goes with the line: a blank line would end the block.
        let head = out.rfind('\n').map_or(0, |k| k + 1);
        let tail = rest.trim_start_matches([' ', '\t']);
        if out[head..].bytes().all(|b| b == b' ' || b == b'\t') && tail.starts_with('\n') {
            out.truncate(head);
            rest = &tail[1..];
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
    /// Tagged, or without front matter: not compared.
    Skipped,
    /// Refused: the error as printed.
    Refused(String),
    Same,
    /// Each difference, described.
    Differs(Vec<String>),
}

fn compare(path: &Path, text: &str, rules: &Rules, templates: &Templates) -> Compared {
    let built = match build_paper_only(
        path,
        "paper",
        text,
        rules,
        templates,
        &Release::default(),
        None,
    ) {
        Ok(built) => built,
        Err(e) => return Compared::Refused(e.render()),
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
const KNOWN_DEFECTS: &[(&str, &str)] = &[];

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
            (Compared::Skipped | Compared::Refused(_), None) => skipped += 1,
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
        "ends with a note <!-- x -->\n",
        "two spaces then a note  <!-- x -->\n",
        "    <!-- indented past a block --> and text\n",
        "<div>\n*text*\n</div>\n",
        "<!-- note --> and *emphasis*\n",
        "> quoted <!-- q -->\n",
        "> quoted\n",
        "- item <!-- note -->\n",
        "  <!-- in the item -->\n",
        "* other bullet\n",
        "## Heading\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "| a | b |\n|---|---|\n| x <!-- c --> | <!-- d --> y |\n",
        "## Heading <!-- h -->\n",
        "text[^n]\n\n[^n]: a note\n",
    ])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_papers_render_as_their_source_with_comments_cut(
        pieces in prop::collection::vec(piece(), 1..10)
    ) {
        let rules = Rules::embedded().unwrap();
        let templates = body_templates();
        let text = format!(
            "---\ntitle: Example\nclassification: OFFICIAL-SENSITIVE\n---\n{}",
            pieces.concat()
        );
        match compare(Path::new("example.md"), &text, &rules, &templates) {
            Compared::Differs(d) => prop_assert!(false, "{}\nsource: {text:?}", d.join("\n")),
            // Only where no cut can leave the rest reading as it did, and said at the comment.
            Compared::Refused(e) => prop_assert!(
                COMMENT_REFUSALS.iter().any(|r| e.contains(r)),
                "refused:\n{e}\nsource: {text:?}"
            ),
            Compared::Skipped | Compared::Same => {}
        }
    }
}

/// The refusals a comment may cause, where no cut leaves the rest of the paper as it was.
const COMMENT_REFUSALS: &[&str] = &[
    "text after a comment that starts a line is read as raw HTML",
    "removing this comment would join what comes before it to what follows",
    "removing this comment would leave a blank line that makes its list loose",
    "removing this comment would change whether its list reads loose or tight",
    "removing this comment would undo the line break before it",
    // Not a cut: a `<!--` that an HTML block's blank line cuts off is left open (DESIGN.md).
    "HTML comment is never closed",
];

// ------------------------------------------------------------------------------------------
// Cuts that take something along, and comments no cut can remove

fn comments_dir(sub: &str) -> PathBuf {
    project_root().join("tests/adversarial/comments").join(sub)
}

/// Words of `text` starting with `prefix` (ASCII letters and digits after it).
fn words(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest
                .char_indices()
                .find(|(_, c)| !c.is_ascii_alphanumeric())
                .map_or(rest.len(), |(k, _)| k);
            rest[..end].to_string()
        })
        .collect()
}

/// A comment whose bare cut would change the paper around it (a space left trailing or a hard
/// break made, a blank line ending a paragraph or HTML block, two lists joined, code read into
/// a list item or footnote) is cut with what keeps the reading: each paper in
/// tests/adversarial/comments/cuts/ renders as its source with the comments cut, no comment's
/// canary reaches a public byte, and every public word stays. Spec examples #625, #308, #309
/// and footnotes #17 (tests/suites.rs) are the same shapes.
#[test]
fn comments_are_cut_with_what_keeps_the_rest_as_it_reads() {
    let rules = Rules::embedded().unwrap();
    let templates = body_templates();
    let mut problems = Vec::new();
    let papers = crate::tree(&comments_dir("cuts"));
    assert!(papers.len() >= 3, "{} papers", papers.len());
    for (file, source) in papers {
        let text = String::from_utf8(source).unwrap();
        let path = comments_dir("cuts").join(&file);
        match compare(&path, &text, &rules, &templates) {
            Compared::Same => {}
            Compared::Differs(d) => problems.push(format!("{file}: {}", d.join("\n"))),
            Compared::Refused(e) => problems.push(format!("{file}: refused:\n{e}")),
            Compared::Skipped => problems.push(format!("{file}: not compared")),
        }
        let dir = tempfile::TempDir::new().unwrap();
        let output = crate::redact()
            .arg("build")
            .arg(&path)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        if output.status.code() != Some(0) {
            problems.push(format!(
                "{file}: build failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        let stem = file.strip_suffix(".md").unwrap();
        for ext in ["md", "html"] {
            let public = std::fs::read_to_string(dir.path().join(format!("public/{stem}.{ext}")))
                .unwrap_or_default();
            if public.to_ascii_lowercase().contains("zqx") {
                problems.push(format!("{file}: a note reached public/{stem}.{ext}"));
            }
            for word in words(&text, "PQX") {
                if !public.contains(&word) {
                    problems.push(format!("{file}: public/{stem}.{ext} lost {word}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Where no cut can keep the reading, the paper is refused at the comment (exit 2, no copy):
/// text after a comment that opens a line is raw HTML and would become Markdown (spec #177);
/// a comment that ends a list with no blank line around it cannot leave a stand-in there; a
/// comment between two blocks of a tight list item would leave it loose, and one that is all
/// that keeps a list loose cannot be stood in for with text straight after it.
#[test]
fn comments_no_cut_can_remove_are_refused_where_they_are() {
    let expected = [
        ("comment-in-tight-item.md", "7:3", "makes its list loose"),
        ("comment-joins-a-break.md", "7:2", "would join `-` and `-`"),
        ("comment-joins-a-link.md", "8:27", "would join `]` and `(`"),
        (
            "comment-joins-an-autolink.md",
            "6:45",
            "would join `a` and `.`",
        ),
        (
            "comment-joins-lists.md",
            "8:1",
            "would join what comes before it",
        ),
        ("comment-joins-raw-html.md", "8:7", "would join `<` and `s`"),
        ("comment-loosens-item.md", "8:3", "loose or tight"),
        ("text-after-opening-comment.md", "8:1", "read as raw HTML"),
    ];
    let papers = crate::tree(&comments_dir("refused"));
    let names: Vec<&str> = papers.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, expected.map(|(f, _, _)| f), "one row per paper");
    for (file, at, says) in expected {
        let dir = tempfile::TempDir::new().unwrap();
        let output = crate::redact()
            .arg("build")
            .arg(comments_dir("refused").join(file))
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("{file}:{at}: error: ")) && stderr.contains(says),
            "{file}: expected an error at {at} saying {says:?}, got:\n{stderr}"
        );
        assert!(stderr.contains("help: "), "{file}: no hint:\n{stderr}");
        let out = dir.path().join("out");
        assert!(
            !out.exists() || crate::tree(&out).is_empty(),
            "{file}: a copy was written"
        );
    }
}
