//! Malformed input and bad usage. Every paper in tests/invalid/ is refused with exit status 2,
//! an error at the `file:line:col` the design names, a snippet and a hint, and no copy of it
//! written; a bad paper never stops the good ones; and paths, name clashes and incomplete
//! rules are refused before anything is written.
//!
//! A snapshot alone would accept a wrong location, so each invalid paper's `line:col` is also
//! written out by hand below, worked out from the design: the code or class for an unknown one
//! (the name after its `.`), the `[` for a span crossing blocks, the second of two ids (the
//! name after its `#`), the `{` of an attribute block that attaches to nothing or is not
//! closed, the first colon of a fence, the `{` of a tag inside raw HTML, and line 1 for a
//! missing front matter or key. Columns count Unicode scalar values and a tab is one column.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tempfile::TempDir;

use crate::{project_root, redact, redact_in, tree};

/// Generous: a refused paper takes milliseconds; this only turns a hang into a failure.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// One test per invalid paper, checking where its error points, plus `CASES` for the
/// snapshot test and the completeness check. A case with a `bug` is ignored (and left out of
/// the snapshots, so none records the wrong behaviour) until the binary is fixed.
macro_rules! refused_at {
    ($( $name:ident: $file:literal => $at:literal
        $(, says: $says:literal)? $(, bug: $bug:literal)?; )*) => {
        /// (file in tests/invalid/, expected `line:col`, known bug)
        const CASES: &[(&str, &str, Option<&str>)] = &[
            $( ($file, $at, refused_at!(@opt $($bug)?)), )*
        ];
        $(
            #[test]
            $(#[ignore = $bug])?
            fn $name() {
                assert_refused_at($file, $at, refused_at!(@opt $($says)?));
            }
        )*
    };
    (@opt $value:literal) => { Some($value) };
    (@opt) => { None };
}

refused_at! {
    // Fences.
    unterminated_fence_is_reported_at_its_opening_line:
        "unterminated-fence.md" => "8:1";
    unterminated_fence_with_crlf_is_reported_at_its_opening_line:
        "unterminated-fence-crlf.md" => "8:1";
    unterminated_outer_fence_is_reported_at_its_own_opening_line:
        "unterminated-fence-nested.md" => "6:1";
    closing_fence_with_no_open_div_is_reported_at_that_fence:
        "closing-fence-no-open-div.md" => "8:1";
    closing_fence_outside_the_blockquote_it_opened_in_is_reported_at_that_fence:
        "closing-fence-wrong-container-blockquote.md" => "9:1", says: "the div opens at 6:3";
    closing_fence_inside_a_list_item_for_a_top_level_div_is_reported_at_that_fence:
        "closing-fence-wrong-container-list.md" => "10:3", says: "the div opens at 6:1";
    closing_fence_with_trailing_text_is_reported_at_the_text:
        "closing-fence-trailing-text.md" => "8:5";
    opening_fence_with_trailing_text_is_reported_at_the_text:
        "opening-fence-trailing-text.md" => "6:12";
    opening_fence_with_two_bare_classes_is_reported_at_the_classes:
        "opening-fence-two-bare-classes.md" => "6:6";
    html_block_running_across_a_fence_line_is_reported_at_its_opening:
        "fence-in-raw-html.md" => "6:1", says: "runs across a fence line";

    // Unknown codes, classes and keys: at the name.
    unknown_code_is_reported_at_the_code:
        "unknown-code.md" => "6:35";
    unknown_code_with_crlf_lines_is_reported_at_the_code:
        "unknown-code-crlf.md" => "6:35";
    unknown_code_with_lone_cr_lines_is_reported_at_the_code:
        "unknown-code-lone-cr.md" => "6:35";
    unknown_code_after_a_tab_counts_the_tab_as_one_column:
        "unknown-code-tab.md" => "6:35";
    unknown_code_after_non_ascii_text_counts_scalar_values:
        "unknown-code-non-ascii.md" => "6:38";
    unknown_code_in_a_file_with_a_bom_is_reported_at_the_code:
        "unknown-code-bom.md" => "6:35";
    unknown_code_after_a_known_one_is_reported_at_the_unknown_one:
        "unknown-code-second-class.md" => "6:33";
    unknown_code_on_a_heading_is_reported_at_the_code:
        "unknown-code-heading.md" => "8:24";
    unknown_code_on_a_div_is_reported_at_the_code:
        "unknown-code-div.md" => "8:12";
    unknown_code_as_a_bare_div_class_is_reported_at_the_code:
        "unknown-code-bare-div.md" => "8:5";
    unknown_code_on_a_link_is_reported_at_the_code:
        "unknown-code-link.md" => "6:51";
    wrong_case_code_is_reported_at_the_code:
        "wrong-case-code.md" => "6:18", says: "did you mean `.S31`?";
    unknown_class_is_reported_at_the_class:
        "unknown-class.md" => "6:15";
    unknown_class_on_a_div_is_reported_at_the_class:
        "unknown-class-div.md" => "6:12";
    unknown_key_is_reported_at_the_key:
        "unknown-key.md" => "6:17", says: "did you mean `reason`?";
    id_without_code_on_a_span_is_reported_at_the_id:
        "id-without-code.md" => "6:15";
    id_without_code_on_a_div_is_reported_at_the_id:
        "id-without-code-div.md" => "6:7";
    reason_without_code_on_a_span_is_reported_at_its_attribute_block:
        "reason-without-code.md" => "6:13";
    reason_without_code_on_a_heading_is_reported_at_its_attribute_block:
        "reason-without-code-heading.md" => "6:12";

    // Attribute blocks that do not parse or attach to nothing.
    attribute_block_that_does_not_parse_is_reported_at_the_bad_item:
        "bad-attribute-block.md" => "6:17";
    unclosed_attribute_block_is_reported_at_its_brace:
        "unclosed-attribute-block.md" => "6:9";
    attribute_block_detached_by_a_space_is_reported_at_its_brace:
        "attribute-detached-space.md" => "6:14";
    attribute_block_with_no_bracket_is_reported_at_its_brace:
        "attribute-no-bracket.md" => "6:12";
    zero_width_space_before_an_attribute_block_is_reported_at_its_brace:
        "zero-width-before-attribute.md" => "6:14", says: "invisible";
    detached_class_without_a_dot_is_reported_at_its_brace:
        "class-without-dot.md" => "6:12", says: "`{.S31}`";
    class_without_a_dot_on_a_span_is_reported_at_the_class:
        "class-without-dot-span.md" => "6:14", says: "`.S31`";

    // Spans crossing blocks: at the `[`.
    span_crossing_paragraphs_is_reported_at_its_bracket:
        "span-crosses-paragraphs.md" => "6:5";
    span_crossing_paragraphs_after_non_ascii_text_is_reported_at_its_bracket:
        "span-crosses-paragraphs-non-ascii.md" => "6:20";
    span_crossing_list_items_is_reported_at_its_bracket:
        "span-crosses-list-items.md" => "6:9";
    span_crossing_into_a_blockquote_is_reported_at_its_bracket:
        "span-crosses-into-blockquote.md" => "6:8";
    span_cut_by_a_table_cell_is_reported_at_its_bracket:
        "span-cut-by-table-cell.md" => "8:3", says: "table cell";

    // Duplicate ids: at the second, in document order, whatever the forms.
    duplicate_id_is_reported_at_the_second:
        "duplicate-id.md" => "8:23", says: "first used at 6:22";
    duplicate_id_with_crlf_lines_is_reported_at_the_second:
        "duplicate-id-crlf.md" => "8:23", says: "first used at 6:22";
    duplicate_non_ascii_id_is_reported_at_the_second:
        "duplicate-id-non-ascii.md" => "8:27", says: "first used at 6:25";
    span_id_clashing_with_an_earlier_heading_id_is_reported_at_the_span:
        "duplicate-id-heading-then-span.md" => "8:28", says: "first used at 6:17";
    heading_id_clashing_with_an_earlier_span_id_is_reported_at_the_heading:
        "duplicate-id-span-then-heading.md" => "8:17", says: "first used at 6:28";
    div_id_clashing_with_an_earlier_span_id_is_reported_at_the_div:
        "duplicate-id-span-then-div.md" => "8:12", says: "first used at 6:28";

    // Raw HTML.
    tag_inside_a_raw_html_block_is_reported_at_the_tag:
        "tag-in-raw-html.md" => "6:16";
    tag_inside_inline_html_is_reported_at_the_tag:
        "tag-in-inline-html.md" => "6:22";
    code_in_a_raw_html_class_is_reported_at_the_code:
        "code-in-raw-html-class.md" => "6:13";
    code_second_in_a_raw_html_class_is_reported_at_the_code:
        "code-in-raw-html-class-second-word.md" => "6:24";

    // Left open at the end of the file: at the opening line.
    open_code_fence_is_reported_at_its_opening_line:
        "open-code-fence.md" => "8:1";
    open_html_comment_is_reported_at_its_opening:
        "open-html-comment.md" => "6:13";

    // Front matter.
    no_front_matter_is_reported_at_line_one:
        "no-front-matter.md" => "1:1";
    empty_file_is_reported_at_line_one:
        "empty-file.md" => "1:1";
    unclosed_front_matter_is_reported_at_its_opening_line:
        "front-matter-unclosed.md" => "1:1";
    missing_title_is_reported_at_line_one:
        "front-matter-missing-title.md" => "1:1";
    missing_classification_is_reported_at_line_one:
        "front-matter-missing-classification.md" => "1:1";
    empty_title_is_reported_at_its_value:
        "front-matter-empty-title.md" => "2:8";
    unknown_front_matter_key_is_reported_at_the_key:
        "front-matter-unknown-key.md" => "3:1", says: "did you mean `classification`?";
    duplicate_front_matter_key_is_reported_at_the_second:
        "front-matter-duplicate-key.md" => "4:1";
    duplicate_front_matter_key_with_lone_cr_lines_is_reported_at_the_second:
        "front-matter-duplicate-key-lone-cr.md" => "4:1";
    unknown_classification_is_reported_at_its_value:
        "front-matter-unknown-classification.md" => "3:17", says: "OFFICIAL-SENSITIVE";
    tag_in_a_front_matter_value_is_reported_on_its_line:
        "front-matter-tag-in-value.md" => "2:8";
    broken_front_matter_yaml_is_reported_at_the_problem:
        "front-matter-bad-yaml.md" => "2:8";
}

fn invalid_dir() -> PathBuf {
    project_root().join("tests").join("invalid")
}

/// The first line of stderr must locate the error exactly; a snippet (numbered line, carets)
/// and a hint must follow, saying `says` if given; nothing may be written.
fn assert_refused_at(file: &str, at: &str, says: Option<&str>) {
    let out = TempDir::new().unwrap();
    let relative = format!("tests/invalid/{file}");
    let output = redact()
        .arg("build")
        .arg(&relative)
        .arg("--out")
        .arg(out.path())
        .timeout(TIME_LIMIT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{file}: exit status\n{stderr}"
    );
    assert_located(&stderr, &relative, at);
    if let Some(says) = says {
        assert!(
            stderr.contains(says),
            "{file}: expected {says:?} in:\n{stderr}"
        );
    }
    assert_eq!(
        written(out.path()),
        Vec::<String>::new(),
        "{file}: something was written"
    );
}

/// `stderr` opens with `path:at: error: `, then the source line, carets and a hint.
fn assert_located(stderr: &str, path: &str, at: &str) {
    let mut lines = stderr.lines();
    let header = lines.next().unwrap_or("");
    let expected = format!("{path}:{at}: error: ");
    assert!(
        header.starts_with(&expected),
        "expected the error at {expected:?}, got:\n{stderr}"
    );
    let line = at.split(':').next().unwrap();
    let snippet = lines.next().unwrap_or("");
    assert!(
        snippet.starts_with(&format!("{line} | ")),
        "expected the source line after the header, got:\n{stderr}"
    );
    let carets = lines.next().unwrap_or("");
    assert!(
        carets.contains('^'),
        "expected carets under the source line, got:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start().starts_with("= help: ")),
        "expected a hint, got:\n{stderr}"
    );
}

/// The files under `out`, relative, or none if it was never created.
fn written(out: &Path) -> Vec<String> {
    if !out.exists() {
        return Vec::new();
    }
    tree(out).into_iter().map(|(path, _)| path).collect()
}

fn run_build(cmd: &mut assert_cmd::Command, args: &[&str]) -> Output {
    cmd.arg("build")
        .args(args)
        .timeout(TIME_LIMIT)
        .output()
        .unwrap()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn invalid_papers_are_refused_and_write_nothing() {
    let root = project_root().canonicalize().unwrap();
    let mut problems = Vec::new();
    insta::glob!("../invalid", "*.md", |path: &Path| {
        let file = path.file_name().unwrap().to_str().unwrap();
        let Some(&(_, _, bug)) = CASES.iter().find(|c| c.0 == file) else {
            problems.push(format!("{file}: no expected location in CASES"));
            return;
        };
        if bug.is_some() {
            // Its own ignored test says what is wrong; a snapshot now would record it.
            return;
        }
        let relative = path.strip_prefix(&root).unwrap();
        let out = TempDir::new().unwrap();
        let output = redact()
            .arg("build")
            .arg(relative)
            .arg("--out")
            .arg(out.path())
            .timeout(TIME_LIMIT)
            .output()
            .unwrap();
        if output.status.code() != Some(2) {
            problems.push(format!("{file}: exit status {:?}", output.status.code()));
        }
        let written = tree(out.path());
        if !written.is_empty() {
            let names: Vec<_> = written.into_iter().map(|(name, _)| name).collect();
            problems.push(format!("{file}: wrote {names:?}"));
        }
        insta::assert_snapshot!(stderr_of(&output));
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_invalid_paper_has_an_expected_location() {
    let on_disk: BTreeSet<String> = fs::read_dir(invalid_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".md"))
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(on_disk, listed);
}

/// A valid paper with `body` after a four-line front matter (so the body starts on line 6).
fn paper(title: &str, body: &str) -> String {
    format!("---\ntitle: {title}\nclassification: OFFICIAL-SENSITIVE\n---\n\n{body}")
}

/// Builds `name` holding `bytes` in a fresh folder, run from that folder so the path in the
/// error is just `name`.
fn build_generated(name: &str, bytes: &[u8]) -> (TempDir, Output) {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join(name), bytes).unwrap();
    let output = run_build(&mut redact_in(dir.path()), &[name, "--out", "out"]);
    (dir, output)
}

fn assert_generated_refused_at(name: &str, bytes: &[u8], at: &str) {
    let (dir, output) = build_generated(name, bytes);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_located(&stderr, name, at);
    assert_eq!(written(&dir.path().join("out")), Vec::<String>::new());
}

#[test]
fn invalid_utf8_is_reported_at_the_first_bad_byte() {
    let mut bytes = paper("Invalid UTF-8", "").into_bytes();
    bytes.extend_from_slice(b"Caf\xc3\xa9 and \xff here\n");
    assert_generated_refused_at("invalid-utf8.md", &bytes, "6:10");
}

#[test]
fn invalid_utf8_is_refused_naming_the_file() {
    let mut bytes = paper("Invalid UTF-8", "").into_bytes();
    bytes.extend_from_slice(b"Caf\xc3\xa9 and \xff here\n");
    let (dir, output) = build_generated("invalid-utf8.md", &bytes);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("invalid-utf8.md:"), "{stderr}");
    assert!(stderr.contains("UTF-8"), "{stderr}");
    assert_eq!(written(&dir.path().join("out")), Vec::<String>::new());
}

fn nested_divs(depth: usize) -> String {
    let opens = "::: {.S31}\n".repeat(depth);
    let closes = ":::\n".repeat(depth);
    paper("Nested divs", &format!("{opens}Deep.\n{closes}"))
}

#[test]
fn divs_nested_deeper_than_256_are_refused_at_the_257th_fence() {
    // Fence k opens on line 5 + k.
    assert_generated_refused_at("deep.md", nested_divs(300).as_bytes(), "262:1");
}

#[test]
fn blockquotes_nested_deeper_than_256_are_refused_at_the_257th() {
    let text = paper("Nested quotes", &format!("{} Deep.\n", ">".repeat(300)));
    assert_generated_refused_at("deep.md", text.as_bytes(), "6:257");
}

#[test]
fn spans_nested_deeper_than_256_are_refused_at_the_257th() {
    let body = format!("{}Deep.{}\n", "[".repeat(300), "]{.S31}".repeat(300));
    assert_generated_refused_at("deep.md", paper("Nested spans", &body).as_bytes(), "6:257");
}

#[test]
fn nesting_of_256_divs_is_built() {
    let (dir, output) = build_generated("deep.md", nested_divs(256).as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(dir.path().join("out/public/deep.md").is_file());
}

#[test]
fn pathological_input_neither_crashes_nor_hangs() {
    let cases = [
        ("brackets", format!("{}\n", "[".repeat(100_000))),
        ("braces", format!("{}\n", "{.S31 ".repeat(20_000))),
        (
            "emphasis",
            format!("{}x{}\n", "*".repeat(50_000), "*".repeat(50_000)),
        ),
        (
            "links",
            format!("{}x{}\n", "[a](".repeat(3_000), ")".repeat(3_000)),
        ),
        (
            "lists",
            (0..300)
                .map(|i| format!("{}- item\n", "  ".repeat(i)))
                .collect(),
        ),
        ("fences", ":::\n".repeat(10_000)),
        ("comments", "<!--".repeat(20_000)),
    ];
    for (name, body) in cases {
        let (_dir, output) = build_generated("p.md", paper(name, &body).as_bytes());
        let stderr = stderr_of(&output);
        assert!(
            matches!(output.status.code(), Some(0 | 2)),
            "{name}: exit status {:?}\n{stderr}",
            output.status.code()
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

// Whole runs: other papers, stale copies, paths and usage.

const GOOD: &str = "A [secret]{.S31} here.\n";
const BAD: &str = "A [secret]{.S99} here.\n";

fn copies(out: &Path, name: &str) -> Vec<PathBuf> {
    ["council", "public"]
        .iter()
        .flat_map(|audience| {
            ["md", "html"].map(|ext| out.join(audience).join(format!("{name}.{ext}")))
        })
        .collect()
}

/// Every file under `out` whose name is `name` with any extension.
fn files_named(out: &Path, name: &str) -> Vec<String> {
    written(out)
        .into_iter()
        .filter(|path| {
            let file = path.rsplit('/').next().unwrap_or(path);
            file.split('.').next() == Some(name)
        })
        .collect()
}

#[test]
fn failed_paper_does_not_stop_the_others() {
    let dir = TempDir::new().unwrap();
    fs::create_dir(dir.path().join("papers")).unwrap();
    fs::write(dir.path().join("papers/bad.md"), paper("Bad", BAD)).unwrap();
    fs::write(dir.path().join("papers/good.md"), paper("Good", GOOD)).unwrap();
    let output = run_build(&mut redact_in(dir.path()), &["papers", "--out", "out"]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("papers/bad.md:6:13: error: "),
        "{stderr}"
    );
    let out = dir.path().join("out");
    for copy in copies(&out, "good") {
        assert!(copy.is_file(), "missing {}", copy.display());
    }
    assert_eq!(files_named(&out, "bad"), Vec::<String>::new());
}

#[test]
fn stale_copies_are_removed_when_a_paper_later_fails() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    fs::write(dir.path().join("x.md"), paper("X", GOOD)).unwrap();
    let first = run_build(&mut redact_in(dir.path()), &["x.md", "--out", "out"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
    for copy in copies(&out, "x") {
        assert!(
            copy.is_file(),
            "first build did not write {}",
            copy.display()
        );
    }
    fs::write(dir.path().join("x.md"), paper("X", BAD)).unwrap();
    let second = run_build(&mut redact_in(dir.path()), &["x.md", "--out", "out"]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr_of(&second));
    assert_eq!(files_named(&out, "x"), Vec::<String>::new());
}

#[test]
fn missing_path_is_a_one_line_error_naming_it() {
    let dir = TempDir::new().unwrap();
    let output = run_build(&mut redact_in(dir.path()), &["nope.md", "--out", "out"]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].starts_with("nope.md: error: "), "{stderr}");
    assert_eq!(written(&dir.path().join("out")), Vec::<String>::new());
}

#[test]
fn out_inside_an_input_folder_is_refused_before_writing() {
    let dir = TempDir::new().unwrap();
    fs::create_dir(dir.path().join("papers")).unwrap();
    fs::write(dir.path().join("papers/good.md"), paper("Good", GOOD)).unwrap();
    let before = tree(dir.path());
    let output = run_build(
        &mut redact_in(dir.path()),
        &["papers", "--out", "papers/out"],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("papers: error: "), "{stderr}");
    assert!(!dir.path().join("papers/out").exists(), "{stderr}");
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn two_papers_with_the_same_output_name_are_refused_before_writing() {
    for args in [["a", "b"], ["a/x.md", "b/x.md"]] {
        let dir = TempDir::new().unwrap();
        for folder in ["a", "b"] {
            fs::create_dir(dir.path().join(folder)).unwrap();
            fs::write(dir.path().join(folder).join("x.md"), paper("X", GOOD)).unwrap();
        }
        // A good paper walked first must not be written either: the clash stops the run.
        fs::write(dir.path().join("a/first.md"), paper("First", GOOD)).unwrap();
        let output = run_build(
            &mut redact_in(dir.path()),
            &[args[0], args[1], "--out", "out"],
        );
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("b/x.md: error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains("a/x.md"),
            "{args:?}: the first is not named: {stderr}"
        );
        assert_eq!(
            written(&dir.path().join("out")),
            Vec::<String>::new(),
            "{args:?}"
        );
    }
}

#[test]
fn paper_reached_twice_is_built_once_not_refused_as_a_clash() {
    let dir = TempDir::new().unwrap();
    fs::create_dir(dir.path().join("a")).unwrap();
    fs::write(dir.path().join("a/x.md"), paper("X", GOOD)).unwrap();
    let output = run_build(&mut redact_in(dir.path()), &["a", "a/x.md", "--out", "out"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    for copy in copies(&dir.path().join("out"), "x") {
        assert!(copy.is_file(), "missing {}", copy.display());
    }
}

#[cfg(unix)]
#[test]
fn symlinked_paper_is_an_error_for_that_path_only() {
    let dir = TempDir::new().unwrap();
    fs::create_dir(dir.path().join("papers")).unwrap();
    fs::write(dir.path().join("papers/good.md"), paper("Good", GOOD)).unwrap();
    std::os::unix::fs::symlink("good.md", dir.path().join("papers/link.md")).unwrap();

    let output = run_build(&mut redact_in(dir.path()), &["papers", "--out", "out"]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("papers/link.md: error: "), "{stderr}");
    let out = dir.path().join("out");
    for copy in copies(&out, "good") {
        assert!(copy.is_file(), "missing {}", copy.display());
    }
    assert_eq!(files_named(&out, "link"), Vec::<String>::new());

    let output = run_build(
        &mut redact_in(dir.path()),
        &["papers/link.md", "--out", "out2"],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("papers/link.md: error: "), "{stderr}");
    assert_eq!(written(&dir.path().join("out2")), Vec::<String>::new());
}

/// A copy of the project's rules/ without `missing`.
fn rules_without(dir: &Path, missing: &str) -> PathBuf {
    let rules = dir.join("rules-copy");
    fs::create_dir(&rules).unwrap();
    for entry in fs::read_dir(project_root().join("rules")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != missing {
            fs::copy(entry.path(), rules.join(entry.file_name())).unwrap();
        }
    }
    rules
}

#[test]
fn incomplete_rules_folder_is_refused_before_writing() {
    for missing in ["audiences.yaml", "exemptions.yaml", "markings.yaml"] {
        let dir = TempDir::new().unwrap();
        rules_without(dir.path(), missing);
        fs::write(dir.path().join("good.md"), paper("Good", GOOD)).unwrap();
        let output = run_build(
            &mut redact_in(dir.path()),
            &["good.md", "--out", "out", "--rules", "rules-copy"],
        );
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{missing}: {stderr}");
        assert!(stderr.contains(missing), "{missing} is not named: {stderr}");
        assert_eq!(
            written(&dir.path().join("out")),
            Vec::<String>::new(),
            "{missing}"
        );
    }
}

#[test]
fn incomplete_templates_folder_is_refused_before_writing() {
    let dir = TempDir::new().unwrap();
    fs::create_dir(dir.path().join("templates-copy")).unwrap();
    fs::write(dir.path().join("good.md"), paper("Good", GOOD)).unwrap();
    let output = run_build(
        &mut redact_in(dir.path()),
        &["good.md", "--out", "out", "--templates", "templates-copy"],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("templates-copy"), "{stderr}");
    assert_eq!(written(&dir.path().join("out")), Vec::<String>::new());
}

#[test]
fn audience_named_audit_is_refused_before_writing() {
    let dir = TempDir::new().unwrap();
    let rules = rules_without(dir.path(), "");
    let audiences = fs::read_to_string(rules.join("audiences.yaml")).unwrap();
    assert!(audiences.contains("name: public"));
    fs::write(
        rules.join("audiences.yaml"),
        audiences.replace("name: public", "name: audit"),
    )
    .unwrap();
    fs::write(dir.path().join("good.md"), paper("Good", GOOD)).unwrap();
    let output = run_build(
        &mut redact_in(dir.path()),
        &["good.md", "--out", "out", "--rules", "rules-copy"],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("rules-copy/audiences.yaml:"), "{stderr}");
    assert_eq!(written(&dir.path().join("out")), Vec::<String>::new());
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("good.md"), paper("Good", GOOD)).unwrap();
    let output = run_build(
        &mut redact_in(dir.path()),
        &["good.md", "--out", "out", "--frobnicate"],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--frobnicate"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(written(&dir.path().join("out")), Vec::<String>::new());
}
