//! Suites others wrote, run through the whole pipeline (tests/suites/README.md says where each
//! comes from and under which licence).
//!
//! - Every example of the CommonMark spec and of pulldown-cmark's spec files for tables,
//!   footnotes and strikethrough, as the body of a paper with no tags: the council and public
//!   HTML bodies must equal pulldown-cmark's own HTML for the same body with the same options,
//!   headings one level down. [`EXCEPTIONS`] lists every example that may differ, with why.
//! - pandoc's examples of fenced divs and bracketed spans (its manual, its `test/command`
//!   cases, commonmark-hs's `fenced_divs` and `bracketed_spans` tests), with every class made
//!   an exemption code: each word that pandoc places inside a Div or Span is missing from the
//!   public copy, and every other word stays. [`PANDOC_EXCEPTIONS`] lists where the contract
//!   withholds more or refuses.
// Helpers in tests/ are missed by clippy's allow-unwrap-in-tests (rust-clippy #11119).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use redact::pipeline::build_paper_only;
use redact::render::Templates;
use redact::rules::Rules;
use redact::schedule::Release;

fn suites_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/suites")
}

/// One example of a spec file: where it is and its Markdown.
#[derive(Debug, Clone)]
struct Example {
    /// `commonmark/spec.txt#12`: the file under tests/suites/ and its number there, from 1.
    name: String,
    markdown: String,
}

/// The examples of a spec-format file (`` ```````````` example `` … `.` … `` ```````````` ``),
/// with `→` turned back into the tab it stands for.
fn spec_examples(file: &str) -> Vec<Example> {
    let text = std::fs::read_to_string(suites_dir().join(file)).unwrap();
    let fence = "````````````````````````````````";
    let mut out = Vec::new();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        if !(line.starts_with(fence) && line.trim_end().ends_with(" example")) {
            continue;
        }
        let mut markdown = String::new();
        for line in lines.by_ref() {
            if line == ".\n" {
                break;
            }
            markdown.push_str(line);
        }
        for line in lines.by_ref() {
            if line.starts_with(fence) {
                break;
            }
        }
        out.push(Example {
            name: format!("{file}#{}", out.len() + 1),
            markdown: markdown.replace('→', "\t"),
        });
    }
    out
}

/// The options the tool documents: CommonMark with GFM tables, footnotes and strikethrough.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

fn one_down(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// `html` with its comments (`<!-- … -->`, and `<!-->`, `<!--->` as CommonMark reads them)
/// cut out; a comment left open runs to the end.
fn without_comments(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find("<!--") {
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
    }
    out.push_str(rest);
    out
}

/// pulldown-cmark's events with every HTML comment cut out of the raw HTML that carries it
/// (a copy carries no comment); an HTML block left blank goes.
fn comments_cut<'a>(events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for event in events {
        match (event, block.as_mut()) {
            (Event::Start(Tag::HtmlBlock), _) => block = Some(String::new()),
            (Event::Html(text) | Event::Text(text), Some(b)) => b.push_str(&text),
            (Event::End(TagEnd::HtmlBlock), Some(b)) => {
                let cut = without_comments(b);
                if !cut.trim().is_empty() {
                    out.push(Event::Start(Tag::HtmlBlock));
                    out.push(Event::Html(cut.into()));
                    out.push(Event::End(TagEnd::HtmlBlock));
                }
                block = None;
            }
            (Event::InlineHtml(text), _) => {
                let cut = without_comments(&text);
                if !cut.is_empty() {
                    out.push(Event::InlineHtml(cut.into()));
                }
            }
            (other, _) => out.push(other),
        }
    }
    out
}

/// pulldown-cmark's HTML for `markdown`, headings one level down (the title is the `<h1>`),
/// comments cut out.
fn pulldown_html(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Start(Tag::Heading { level, .. }) => Event::Start(Tag::Heading {
            level: one_down(level),
            id: None,
            classes: Vec::new(),
            attrs: Vec::new(),
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(one_down(level))),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, comments_cut(events).into_iter());
    out
}

const FRONT_MATTER: &str = "---\ntitle: Example\nclassification: OFFICIAL-SENSITIVE\n---\n";

/// A page template that is the body alone, so the page is the body.
fn body_templates() -> Templates {
    let audit = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates/audit.html"),
    )
    .unwrap();
    Templates::from_files(
        &[
            ("paper.html", "{{ body | safe }}".to_string()),
            ("audit.html", audit),
        ],
        None,
    )
    .unwrap()
}

/// What the pipeline made of one paper.
#[derive(Debug)]
enum Outcome {
    /// Refused: the error as printed.
    Refused(String),
    /// The audit's proof failed.
    Findings(Vec<String>),
    /// Each wanted file's text, by path relative to the output folder.
    Built(BTreeMap<String, String>),
}

fn build(text: &str, rules: &Rules, templates: &Templates, wanted: &[&str]) -> Outcome {
    let only = wanted.iter().map(PathBuf::from).collect();
    match build_paper_only(
        Path::new("example.md"),
        "example",
        text,
        rules,
        templates,
        &Release::default(),
        Some(only),
    ) {
        Err(e) => Outcome::Refused(e.render()),
        Ok(built) if !built.findings.is_empty() => Outcome::Findings(built.findings),
        Ok(built) => Outcome::Built(
            built
                .outputs
                .into_iter()
                .map(|o| {
                    (
                        o.relative.to_string_lossy().replace('\\', "/"),
                        String::from_utf8(o.bytes).unwrap(),
                    )
                })
                .collect(),
        ),
    }
}

/// The page without the schedule of exemptions the public copy ends with (the contract
/// appends it; it is not the paper's body).
fn without_schedule(html: &str) -> &str {
    match html.rfind("<section class=\"redact-schedule\">") {
        Some(at) => &html[..at],
        None => html,
    }
}

// ------------------------------------------------------------------------------------------
// CommonMark and pulldown-cmark's spec files

/// The spec files read, under tests/suites/.
const SPEC_FILES: &[&str] = &[
    "commonmark/spec.txt",
    "pulldown-cmark/table.txt",
    "pulldown-cmark/footnotes.txt",
    "pulldown-cmark/strikethrough.txt",
    "gfm/gfm_table.txt",
    "gfm/gfm_strikethrough.txt",
];

/// Why an example may not give pulldown-cmark's HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exception {
    /// The contract requires a refusal (tag syntax, raw HTML that loads or runs something, an
    /// image that is not a local file): the example must be refused.
    MustRefuse(&'static str),
    /// The contract requires a refusal that today's code does not make yet (the raw HTML
    /// allowlist, local assets): refused or identical both pass, and the count is reported.
    RefusalPending(&'static str),
    /// Today's parser refuses or differs where the contract does not allow it: a known
    /// defect, checked to still be one so the entry goes when it is fixed.
    KnownDefect(&'static str),
}

/// Every example that may not give pulldown-cmark's HTML, with why. Nothing else may differ.
const EXCEPTIONS: &[(&str, Exception)] = &[
    // A code fence left open at the end of the file is an error (DESIGN.md, "Source format":
    // every later tag would silently become code). CommonMark reads it as running to the end.
    ("commonmark/spec.txt#126", Exception::MustRefuse(OPEN_FENCE)),
    ("commonmark/spec.txt#127", Exception::MustRefuse(OPEN_FENCE)),
    ("commonmark/spec.txt#139", Exception::MustRefuse(OPEN_FENCE)),
    // The fence in the blockquote ends with it; the last line opens one never closed.
    ("commonmark/spec.txt#237", Exception::MustRefuse(OPEN_FENCE)),
    // Comments are removed from every copy but the council Markdown, and removing one must
    // change nothing else (DESIGN.md, "Source format"). Today it does:
    (
        "commonmark/spec.txt#177",
        Exception::KnownDefect(
            "the text after a comment in its HTML block becomes a paragraph with emphasis",
        ),
    ),
    ("commonmark/spec.txt#308", Exception::KnownDefect(COMMENT_JOINS)),
    ("commonmark/spec.txt#309", Exception::KnownDefect(COMMENT_JOINS)),
    ("pulldown-cmark/footnotes.txt#17", Exception::KnownDefect(COMMENT_JOINS)),
    (
        "commonmark/spec.txt#625",
        Exception::KnownDefect(
            "the space before a comment that ends a paragraph goes with it (`<p>foo</p>` for \
             `<p>foo </p>`)",
        ),
    ),
];

// Raw HTML that loads or runs something is an error, and so is an image that is not a file
// inside the paper's folder (DESIGN.md, "What a copy may load", "Assets"): these examples
// name `/url`, `foo.jpg` and the like, which no paper folder here holds.
const PENDING: &[(&str, Exception)] = &[
    ("commonmark/spec.txt#170", Exception::RefusalPending(RAW_HTML)), // <script>
    ("commonmark/spec.txt#171", Exception::RefusalPending(RAW_HTML)), // <textarea>
    ("commonmark/spec.txt#172", Exception::RefusalPending(RAW_HTML)), // <style>
    ("commonmark/spec.txt#173", Exception::RefusalPending(RAW_HTML)), // <style>
    ("commonmark/spec.txt#176", Exception::RefusalPending(RAW_HTML)), // <style>
    ("commonmark/spec.txt#178", Exception::RefusalPending(RAW_HTML)), // <script>
    ("commonmark/spec.txt#475", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#517", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#520", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#531", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#572", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#573", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#574", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#575", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#576", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#577", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#578", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#579", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#580", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#581", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#582", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#583", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#584", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#585", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#586", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#587", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#588", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#589", Exception::RefusalPending(IMAGE)),
    ("commonmark/spec.txt#591", Exception::RefusalPending(IMAGE)),
    ("pulldown-cmark/table.txt#26", Exception::RefusalPending(IMAGE)),
];

const RAW_HTML: &str = "raw HTML that loads or runs something (or is not on the allowlist)";
const IMAGE: &str = "an image that is not a local file in the paper's folder";

const OPEN_FENCE: &str = "a code fence left open at the end of the file is an error";
const COMMENT_JOINS: &str = "removing the `<!-- -->` that ends a list joins what follows to it \
                             (a second list, or indented code read as the item's paragraph)";

#[test]
fn spec_examples_render_as_pulldown_cmark_renders_them() {
    let rules = Rules::embedded().unwrap();
    let templates = body_templates();
    let exceptions: BTreeMap<&str, Exception> =
        EXCEPTIONS.iter().chain(PENDING).copied().collect();
    assert_eq!(exceptions.len(), EXCEPTIONS.len() + PENDING.len(), "listed twice");
    let mut problems = Vec::new();
    let mut counts = BTreeMap::<&str, usize>::new();
    let mut seen = BTreeSet::new();
    for file in SPEC_FILES {
        for example in spec_examples(file) {
            seen.insert(example.name.clone());
            let text = format!("{FRONT_MATTER}{}", example.markdown);
            let outcome = build(
                &text,
                &rules,
                &templates,
                &["council/example.html", "public/example.html"],
            );
            let expected = pulldown_html(&example.markdown);
            let trouble = match &outcome {
                Outcome::Refused(e) => Some(format!("refused:\n{e}")),
                Outcome::Findings(f) => Some(format!("failed its proof: {f:?}")),
                Outcome::Built(files) => {
                    let differs: Vec<String> = files
                        .iter()
                        .map(|(path, html)| (path, without_schedule(html)))
                        .filter(|(_, html)| *html != expected)
                        .map(|(path, html)| {
                            format!("{path} differs:\n--- expected\n{expected}--- got\n{html}")
                        })
                        .collect();
                    (!differs.is_empty() || files.len() != 2)
                        .then(|| format!("{} of 2 pages, {}", files.len(), differs.join("\n")))
                }
            };
            let name = example.name.as_str();
            match (exceptions.get(name), trouble) {
                (None, None) => *counts.entry("identical").or_default() += 1,
                (None, Some(t)) => problems.push(format!(
                    "{name}: {t}\nsource:\n{}",
                    example.markdown
                )),
                (Some(Exception::MustRefuse(_)), _) if matches!(outcome, Outcome::Refused(_)) => {
                    *counts.entry("refused as the contract requires").or_default() += 1
                }
                (Some(Exception::MustRefuse(why)), _) => problems.push(format!(
                    "{name}: must be refused ({why}), but was not"
                )),
                (Some(Exception::RefusalPending(_)), None) => {
                    *counts.entry("identical, refusal pending").or_default() += 1
                }
                (Some(Exception::RefusalPending(_)), Some(_))
                    if matches!(outcome, Outcome::Refused(_)) =>
                {
                    *counts.entry("refused as the contract requires").or_default() += 1
                }
                (Some(Exception::RefusalPending(why)), Some(t)) => problems.push(format!(
                    "{name}: should be refused ({why}) or render as pulldown-cmark does: {t}"
                )),
                (Some(Exception::KnownDefect(_)), Some(_)) => {
                    *counts.entry("known defects").or_default() += 1
                }
                (Some(Exception::KnownDefect(why)), None) => problems.push(format!(
                    "{name}: listed as a known defect ({why}) but now gives pulldown-cmark's \
                     HTML: remove it from EXCEPTIONS"
                )),
            }
        }
    }
    for name in exceptions.keys() {
        if !seen.contains(*name) {
            problems.push(format!("{name}: listed in EXCEPTIONS but no such example"));
        }
    }
    eprintln!("spec examples: {} run, {counts:?}", seen.len());
    assert!(seen.len() > 700, "only {} examples read", seen.len());
    assert!(
        problems.is_empty(),
        "{} problems:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
