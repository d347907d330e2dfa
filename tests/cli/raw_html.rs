//! Raw HTML in a paper may only display text and tables: each paper in tests/raw-html/ tries
//! one way raw HTML could load or run something and must be refused where it does, with no copy
//! of it written for any audience.

use std::path::Path;

use tempfile::TempDir;

use crate::{project_root, redact_in};

/// (paper, the text the error points at, what the message says).
const REFUSED: &[(&str, &str, &str)] = &[
    ("base-href", "<base", "`<base>` is not allowed"),
    ("data-url", "data:text/html", "`data:` URL"),
    ("embed-council-copy", "<embed", "`<embed>` is not allowed"),
    ("event-attribute", "onmouseover", "attribute `onmouseover`"),
    ("form", "<form", "`<form>` is not allowed"),
    (
        "iframe-council-copy",
        "<iframe",
        "`<iframe>` is not allowed",
    ),
    (
        "img-absolute-path",
        "/srv/out",
        "relative path to a file in the paper's folder",
    ),
    (
        "img-climbs-out",
        "../council",
        "relative path to a file in the paper's folder",
    ),
    ("img-file-url", "file:///", "`file:` URL"),
    (
        "img-remote",
        "https://example.org/track",
        "relative path to a file in the paper's folder",
    ),
    (
        "inside-withheld-span",
        "<iframe",
        "`<iframe>` is not allowed",
    ),
    ("javascript-link", "javascript:", "`javascript:` URL"),
    ("link-stylesheet", "<link", "`<link>` is not allowed"),
    ("meta-refresh", "<meta", "`<meta>` is not allowed"),
    ("object-audit", "<object", "`<object>` is not allowed"),
    ("script", "<script", "`<script>` is not allowed"),
    (
        "style-attribute-url",
        "background: url(",
        "`style` attribute in raw HTML loads",
    ),
    ("style-import", "<style", "`<style>` is not allowed"),
    ("svg-image", "<svg", "`<svg>` is not allowed"),
    ("tag-left-open", "<div", "raw HTML ends inside a tag"),
];

fn papers() -> std::path::PathBuf {
    project_root().join("tests/raw-html")
}

/// `line:col` (from 1, columns in characters) of the first `needle` in `text`.
fn line_col(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let col = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    format!("{line}:{col}")
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<String> {
    crate::tree(dir).into_iter().map(|(rel, _)| rel).collect()
}

#[test]
fn raw_html_that_loads_or_runs_is_refused_where_it_is_and_no_copy_is_written() {
    let mut names: Vec<String> = std::fs::read_dir(papers())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "allowed" && n != "README")
        .collect();
    names.sort();
    let listed: Vec<&str> = REFUSED.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(
        names, listed,
        "every paper in tests/raw-html has its expected error"
    );
    for (name, needle, message) in REFUSED {
        let dir = TempDir::new().unwrap();
        let source = papers().join(format!("{name}.md"));
        let text = std::fs::read_to_string(&source).unwrap();
        std::fs::copy(&source, dir.path().join(format!("{name}.md"))).unwrap();
        let output = redact_in(dir.path())
            .args(["build", &format!("{name}.md"), "--out", "out"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        let header = format!("{name}.md:{}: error: ", line_col(&text, needle));
        assert!(
            stderr.contains(&header) && stderr.contains(message),
            "{name}: expected `{header}…{message}`, got:\n{stderr}"
        );
        assert!(stderr.contains("= help: "), "{name}: no hint:\n{stderr}");
        let out = dir.path().join("out");
        assert!(
            !out.exists() || files(&out).iter().all(|f| !f.contains(name)),
            "{name}: a copy was written: {:?}",
            files(&out)
        );
        // `check` refuses it the same way.
        let checked = redact_in(dir.path())
            .args(["check", &format!("{name}.md")])
            .output()
            .unwrap();
        assert_eq!(checked.status.code(), Some(2), "{name}: check passed it");
    }
}

#[test]
fn raw_html_that_displays_text_and_tables_builds() {
    let dir = TempDir::new().unwrap();
    let output = redact_in(dir.path())
        .arg("build")
        .arg(papers().join("allowed.md"))
        .args(["--out", "out"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let public = std::fs::read_to_string(dir.path().join("out/public/allowed.html")).unwrap();
    assert!(public.contains("<td style=\"text-align: right\">£1,200</td>"));
    assert!(!public.contains("CANARYRAWALLOWED"));
}

/// Raw HTML that is only notes to authors skips the allowlist's reader, as a comment holds no
/// element. A browser ends a comment at `--!>` too, where CommonMark reads on to `-->`: what
/// follows it would be live HTML to a reader of the council Markdown, so such a comment is
/// read and the `<script>` after it refused, as before the shortcut.
#[test]
fn a_comment_a_browser_ends_early_is_still_read_by_the_allowlist() {
    let dir = TempDir::new().unwrap();
    let paper = "---\ntitle: Notes\nclassification: OFFICIAL-SENSITIVE\n---\n\n\
                 Text.\n\n<!-- a note --!> <script>alert(1)</script> -->\n\n<!-- a plain note -->\n";
    std::fs::write(dir.path().join("notes.md"), paper).unwrap();
    let output = redact_in(dir.path())
        .args(["build", "notes.md", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("notes.md:8:18: error: `<script>` is not allowed"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/public/notes.md").exists());

    // Without the `--!>`, the same text is one comment to both readers: a note, not HTML.
    let plain = paper.replace("--!>", "--");
    std::fs::write(dir.path().join("notes.md"), plain).unwrap();
    let output = redact_in(dir.path())
        .args(["build", "notes.md", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
