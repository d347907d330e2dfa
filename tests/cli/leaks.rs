//! Leak tests: withheld text must reach no public copy through any channel.
//!
//! The papers in tests/leaks/ put a unique canary word inside a withheld passage in every
//! channel text can travel through (body, links, images, footnotes, reference definitions,
//! ids, reasons, code, raw HTML, comments, tables, nested and contained redactions, line
//! endings, non-ASCII text). One build writes them all; one aho-corasick pass then looks for
//! every canary in every public file, every output file name and stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use aho_corasick::{AhoCorasick, MatchKind};
use tempfile::TempDir;

use crate::{project_root, redact, redact_in, tree};

/// Every canary word in tests/leaks/. Each lives in exactly one paper, inside a withheld
/// passage, front matter comment or HTML comment, and nowhere else.
const CANARIES: &[&str] = &[
    // inline-channels.md
    "CANARYBODYSPAN",
    "canaryspanid",
    "CANARYREASONSPAN",
    "CANARYPITSPAN",
    "CANARYLINKTEXT",
    "CANARYLINKURL",
    "CANARYLINKTITLE",
    "CANARYIMAGEALT",
    "CANARYIMAGESRC",
    "CANARYIMAGETITLE",
    "CANARYATTRLINKTEXT",
    "CANARYATTRLINKURL",
    "CANARYATTRLINKTITLE",
    "CANARYATTRIMAGEALT",
    "CANARYATTRIMAGESRC",
    "CANARYCODESPAN",
    "CANARYRAWHTML",
    "CANARYRAWHREF",
    "CANARYAUTOLINK",
    "CANARYEMPHASIS",
    "CANARYSTRONG",
    "CANARYSTRIKE",
    "CANARYADJACENT",
    "CANARYTOUCHING",
    "CANARYNESTEDSPAN",
    "canaryfnspanlabel",
    "CANARYFNSPANDEF",
    "CANARYWITHHELDBULLET",
    "CANARYLISTITEMSPAN",
    "CANARYBLOCKQUOTESPAN",
    // block-channels.md
    "CANARYYAMLCOMMENT",
    "CANARYYAMLLINECOMMENT",
    "CANARYCOMMENTPUBLIC",
    "canarydivid",
    "CANARYREASONDIV",
    "CANARYPITDIV",
    "CANARYDIVBODY",
    "canaryfnlabel",
    "CANARYFNDEFTEXT",
    "CANARYHIDDENNOTEDEF",
    "CANARYCOMMENTINDIV",
    "CANARYCODEBLOCK",
    "CANARYINDENTEDCODE",
    "CANARYHTMLBLOCK",
    "CANARYDIVTABLE",
    "CANARYREFDEFURL",
    "CANARYREFDEFTITLE",
    "CANARYOUTERDIV",
    "CANARYNESTEDDIV",
    "CANARYSPANINDIV",
    "CANARYBAREDIV",
    "CANARYHEADINGTEXT",
    "canaryheadingownid",
    "CANARYREASONHEADING",
    "CANARYHEADINGSECTION",
    "CANARYSUBHEADING",
    "canaryheadingid",
    "CANARYSUBSECTION",
    "CANARYSETEXTTITLE",
    "CANARYSETEXTSECTION",
    "CANARYBLOCKQUOTEDIV",
    "CANARYLISTDIV",
    "CANARYWITHHELDLIST",
    // edge-channels.md
    "CANARYINHEADING",
    "CANARYMULTILINE",
    "CANARYHARDBREAK",
    "CANARYESCAPEDBRACKET",
    "CANARYBRACEREASON",
    "CANARYSINGLEQUOTE",
    "CANARYCOMMENTINSPAN",
    "CANARYINLINKTEXT",
    "CANARYREFIMAGEALT",
    "CANARYINFOOTNOTE",
    "CANARYQUOTEDHEADING",
    "CANARYQUOTEDSECTION",
    "CANARYDEEPERHEADING",
    "CANARYDEEPERTEXT",
    "CANARYREFIMAGESRC",
    "CANARYSECTIONNOTEDEF",
    // table-cells.md
    "CANARYTABLECELL",
    "CANARYTABLEREGION",
    "canarytableid",
    "CANARYTABLEPIPE",
    "CANARYTABLECODE",
    // crlf.md (CRLF line endings)
    "CANARYCRLFSPAN",
    "CANARYCRLFREASON",
    "CANARYCRLFDIV",
    "CANARYCRLFCOMMENT",
    "CANARYCRLFHEADING",
    "CANARYCRLFSECTION",
    "CANARYCRLFBULLET",
    // cr-only.md (lone CR line endings)
    "CANARYCRSPAN",
    "CANARYCRDIV",
    "CANARYCRHEADING",
    "CANARYCRSECTION",
    // non-ascii.md
    "CANARYÉCLAIR",
    "canaryréunionsecrète",
    "CANARYRÉSUMÉ",
    "CANARYΣΙΓΜΑ",
    "東京CANARYKANJI",
    "😀CANARYEMOJI",
    // footnotes.md
    "CANARYFNHIDDENDEF",
    "CANARYFNONLYWITHHELD",
    // length-short.md, length-long.md
    "CANARYLENGTHSHORT",
    "CANARYLENGTHBLOCKSHORT",
    "CANARYLENGTHSECTIONSHORT",
    "CANARYLENGTHLONG",
    "CANARYLENGTHBLOCKLONG",
    "CANARYLENGTHSECTIONLONG",
];

/// Canaries that even the council's HTML must not carry: HTML comments and YAML comments
/// (notes to authors, kept only in the council Markdown, which is the source) and `pit=`
/// values (audit only).
const NOT_IN_COUNCIL_HTML: &[&str] = &[
    "CANARYYAMLCOMMENT",
    "CANARYYAMLLINECOMMENT",
    "CANARYCOMMENTPUBLIC",
    "CANARYCOMMENTINDIV",
    "CANARYCOMMENTINSPAN",
    "CANARYCRLFCOMMENT",
    "CANARYPITSPAN",
    "CANARYPITDIV",
];

/// Caught by the catch-all pattern: any "canary" that is not one of [`CANARIES`].
const UNLISTED: &str = "canary (unlisted)";

fn leaks_dir() -> PathBuf {
    project_root().join("tests/leaks")
}

/// Every paper in tests/leaks/, as (name without `.md`, bytes), sorted.
fn papers() -> Vec<(String, Vec<u8>)> {
    let papers: Vec<(String, Vec<u8>)> = tree(&leaks_dir())
        .into_iter()
        .filter_map(|(rel, bytes)| rel.strip_suffix(".md").map(|n| (n.to_string(), bytes)))
        .collect();
    assert!(papers.len() >= 10, "tests/leaks/ lost its papers");
    papers
}

/// A finished build of every leak paper.
struct Build {
    _dir: TempDir,
    out: PathBuf,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Build {
    fn file(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.out.join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    fn text(&self, rel: &str) -> String {
        String::from_utf8(self.file(rel)).unwrap()
    }
}

fn build_leaks() -> Build {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = redact()
        .arg("build")
        .arg("tests/leaks")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "building tests/leaks failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Build {
        _dir: dir,
        out,
        stdout: output.stdout,
        stderr: output.stderr,
    }
}

fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One automaton for every canary, case-insensitively, in the spellings a renderer could
/// produce (as written, lower and upper case, percent-encoded), plus a catch-all `canary`
/// that reports anything else carrying the word (an entity-encoded letter, a truncation).
struct Scanner {
    automaton: AhoCorasick,
    names: Vec<&'static str>,
}

impl Scanner {
    fn new() -> Scanner {
        let mut patterns: Vec<String> = Vec::new();
        let mut names: Vec<&'static str> = Vec::new();
        for &canary in CANARIES {
            let mut spellings = BTreeSet::new();
            for form in [
                canary.to_string(),
                canary.to_lowercase(),
                canary.to_uppercase(),
            ] {
                spellings.insert(percent_encoded(&form));
                spellings.insert(form);
            }
            for spelling in spellings {
                patterns.push(spelling);
                names.push(canary);
            }
        }
        patterns.push("canary".to_string());
        names.push(UNLISTED);
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .unwrap();
        Scanner { automaton, names }
    }

    /// Each canary found in `haystack`, with how many times.
    fn find(&self, haystack: &[u8]) -> BTreeMap<&'static str, usize> {
        let mut found = BTreeMap::new();
        for m in self.automaton.find_iter(haystack) {
            *found.entry(self.names[m.pattern().as_usize()]).or_insert(0) += 1;
        }
        found
    }
}

fn is_public(rel: &str) -> bool {
    let audience = rel.split('/').next().unwrap_or("");
    audience != "council" && audience != "audit"
}

#[test]
fn canary_papers_name_each_canary_in_one_paper() {
    let scanner = Scanner::new();
    let mut homes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, bytes) in papers() {
        for canary in scanner.find(&bytes).into_keys() {
            homes.entry(canary).or_default().push(name.clone());
        }
    }
    assert_eq!(
        homes.remove(UNLISTED),
        None,
        "a paper in tests/leaks/ uses a canary word missing from CANARIES"
    );
    for canary in CANARIES {
        assert_eq!(
            homes.get(canary).map(Vec::len),
            Some(1),
            "canary {canary} must appear in exactly one paper: {:?}",
            homes.get(canary)
        );
    }
    for (i, a) in CANARIES.iter().enumerate() {
        for b in &CANARIES[i + 1..] {
            let (a, b) = (a.to_lowercase(), b.to_lowercase());
            assert!(!a.contains(&b) && !b.contains(&a), "{a} and {b} overlap");
        }
    }
}

#[test]
fn withheld_canaries_reach_no_public_file_name_or_stderr() {
    let build = build_leaks();
    let scanner = Scanner::new();
    let files = tree(&build.out);
    let mut leaks: Vec<String> = Vec::new();
    let mut public: BTreeSet<String> = BTreeSet::new();
    for (rel, bytes) in &files {
        for (canary, n) in scanner.find(rel.as_bytes()) {
            leaks.push(format!("file name {rel}: {canary} ×{n}"));
        }
        if is_public(rel) {
            public.insert(rel.clone());
            for (canary, n) in scanner.find(bytes) {
                leaks.push(format!("{rel}: {canary} ×{n}"));
            }
        }
    }
    for (stream, bytes) in [("stderr", &build.stderr), ("stdout", &build.stdout)] {
        for (canary, n) in scanner.find(bytes) {
            leaks.push(format!("{stream}: {canary} ×{n}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "withheld text leaked:\n{}",
        leaks.join("\n")
    );
    // The scan covered every paper's public copies, not an empty folder.
    for (name, _) in papers() {
        for ext in ["md", "html"] {
            let rel = format!("public/{name}.{ext}");
            assert!(public.contains(&rel), "{rel} was not written");
        }
    }
}

#[test]
fn council_markdown_is_the_source_byte_for_byte() {
    let build = build_leaks();
    for (name, source) in papers() {
        let council = build.file(&format!("council/{name}.md"));
        assert!(
            council == source,
            "council/{name}.md differs from its source"
        );
    }
}

#[test]
fn council_copies_carry_every_canary_but_comments_and_pit_stay_out_of_html() {
    let build = build_leaks();
    let scanner = Scanner::new();
    let mut in_md: BTreeSet<&str> = BTreeSet::new();
    let mut in_html: BTreeSet<&str> = BTreeSet::new();
    for (name, _) in papers() {
        in_md.extend(
            scanner
                .find(&build.file(&format!("council/{name}.md")))
                .into_keys(),
        );
        in_html.extend(
            scanner
                .find(&build.file(&format!("council/{name}.html")))
                .into_keys(),
        );
    }
    for canary in CANARIES {
        assert!(
            in_md.contains(canary),
            "{canary} missing from the council Markdown"
        );
        if NOT_IN_COUNCIL_HTML.contains(canary) {
            assert!(
                !in_html.contains(canary),
                "{canary} reached the council HTML"
            );
        } else {
            assert!(
                in_html.contains(canary),
                "{canary} missing from the council HTML"
            );
        }
    }
    assert!(
        !in_html.contains(UNLISTED),
        "council HTML carries an unlisted canary"
    );
}

#[test]
fn html_comment_outside_redactions_is_only_in_council_markdown() {
    let build = build_leaks();
    let comment = "CANARYCOMMENTPUBLIC";
    for (rel, bytes) in tree(&build.out) {
        let has = String::from_utf8_lossy(&bytes).contains(comment);
        // The audit lists every removed comment (issue 4); it is never a public file.
        let expected =
            rel == "council/block-channels.md" || rel.starts_with("audit/block-channels.");
        assert_eq!(has, expected, "{rel}: comment present = {has}");
    }
}

/// The public copy's body as a body: everything after the rewritten front matter.
fn body_of(markdown: &str) -> &str {
    let rest = markdown
        .strip_prefix("---\n")
        .expect("front matter opens the copy");
    let end = rest.find("\n---\n").expect("front matter closes");
    &rest[end + "\n---\n".len()..]
}

#[test]
fn public_markdown_is_the_source_outside_the_redactions() {
    let build = build_leaks();
    let public = build.text("public/exact-body.md");
    // tests/leaks/exact-body.md with each withheld passage replaced by its marker, by hand.
    // The comment goes (its line ending stays); nothing else changes.
    let expected = "
Intro with **S31** and more, then **S24** passage.

**S23**

## Public heading {#open}

Public text stays, *emphasis* and `code` included.

**S31**

## Back to public

- Bullet one
- **S31**

> Quoted **S24** text.


The end.
";
    let body = body_of(&public);
    // The contract appends a schedule of exemptions at the end of the public copy; whatever
    // follows the body must be that, and hold none of the withheld words.
    assert_eq!(&body[..expected.len().min(body.len())], expected);
    let schedule = &body[expected.len()..];
    for withheld in [
        "withheld words",
        "a second",
        "exactbodyreason",
        "block-one",
        "A withheld block",
        "Withheld heading",
        "Section text",
        "Nested heading",
        "Bullet two",
        "withheld quote",
        "a note to authors",
    ] {
        assert!(
            !public.contains(withheld),
            "{withheld:?} reached the public copy"
        );
    }
    assert!(
        schedule.is_empty() || schedule.starts_with('\n'),
        "text after the body: {schedule:?}"
    );
    assert!(public.starts_with("---\ntitle: "));
    assert!(
        public.contains("\nclassification: \"OFFICIAL\"\n")
            || public.contains("\nclassification: OFFICIAL\n")
    );
}

/// Builds one paper from `body` (front matter added) with the embedded defaults; returns the
/// folder, the exit code and the public Markdown and HTML (empty if not written).
fn build_one(body: &str) -> (TempDir, Option<i32>, String, String) {
    build_one_with(body, &[])
}

/// As `build_one`, with files (images) beside the paper.
fn build_one_with(body: &str, files: &[(&str, &[u8])]) -> (TempDir, Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let source = format!("---\ntitle: One\nclassification: OFFICIAL-SENSITIVE\n---\n\n{body}");
    std::fs::write(dir.path().join("one.md"), source).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let output = redact_in(dir.path())
        .args(["build", "one.md", "--out", "out"])
        .output()
        .unwrap();
    let read = |ext: &str| {
        std::fs::read_to_string(dir.path().join(format!("out/public/one.{ext}")))
            .unwrap_or_default()
    };
    let (md, html) = (read("md"), read("html"));
    (dir, output.status.code(), md, html)
}

#[test]

fn withheld_block_in_list_item_keeps_the_list_as_written() {
    let cases = [
        ("div", "- One\n- ::: {.S24}\n  Withheld.\n  :::\n- Three\n"),
        (
            "heading",
            "- One\n- ## Withheld {.S24}\n  Withheld.\n- Three\n",
        ),
    ];
    for (form, body) in cases {
        let (_dir, code, md, html) = build_one(body);
        assert_eq!(code, Some(0), "{form}");
        assert!(
            body_of(&md).starts_with("\n- One\n- **S24**\n- Three\n"),
            "{form}: public Markdown is not the source outside the redaction:\n{md}"
        );
        assert!(
            html.contains("<li>One</li>"),
            "{form}: the list became loose:\n{html}"
        );
    }
}

#[test]

fn attributes_after_collapsed_reference_link_withhold_the_whole_link() {
    let body = "A link [CANARYCOLLAPSEDLINK][]{.S24} and an image ![CANARYCOLLAPSEDIMAGE][]{.S31}.\n\n\
                [CANARYCOLLAPSEDLINK]: https://example.org/a\n\
                [CANARYCOLLAPSEDIMAGE]: b.png\n";
    let png = std::fs::read(super::fixtures().join("img/estates-chart.png")).unwrap();
    let (_dir, code, md, html) = build_one_with(body, &[("b.png", &png)]);
    assert_eq!(code, Some(0));
    // The definitions are public text (outside any redaction); the link and image are not.
    let body = body_of(&md);
    assert!(
        body.starts_with("\nA link **S24** and an image **S31**.\n"),
        "{md}"
    );
    assert!(
        !html.contains(">CANARYCOLLAPSEDLINK<"),
        "link text published:\n{html}"
    );
    assert!(
        !html.contains("alt=\"CANARYCOLLAPSEDIMAGE\""),
        "image published:\n{html}"
    );
}

#[test]
fn public_reference_to_withheld_definition_renders_as_plain_text() {
    let build = build_leaks();
    let html = build.text("public/footnotes.html");
    assert!(
        html.contains("withheld note[^hidden] and a public one"),
        "{html}"
    );
    assert!(
        !html.contains("#hidden") && !html.contains("id=\"hidden\""),
        "{html}"
    );
    // The public note still links: the plain text above is the redaction at work.
    assert!(html.contains("href=\"#shown\""), "{html}");
    let council = build.text("council/footnotes.html");
    assert!(council.contains("href=\"#hidden\""), "{council}");

    let html = build.text("public/block-channels.html");
    assert!(
        html.contains("cites [secretref] and [the same][secretref],"),
        "{html}"
    );
    let council = build.text("council/block-channels.html");
    assert!(council.contains(">secretref</a>"), "{council}");
}

/// A definition that only withheld text uses goes with that text (pandoc reads a note as part
/// of the span citing it); the council copy keeps it (issue 13).
#[test]
fn footnote_definition_used_only_by_withheld_text_is_withheld_with_it() {
    let build = build_leaks();
    for ext in ["md", "html"] {
        let public = build.text(&format!("public/footnotes.{ext}"));
        assert!(!public.contains("CANARYFNONLYWITHHELD"), "{public}");
        assert!(!public.contains("onlywithheld"), "{public}");
        let council = build.text(&format!("council/footnotes.{ext}"));
        assert!(council.contains("CANARYFNONLYWITHHELD"), "{council}");
    }
    // The definition a public use cites stays.
    let html = build.text("public/footnotes.html");
    assert!(
        html.contains("A public definition that public text uses."),
        "{html}"
    );
    // The audit lists it under the redaction that used it, for the public copy only.
    let audit: serde_json::Value =
        serde_json::from_str(&build.text("audit/footnotes.json")).unwrap();
    let listed = |audience: &str| {
        audit["redactions"][0]["audiences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["audience"] == audience)
            .map(|a| a["references"].clone())
    };
    assert_eq!(
        listed("public"),
        Some(serde_json::json!(["[^onlywithheld]"])),
        "{audit}"
    );
    assert_eq!(listed("council"), Some(serde_json::Value::Null), "{audit}");
}

#[test]
fn marker_does_not_reveal_the_length_of_what_it_replaces() {
    let build = build_leaks();
    for ext in ["md", "html"] {
        let short = build.text(&format!("public/length-short.{ext}"));
        let long = build.text(&format!("public/length-long.{ext}"));
        assert_eq!(
            short, long,
            "public .{ext} copies differ with the withheld length"
        );
        let short = build.file(&format!("council/length-short.{ext}"));
        let long = build.file(&format!("council/length-long.{ext}"));
        assert_ne!(
            short, long,
            "the two papers must differ in what they withhold"
        );
    }
}

#[test]

fn tag_inside_link_destination_or_title_is_an_error() {
    let cases = [
        (
            "title",
            "A link [text](https://example.org/x \"see [the informant]{.S31}\") ends.\n",
        ),
        (
            "destination",
            "A link [text](<https://example.org/[the informant]{.S31}>) ends.\n",
        ),
        (
            "autolink",
            "An autolink <https://example.org/[informant]{.S31}> ends.\n",
        ),
    ];
    for (name, body) in cases {
        let (dir, code, _, _) = build_one(body);
        assert_eq!(code, Some(2), "{name}: a tag that withholds nothing passed");
        assert!(
            !dir.path().join("out/public/one.md").exists(),
            "{name}: a public copy was written"
        );
    }
}

#[test]
fn title_and_reason_are_escaped_in_html() {
    let build = build_leaks();
    for (rel, bytes) in tree(&build.out) {
        if rel.ends_with(".html") {
            let html = String::from_utf8_lossy(&bytes).to_lowercase();
            assert!(!html.contains("<script"), "{rel} carries a raw <script>");
        }
    }
    let title = "&lt;script&gt;alert(&quot;title&quot;)&lt;";
    let rest = "script&gt; &amp; &quot;quotes&quot;";
    for rel in ["council/escaping.html", "public/escaping.html"] {
        let html = build.text(rel);
        let h1 = html
            .lines()
            .find(|l| l.starts_with("<h1>"))
            .unwrap_or_else(|| panic!("{rel} has no <h1>"));
        assert!(h1.contains(title) && h1.contains(rest), "{rel}: {h1}");
    }
    let council = build.text("council/escaping.html");
    for reason in [
        "&lt;script&gt;alert(&quot;span&quot;)&lt;/script&gt; &amp; &quot;more&quot;",
        "&lt;script&gt;alert(&quot;div&quot;)&lt;/script&gt; &amp; &quot;block&quot;",
    ] {
        assert!(
            council.contains(reason),
            "council HTML lacks the escaped reason {reason}"
        );
    }
    let public = build.text("public/escaping.html");
    assert!(!public.contains("alert(&quot;span") && !public.contains("alert(&quot;div"));
}
