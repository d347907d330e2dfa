//! The second reader (src/reread.rs): every copy but the council Markdown is read again before
//! it is kept. It must pass every paper the project holds and ordinary prose, and refuse a
//! tag that reaches a copy as text, before anything is written. Its own unit tests plant tags
//! in copies directly, since the parser should never leave one.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::{project_root, redact, redact_in};

/// What the second reader's error says, and only its error.
const REREAD: &str = "would reach the";

/// Papers the contract refuses through the second reader, by path under tests/.
const REFUSED_BY_DESIGN: &[&str] = &["adversarial/malformed/tag-in-code-span-across-lines.md"];

/// Every folder of papers under fixtures/ and tests/, each built on its own (names repeat
/// across folders).
fn paper_folders() -> Vec<std::path::PathBuf> {
    let mut folders: Vec<_> = walkdir::WalkDir::new(project_root().join("tests"))
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .filter_map(|e| e.path().parent().map(Path::to_path_buf))
        .filter(|dir| !dir.starts_with(project_root().join("tests/suites")))
        .collect();
    folders.push(project_root().join("fixtures"));
    folders.sort();
    folders.dedup();
    folders
}

#[test]
fn every_fixture_and_test_paper_passes_the_second_reader() {
    let folders = paper_folders();
    assert!(folders.len() >= 10, "{folders:?}");
    let mut problems = Vec::new();
    for folder in folders {
        let out = TempDir::new().unwrap();
        let output = redact()
            .arg("build")
            .arg(&folder)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        for line in stderr.lines().filter(|l| l.contains(REREAD)) {
            let allowed = REFUSED_BY_DESIGN.iter().any(|p| {
                let path = project_root().join("tests").join(p);
                line.starts_with(&format!("{}:", path.display()))
            });
            if !allowed {
                problems.push(line.to_string());
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

fn paper(body: &str) -> String {
    format!("---\ntitle: Prose\nclassification: OFFICIAL-SENSITIVE\n---\n\n{body}")
}

#[test]
fn ordinary_prose_and_code_pass_the_second_reader() {
    let dir = TempDir::new().unwrap();
    let whole = paper(
        "S31 in plain words; the ratio 2::3 at 10:30.\n\n```md\n::: S31\n[x]{.S31}\n:::\n```\n\n\
         Inline `::: {.S24}` and `[y]{.S23}`, an escaped \\{.S31} brace and [PQXSEEN]{.S24}.\n\n\
         ~~~\n::: {.S23}\n~~~\n\nText.\n\n    ::: S23\n    indented {.S31}\n",
    );
    fs::write(dir.path().join("whole.md"), &whole).unwrap();
    let output = redact_in(dir.path())
        .args(["build", "whole.md", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let public = fs::read_to_string(dir.path().join("out/public/whole.md")).unwrap();
    assert!(public.contains("an escaped \\{.S31} brace"), "{public}");
    assert!(!public.contains("PQXSEEN"));
    // Prose the contract keeps as text: whatever the parser makes of it, the second reader
    // never refuses it.
    for (k, body) in [
        "Apply the {.lead} style.\n",
        "The colour {#1d70b8} is blue.\n",
        "An index x[i]{j} here.\n",
        "A set {a, b: S31} here.\n",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("prose-{k}.md");
        fs::write(dir.path().join(&name), paper(body)).unwrap();
        let output = redact_in(dir.path())
            .args(["build", &name, "--out", "out"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains(REREAD), "{body}: {stderr}");
    }
}

/// `&#123;.S31&#125;` is text to the parser, but the HTML shows `{.S31}`: a tag as text.
const ENTITY_TAG: &str = "An entity &#123;.S31&#125; here and [ZQXREREAD]{.S24}.\n";

#[test]
fn a_tag_that_reaches_a_copy_as_text_is_refused_before_anything_is_written() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("e.md"), paper(ENTITY_TAG)).unwrap();
    let output = redact_in(dir.path())
        .args(["build", "e.md", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("e.md:1:1: error: text shaped like a redaction tag naming `S31` would reach the council HTML copy as text"), "{stderr}");
    assert!(stderr.contains("= note: found on line "), "{stderr}");
    assert!(stderr.contains("= help: "), "{stderr}");
    for audience in ["council", "public", "audit"] {
        let folder = dir.path().join("out").join(audience);
        let files: Vec<_> = fs::read_dir(&folder)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(files.is_empty(), "{audience}: {files:?}");
    }
    assert!(!stderr.contains("ZQXREREAD"));

    // `check` reads the public copies the same way, and writes nothing either.
    let output = redact_in(dir.path())
        .args(["check", "e.md"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("would reach the public HTML copy"),
        "{stderr}"
    );
}

/// A backtick in the wrong place makes a tag code: the contract publishes it as text, so the
/// build says so at the tag (a warning: an example of the syntax in a code span is prose).
#[test]
fn a_tag_amid_text_in_a_code_span_is_a_warning_at_the_tag() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("p.md"),
        "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\n\
         A line with a `stray backtick then [ZQXCODESPAN]{.S24} text` here.\n\n\
         Write `[not a tag]{.S31}` to withhold a passage.\n\n    \
         Indented [ZQXINDENT]{.S31} by mistake.\n",
    )
    .unwrap();
    let output = redact_in(dir.path())
        .args(["build", "p.md", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    assert!(
        warnings[1].starts_with(
            "p.md:10:25: warning: text shaped like a redaction tag naming `S31` is inside an indented code block"
        ),
        "{stderr}"
    );
    assert!(
        warnings[0].starts_with(
            "p.md:6:49: warning: text shaped like a redaction tag naming `S24` is inside a code span beside other text"
        ),
        "{stderr}"
    );
    // Not a difference between the copies: the audit files do not carry it.
    for ext in ["json", "html"] {
        let audit = fs::read_to_string(dir.path().join("out/audit").join(format!("p.{ext}")));
        assert!(!audit.unwrap().contains("code span beside"), "{ext}");
    }
    let public = fs::read_to_string(dir.path().join("out/public/p.md")).unwrap();
    assert!(
        public.contains("ZQXCODESPAN") && public.contains("ZQXINDENT"),
        "the contract publishes code as written"
    );

    let output = redact_in(dir.path())
        .args(["check", "p.md", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout.matches("code span beside other text").count(),
        1,
        "{stdout}"
    );
    assert_eq!(stdout.matches("indented code block").count(), 1, "{stdout}");
}

#[test]
fn examples_of_the_syntax_in_code_spans_are_no_warning() {
    // Fixture 01 shows `[not a tag]{.S31}` in a code span; the test papers hold many more.
    let out = TempDir::new().unwrap();
    let mut folders = paper_folders();
    folders.retain(|f| !f.ends_with("code"));
    for folder in folders {
        let output = redact()
            .arg("build")
            .arg(&folder)
            .arg("--out")
            .arg(out.path().join(folder.file_name().unwrap()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("every copy shows it as written"),
            "{}: {stderr}",
            folder.display()
        );
    }
}
