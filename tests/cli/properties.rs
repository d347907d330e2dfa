//! Property tests on the pure core: withheld text never influences a public byte, and no
//! input crashes the parser or renderer. Case counts follow PROPTEST_CASES (default 64 here;
//! set it higher for long runs).

use proptest::prelude::*;

use redact::parse::parse_paper;
use redact::redact::copy_for;
use redact::render::{Templates, html_page, markdown};
use redact::rules::Rules;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Public-side words: plain, so they never form tags.
fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "policing", "council", "the", "force", "agreed", "budget", "lead", "review", "£4m", "é",
    ])
    .prop_map(str::to_string)
}

/// Withheld content: anything Markdown-ish that stays inside its tag (no brackets, braces,
/// colons or line breaks that could end it early), including characters that must be escaped.
fn secret() -> impl Strategy<Value = String> {
    // Starts with a letter: an all-blank secret would change the line structure around it,
    // which is layout outside the tag, not withheld text.
    // No `<!--`: a comment left open in a tag is refused (the paper's error, tested on its
    // own), where the refilled paper is not, so the two would differ for that reason alone.
    "[a-zA-Z][a-zA-Z0-9 <>&\"'*_`#!|é£\u{200b}-]{0,40}"
        .prop_map(|s| s.replace('`', ""))
        .prop_filter("an open comment", |s| !s.contains("<!--"))
}

#[derive(Debug, Clone)]
enum Block {
    Para(Vec<String>, Option<(String, &'static str)>),
    Div(&'static str, String),
    Section(&'static str, String),
    Bullet(String, &'static str),
}

fn code() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["S31", "S23", "S24 .S31", "S40", "S22A"])
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        (
            prop::collection::vec(word(), 1..8),
            prop::option::of((secret(), code()))
        )
            .prop_map(|(w, s)| Block::Para(w, s)),
        (code(), secret()).prop_map(|(c, s)| Block::Div(c, s)),
        (code(), secret()).prop_map(|(c, s)| Block::Section(c, s)),
        (secret(), code()).prop_map(|(s, c)| Block::Bullet(s, c)),
    ]
}

/// Writes a paper; `fill` replaces every withheld text (to compare two fillings).
fn paper(blocks: &[Block], fill: Option<&str>) -> String {
    let mut out = String::from("---\ntitle: Generated\nclassification: OFFICIAL-SENSITIVE\n---\n");
    let pick = |s: &str| fill.map(str::to_string).unwrap_or_else(|| s.to_string());
    for (k, b) in blocks.iter().enumerate() {
        match b {
            Block::Para(words, span) => {
                out.push_str(&words.join(" "));
                if let Some((s, c)) = span {
                    out.push_str(&format!(" [{}]{{.{c}}}", pick(s)));
                }
                out.push_str("\n\n");
            }
            Block::Div(c, s) => out.push_str(&format!("::: {{.{c}}}\n{}\n:::\n\n", pick(s))),
            Block::Section(c, s) => out.push_str(&format!(
                "## Part {k} {{.{c}}}\n\n{}\n\n## Public {k}\n\n",
                pick(s)
            )),
            Block::Bullet(s, c) => out.push_str(&format!("- kept\n- [{}]{{.{c}}}\n\n", pick(s))),
        }
    }
    out
}

fn public_outputs(text: &str, rules: &Rules, templates: &Templates) -> Option<(String, String)> {
    let paper = parse_paper(text, rules).ok()?;
    let public = rules.audiences.iter().find(|a| a.name == "public")?;
    let copy = copy_for(&paper, text, public);
    Some((markdown(&copy), html_page(&copy, templates).ok()?))
}

proptest! {
    #![proptest_config(config())]

    /// Changing only text inside redactions changes no byte of any public output.
    #[test]
    fn withheld_text_never_reaches_public_bytes(blocks in prop::collection::vec(block(), 1..8)) {
        let rules = Rules::embedded().unwrap();
        let templates = Templates::embedded().unwrap();
        let original = paper(&blocks, None);
        let refilled = paper(&blocks, Some("completely different words"));
        let a = public_outputs(&original, &rules, &templates);
        let b = public_outputs(&refilled, &rules, &templates);
        // Some generated secrets are not valid inside a tag (the parser refuses them): then
        // both must be refused or both accepted with the same public bytes.
        prop_assert_eq!(a.is_some(), b.is_some());
        prop_assert_eq!(a, b);
    }

    /// Arbitrary text after valid front matter never panics the parser or renderer.
    #[test]
    fn arbitrary_body_never_panics(body in "(?s).{0,400}") {
        let rules = Rules::embedded().unwrap();
        let templates = Templates::embedded().unwrap();
        let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n{body}");
        let _ = public_outputs(&text, &rules, &templates);
    }

    /// Markdown-shaped noise (tags, fences, brackets, quotes) never panics either.
    #[test]
    fn markdown_like_noise_never_panics(
        parts in prop::collection::vec(prop::sample::select(vec![
            "[", "]", "{", "}", "{.S31}", "]{.S31}", "::: S31", ":::", "\n", "\r\n", "\r", "> ",
            "- ", "## ", "`", "```", "<!--", "-->", "<b>", "</b>", "[^1]", "[^1]: x", "|", "#id",
            "reason=\"", "\"", "é", "\u{200b}", "\t", "    ", "text", "(url)", "![", "\\",
        ]), 0..60)
    ) {
        let rules = Rules::embedded().unwrap();
        let templates = Templates::embedded().unwrap();
        let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n{}", parts.concat());
        let _ = public_outputs(&text, &rules, &templates);
    }

    /// Arbitrary bytes as a whole file never panic (the reader's UTF-8 check aside).
    #[test]
    fn arbitrary_file_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let rules = Rules::embedded().unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_paper(&text, &rules);
    }
}

/// The generator above must produce papers the parser accepts, or the leak property proves
/// nothing: a fixed sample of them must all parse.
#[test]
fn generated_papers_are_mostly_valid() {
    let blocks = vec![
        Block::Para(
            vec!["the".into(), "lead".into()],
            Some(("a <b> & \"c\"".into(), "S31")),
        ),
        Block::Div("S23", "div text".into()),
        Block::Section("S24 .S31", "section text".into()),
        Block::Bullet("bullet text".into(), "S40"),
    ];
    let rules = Rules::embedded().unwrap();
    let text = paper(&blocks, None);
    let parsed = parse_paper(&text, &rules).unwrap();
    assert_eq!(parsed.redactions.len(), 4);
}
