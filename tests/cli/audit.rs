//! The diff audit and FOI release pack (issue 4): audit files and their marking, the JSON and
//! HTML an FOI officer reads, the release schedule, neither-confirm-nor-deny, rules errors,
//! and the proof never refusing a paper that was rendered right.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::prelude::*;

use redact::parse::parse_paper;
use redact::pipeline::build_paper;
use redact::redact::copy_for;
use redact::render::{Templates, html_page_with_schedule, markdown_with_schedule};
use redact::rules::Rules;
use redact::schedule::{Release, schedule_for};

use crate::{fixtures, project_root, redact, redact_in, tree};

/// A paper with every shape the audit reports: span with reason and pit, an absolute code,
/// a div with a span nested in it, a heading section, a comment, and text to escape.
const SAMPLE: &str = r#"---
title: Audit sample <script>alert(1)</script> & "quotes"
classification: OFFICIAL-SENSITIVE
reference: CCC/2024/099
---

<!-- Author note: check the figures & <confirm> them -->

Work led to [the arrest of 12 people]{.S31 .S24 #r-arrests reason="identifies <b>an operation</b>" pit="A live operation; disclosure would prejudice it."}
and a review with [the security service]{.S23}.

::: {.S40 reason="names an officer"}
Inspector Jane Doe led the review, [with support from the Eastmarch unit]{.S31}.
:::

## Future operations {.S31}

Plans for the autumn.

## Next steps

Council is asked to note the paper.
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

/// A rules folder: the project's markings and exemptions, and these audiences.
fn rules_dir(dir: &Path, audiences: &str) -> PathBuf {
    let rules = dir.join("rules");
    fs::create_dir_all(&rules).unwrap();
    for file in ["markings.yaml", "exemptions.yaml"] {
        fs::copy(project_root().join("rules").join(file), rules.join(file)).unwrap();
    }
    fs::write(rules.join("audiences.yaml"), audiences).unwrap();
    rules
}

const NCND_AUDIENCES: &str = "audiences:
  - name: council
    marking: source
    withholds: []
    highlight: true
  - name: public-ncnd
    marking: OFFICIAL
    notice: Released under the Freedom of Information Act 2000
    withholds: all
    combine: [[S23, S24]]
    schedule: true
";

#[test]
fn audit_json_and_html_match_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    redact_in(dir.path())
        .args(["build", "sample.md", "--out", "out"])
        .args(["--request", "FOI/2024/117", "--date", "2024-05-01"])
        .assert()
        .success();
    let json = fs::read_to_string(dir.path().join("out/audit/sample.json")).unwrap();
    let html = fs::read_to_string(dir.path().join("out/audit/sample.html")).unwrap();
    insta::assert_snapshot!("audit.json", json);
    insta::assert_snapshot!("audit.html", html);
}

#[test]
fn audit_is_written_for_each_paper_beside_the_copies_and_never_in_an_audience_folder() {
    let out = tempfile::tempdir().unwrap();
    redact()
        .args(["build", "fixtures", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let files: Vec<String> = tree(out.path()).into_iter().map(|(p, _)| p).collect();
    for entry in fs::read_dir(fixtures()).unwrap() {
        let stem = entry.unwrap().path();
        if stem.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let stem = stem.file_stem().unwrap().to_str().unwrap();
        for ext in ["json", "html"] {
            assert!(
                files.contains(&format!("audit/{stem}.{ext}")),
                "{stem}.{ext}"
            );
        }
    }
    for (rel, bytes) in tree(out.path()) {
        let text = String::from_utf8_lossy(&bytes);
        if !rel.starts_with("audit/") {
            assert!(!text.contains("\"schema\": 1"), "{rel} holds an audit");
            assert!(!text.contains("Redaction audit"), "{rel} holds an audit");
        }
    }
    let json: serde_json::Value = serde_json::from_slice(
        &fs::read(out.path().join("audit/01-soc-lead-continuation.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(
        json["paper"]["path"],
        "fixtures/01-soc-lead-continuation.md"
    );
    assert_eq!(json["rules"]["source"], "folder");
    assert_eq!(json["rules"]["path"], "rules");
    assert_eq!(json["templates"]["path"], "templates");
    assert_eq!(json["release"]["date"], serde_json::Value::Null);
    assert!(
        json["proof"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["matches"] == true)
    );
}

#[test]
fn audit_carries_the_highest_marking_of_the_paper_and_its_audiences() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    let rules = rules_dir(
        dir.path(),
        "audiences:
  - name: council
    marking: source
    withholds: []
  - name: partners
    marking: SECRET
    withholds: [S23]
  - name: public
    marking: OFFICIAL
    withholds: all
",
    );
    redact_in(dir.path())
        .args(["build", "sample.md", "--out", "out", "--rules"])
        .arg(&rules)
        .assert()
        .success();
    let html = fs::read_to_string(dir.path().join("out/audit/sample.html")).unwrap();
    assert_eq!(html.matches("<p class=\"banner\">SECRET</p>").count(), 2);
    let json = fs::read_to_string(dir.path().join("out/audit/sample.json")).unwrap();
    assert!(json.contains("\"marking\": \"SECRET\""));

    // With only the defaults it is the paper's own classification.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "sample.md", SAMPLE);
    redact_in(plain.path())
        .args(["build", "sample.md", "--out", "out"])
        .assert()
        .success();
    let html = fs::read_to_string(plain.path().join("out/audit/sample.html")).unwrap();
    assert_eq!(
        html.matches("<p class=\"banner\">OFFICIAL-SENSITIVE</p>")
            .count(),
        2
    );
}

#[test]
fn audit_html_escapes_paper_text_and_highlights_the_withheld_passage() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    redact_in(dir.path())
        .args(["build", "sample.md", "--out", "out"])
        .assert()
        .success();
    let html = fs::read_to_string(dir.path().join("out/audit/sample.html")).unwrap();
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<b>an operation"));
    assert!(!html.contains("<confirm>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(html.contains("<mark class=\"withheld\">[the arrest of 12 people]"));
    assert!(html.contains("<span class=\"marker\">**S31 &amp; S24**</span>"));
    // The summary links each code to its redactions.
    assert!(html.contains("<a href=\"#redaction-1\">1</a>"));
    assert!(html.contains("id=\"redaction-1\""));
}

#[test]
fn public_copy_ends_with_the_schedule_of_exemptions_in_section_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    redact_in(dir.path())
        .args(["build", "sample.md", "--out", "out"])
        .args(["--request", "FOI/2024/117", "--date", "2024-05-01"])
        .assert()
        .success();
    let md = fs::read_to_string(dir.path().join("out/public/sample.md")).unwrap();
    let schedule = md
        .split_once("\n---\n\n## Schedule of exemptions\n\n")
        .unwrap()
        .1;
    assert_eq!(
        schedule,
        "FOI request reference: FOI/2024/117. Release date: 2024-05-01.\n\n\
         Information has been withheld from this copy under the following exemptions of the \
         Freedom of Information Act 2000.\n\n\
         | Section | Exemption | Passages withheld |\n\
         | --- | --- | --- |\n\
         | 23 | Information supplied by, or relating to, bodies dealing with security matters | 1 |\n\
         | 24 | National security | 1 |\n\
         | 31 | Law enforcement | 3 |\n\
         | 40 | Personal information | 1 |\n"
    );
    let html = fs::read_to_string(dir.path().join("out/public/sample.html")).unwrap();
    let section = html
        .split_once("<section class=\"redact-schedule\">")
        .unwrap()
        .1;
    assert!(
        section.contains("FOI request reference: FOI&#x2f;2024&#x2f;117.")
            || section.contains("FOI request reference: FOI/2024/117.")
    );
    assert!(section.contains("<tr><td>31</td><td>Law enforcement</td><td>3</td></tr>"));
    assert!(section.find("<td>23</td>") < section.find("<td>40</td>"));
    // The council copy has none: it is the source byte for byte.
    let council = fs::read_to_string(dir.path().join("out/council/sample.md")).unwrap();
    assert_eq!(council, SAMPLE);
    let json = fs::read_to_string(dir.path().join("out/audit/sample.json")).unwrap();
    assert!(json.contains("\"request\": \"FOI/2024/117\""));
    assert!(json.contains("\"date\": \"2024-05-01\""));
}

#[test]
fn audience_can_turn_the_schedule_off() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    let rules = rules_dir(
        dir.path(),
        "audiences:
  - name: council
    marking: source
    withholds: []
  - name: public
    marking: OFFICIAL
    withholds: all
    schedule: false
",
    );
    redact_in(dir.path())
        .args(["build", "sample.md", "--out", "out", "--rules"])
        .arg(&rules)
        .assert()
        .success();
    for ext in ["md", "html"] {
        let text = fs::read_to_string(dir.path().join(format!("out/public/sample.{ext}"))).unwrap();
        assert!(!text.contains("Schedule of exemptions"), "{ext}");
    }
}

#[test]
fn bad_release_date_or_request_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    for args in [
        ["--date", "2024-02-30"],
        ["--date", "1/5/2024"],
        ["--date", "2024-5-01"],
        ["--request", "FOI\n117"],
        ["--request", " "],
    ] {
        let output = redact_in(dir.path())
            .args(["build", "sample.md", "--out", "out"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(args[0]),
            "{args:?}"
        );
        assert!(!dir.path().join("out").exists(), "{args:?} wrote output");
    }
}

#[test]
fn qualified_exemption_without_public_interest_summary_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.md",
        "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\
         One [two]{.S31} and [three]{.S23} and [four]{.S24 pit=\"weighed\"}.\n",
    );
    let output = redact_in(dir.path())
        .args(["build", "p.md", "--out", "out"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("p.md:5:5: warning: redaction 1 "),
        "{stderr}"
    );
    assert!(warnings[0].contains("S31"), "{stderr}");

    // A default in the rules answers it, and the audit says where the summary came from.
    let rules = rules_dir(dir.path(), NCND_AUDIENCES);
    let exemptions = fs::read_to_string(rules.join("exemptions.yaml"))
        .unwrap()
        .replace(
            "title: \"Law enforcement\" }",
            "title: \"Law enforcement\", pit: \"Prejudice to enforcement outweighs disclosure.\" }",
        );
    fs::write(rules.join("exemptions.yaml"), exemptions).unwrap();
    let output = redact_in(dir.path())
        .args(["build", "p.md", "--out", "out2", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));
    let json = fs::read_to_string(dir.path().join("out2/audit/p.json")).unwrap();
    assert!(json.contains("\"pit_source\": \"rules\""));
    assert!(json.contains("\"pit_source\": \"attribute\""));
}

/// Swapping S23 and S24 in a paper changes no byte of any public-ncnd output, while the
/// council copy and the audit do tell them apart.
#[test]
fn combined_audience_never_distinguishes_s23_from_s24() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_dir(dir.path(), NCND_AUDIENCES);
    let paper = |a: &str, b: &str| {
        format!(
            "---\ntitle: NCND\nclassification: SECRET\n---\n\
             Support came from [the agency]{{.{a}}} and [its partner]{{.{b} .S31}}.\n\n\
             ::: {{.{a}}}\nA withheld block.\n:::\n\n\
             ## Liaison {{.{b}}}\n\nDetail.\n\n## Public\n\nText.\n"
        )
    };
    write(dir.path(), "a/paper.md", &paper("S23", "S24"));
    write(dir.path(), "b/paper.md", &paper("S24", "S23"));
    for side in ["a", "b"] {
        redact_in(dir.path())
            .args([
                "build",
                &format!("{side}/paper.md"),
                "--out",
                &format!("out-{side}"),
            ])
            .arg("--rules")
            .arg(&rules)
            .assert()
            .success();
    }
    let read =
        |side: &str, rel: &str| fs::read(dir.path().join(format!("out-{side}/{rel}"))).unwrap();
    for rel in ["public-ncnd/paper.md", "public-ncnd/paper.html"] {
        assert_eq!(read("a", rel), read("b", rel), "{rel} tells S23 from S24");
        let text = String::from_utf8(read("a", rel)).unwrap();
        let alone = text.replace("S23 / S24", "");
        assert!(!alone.contains("S23") && !alone.contains("S24"), "{rel}");
        assert!(!text.contains("data-codes"), "{rel}");
    }
    assert_ne!(read("a", "council/paper.md"), read("b", "council/paper.md"));
    assert_ne!(read("a", "audit/paper.json"), read("b", "audit/paper.json"));
    let md = String::from_utf8(read("a", "public-ncnd/paper.md")).unwrap();
    assert!(md.contains("Support came from **S23 / S24** and **S23 / S24 & S31**."));
    assert!(md.contains(
        "| 23 / 24 | Information supplied by, or relating to, bodies dealing with security \
         matters / National security | 4 |"
    ));
    let html = String::from_utf8(read("a", "public-ncnd/paper.html")).unwrap();
    assert!(html.contains("aria-label=\"Withheld under S23 / S24\""));
}

/// Builds a paper with a rules folder whose audiences are `audiences`; returns the exit
/// status, stderr and whether anything was written.
fn build_with_audiences(audiences: &str) -> (Option<i32>, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sample.md", SAMPLE);
    let rules = rules_dir(dir.path(), audiences);
    let output = redact_in(dir.path())
        .args(["build", "sample.md", "--out", "out", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    let wrote = dir.path().join("out").exists() && !tree(&dir.path().join("out")).is_empty();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        wrote,
    )
}

#[test]
fn unknown_code_in_withholds_is_refused_at_its_place_in_the_rules() {
    let (code, stderr, wrote) = build_with_audiences(
        "audiences:
  - name: council
    marking: source
    withholds: []
  - name: public
    marking: OFFICIAL
    withholds: [S31, S99]
",
    );
    assert_eq!(code, Some(2));
    assert!(!wrote);
    assert!(
        stderr.contains("rules/audiences.yaml:7:22: error: unknown exemption code `S99`"),
        "{stderr}"
    );
}

#[test]
fn unknown_code_in_combine_is_refused_at_its_place_in_the_rules() {
    let (code, stderr, wrote) = build_with_audiences(
        "audiences:
  - name: council
    marking: source
    withholds: []
  - name: public-ncnd
    marking: OFFICIAL
    withholds: all
    combine: [[S23, S42A]]
",
    );
    assert_eq!(code, Some(2));
    assert!(!wrote);
    assert!(
        stderr.contains(
            "rules/audiences.yaml:8:21: error: combined marker names unknown exemption code `S42A`"
        ),
        "{stderr}"
    );
}

#[test]
fn audience_with_no_marking_is_refused_at_that_audience() {
    let (code, stderr, wrote) = build_with_audiences(
        "audiences:
  - name: council
    marking: source
    withholds: []
  - name: public
    withholds: all
",
    );
    assert_eq!(code, Some(2));
    assert!(!wrote);
    assert!(
        stderr.contains("rules/audiences.yaml:5:11: error: audience `public` has no marking"),
        "{stderr}"
    );
}

fn default_rules() -> Rules {
    Rules::embedded().unwrap()
}

/// Generated papers: public prose with duplicate and blank lines, comments, and redactions of
/// every form, in LF or CRLF, with or without a final newline, so the diff has every chance to
/// align on the wrong line.
fn generated_paper() -> impl Strategy<Value = String> {
    let line = prop::sample::select(vec![
        "Public text.",
        "",
        "Public text.",
        "- a bullet",
        "- [withheld bullet]{.S31}",
        "> quoted [secret]{.S24} words",
        "> ::: S31\n> quoted div\n> :::",
        "<!-- a note -->",
        "Text <!-- inline note --> more.",
        "A sentence with [a span]{.S40} inside.",
        "| a | [b]{.S31} |",
        "::: {.S23}\nDiv text.\n\nMore text.\n:::",
        ":::: {.S31}\nOuter.\n::: {.S27}\nInner.\n:::\n::::",
        "## Section {.S31}\n\nSection text.\n\n## Open",
        "### Plain heading",
        "- item\n\n  ::: S40\n  In a list item.\n  :::",
        "**bold**",
        "---",
    ]);
    (
        prop::collection::vec(line, 1..24),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_newline)| {
            let mut out = String::from("---\ntitle: G\nclassification: OFFICIAL-SENSITIVE\n---\n");
            out.push_str(&lines.join("\n"));
            if final_newline {
                out.push('\n');
            }
            if crlf { out.replace('\n', "\r\n") } else { out }
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    /// The proof refuses only what was rendered wrong: a correct build is never a finding.
    #[test]
    fn proof_accepts_every_correctly_rendered_paper(text in generated_paper()) {
        let rules = default_rules();
        let templates = Templates::embedded().unwrap();
        if parse_paper(&text, &rules).is_ok() {
            let built = build_paper(
                Path::new("g.md"), "g", &text, &rules, &templates, &Release::default(),
            ).unwrap();
            prop_assert!(built.findings.is_empty(), "{:?}\n{text}", built.findings);
        }
    }
}

/// Figures for the largest fixture: redactions, words withheld per code, and the time to
/// build with and without the audit in one run. `cargo test --release --test cli
/// audit_cost -- --ignored --nocapture`
#[test]
#[ignore = "measurement, not a check"]
fn audit_cost_on_the_largest_fixture() {
    let path = fixtures().join("01-soc-lead-continuation.md");
    let text = fs::read_to_string(&path).unwrap();
    let rules = redact::source::load_rules(Some(&project_root().join("rules"))).unwrap();
    let templates = Templates::embedded().unwrap();
    let release = Release::default();
    let runs = 200;

    let without = Instant::now();
    for _ in 0..runs {
        let paper = parse_paper(&text, &rules).unwrap();
        for audience in &rules.audiences {
            let copy = copy_for(&paper, &text, audience);
            let schedule = schedule_for(&paper, audience, &rules, &release);
            std::hint::black_box(markdown_with_schedule(&copy, schedule.as_ref()));
            std::hint::black_box(
                html_page_with_schedule(&copy, &templates, schedule.as_ref()).unwrap(),
            );
        }
    }
    let without = without.elapsed() / runs;

    let with = Instant::now();
    let mut built = None;
    for _ in 0..runs {
        built = Some(build_paper(&path, "01", &text, &rules, &templates, &release).unwrap());
    }
    let with = with.elapsed() / runs;

    let built = built.unwrap();
    assert!(built.findings.is_empty());
    let json = built
        .outputs
        .iter()
        .find(|o| o.relative.ends_with("01.json"))
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&json.bytes).unwrap();
    println!(
        "redactions: {}",
        audit["redactions"].as_array().unwrap().len()
    );
    println!("body words: {}", audit["totals"]["body_words"]);
    for code in audit["totals"]["codes"].as_array().unwrap() {
        println!(
            "{}: {} redactions, {} words ({})",
            code["code"], code["redactions"], code["words"], code["share"]
        );
    }
    for a in audit["totals"]["audiences"].as_array().unwrap() {
        println!(
            "{}: {} withheld, {} markers, {} words ({})",
            a["audience"], a["redactions"], a["markers"], a["words"], a["share"]
        );
    }
    println!("build without audit: {without:?} per paper; with audit: {with:?} per paper");
}
