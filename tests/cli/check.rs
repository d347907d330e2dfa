//! `redact check`'s scans, driven through the library as the command drives them: papers
//! parsed, public copies rendered, then [`check_papers`]. Copies are built leak-free, so the
//! leak scan is tested on copies altered after the build (the only way a leak gets there
//! short of a bug), and the fixtures show that honest papers give no finding at all.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use redact::check::{
    CheckInput, CheckOptions, Finding, PublicOutput, check_papers, public_outputs,
};
use redact::deny::DenyList;
use redact::model::Paper;
use redact::parse::parse_paper;
use redact::records;
use redact::render::Templates;
use redact::report;
use redact::rules::Rules;
use redact::schedule::Release;
use redact::source::{load_rules, load_templates};

use crate::{fixtures, project_root};

struct Loaded {
    path: PathBuf,
    name: String,
    text: String,
    paper: Paper,
}

struct Setup {
    rules: Rules,
    templates: Templates,
    deny: DenyList,
    release: Release,
}

/// The project's own rules, templates and deny-list, as `check` run from the root uses.
fn setup() -> Setup {
    let root = project_root();
    let deny_path = Path::new("rules").join("deny.yaml");
    let deny_text = std::fs::read_to_string(root.join(&deny_path)).unwrap();
    Setup {
        rules: load_rules(Some(&root.join("rules"))).unwrap(),
        templates: load_templates(Some(&root.join("templates"))).unwrap(),
        deny: DenyList::parse(&deny_path, &deny_text).unwrap(),
        release: Release::default(),
    }
}

/// Every `*.md` under `dir` that parses, sorted, named relative to the project root.
fn load_dir(dir: &Path, rules: &Rules) -> Vec<Loaded> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let Ok(paper) = parse_paper(&text, rules) else {
            continue;
        };
        let path = entry
            .path()
            .strip_prefix(project_root())
            .unwrap()
            .to_path_buf();
        let name = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .with_extension("")
            .to_string_lossy()
            .into_owned();
        out.push(Loaded {
            path,
            name,
            text,
            paper,
        });
    }
    out
}

fn loaded(name: &str, text: &str, rules: &Rules) -> Loaded {
    Loaded {
        path: PathBuf::from(format!("{name}.md")),
        name: name.to_string(),
        text: text.to_string(),
        paper: parse_paper(text, rules).unwrap(),
    }
}

/// Checks `papers`, letting `alter` change each paper's public copies after they are built.
fn run_check(
    setup: &Setup,
    papers: &[Loaded],
    deny: &DenyList,
    alter: impl Fn(&str, &mut PublicOutput),
) -> Vec<Finding> {
    let options = CheckOptions {
        templates: &setup.templates,
        release: &setup.release,
    };
    let outputs: Vec<Vec<PublicOutput>> = papers
        .iter()
        .map(|p| {
            let mut outputs = public_outputs(&p.paper, &p.text, &setup.rules, &options).unwrap();
            for output in &mut outputs {
                alter(&p.name, output);
            }
            outputs
        })
        .collect();
    let inputs: Vec<CheckInput> = papers
        .iter()
        .zip(&outputs)
        .map(|(p, outputs)| CheckInput {
            path: &p.path,
            name: &p.name,
            text: &p.text,
            paper: &p.paper,
            outputs,
        })
        .collect();
    check_papers(&inputs, &setup.rules, deny, &options)
}

fn honest(_: &str, _: &mut PublicOutput) {}

#[test]
fn fixtures_have_no_finding() {
    let setup = setup();
    let papers = load_dir(&fixtures(), &setup.rules);
    assert_eq!(papers.len(), 9, "every fixture parses");
    let findings = run_check(&setup, &papers, &setup.deny, honest);
    assert!(findings.is_empty(), "{}", report::text(&findings));
}

#[test]
fn honest_copies_of_leak_and_adversarial_papers_have_no_leak_finding() {
    let setup = setup();
    let root = project_root();
    let mut papers = load_dir(&root.join("tests/leaks"), &setup.rules);
    papers.extend(load_dir(&root.join("tests/adversarial"), &setup.rules));
    assert!(papers.len() > 20, "the leak and adversarial papers parse");
    // Names must be unique for one run; these folders reuse none.
    let findings = run_check(&setup, &papers, &DenyList::empty(), honest);
    let leaks: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.rule.starts_with("leak/"))
        .collect();
    assert!(leaks.is_empty(), "{}", report::text(&leaks));
}

#[test]
fn consistency_pair_shows_each_shared_run_and_no_common_phrase() {
    let setup = setup();
    let papers = load_dir(
        &project_root().join("tests/check/consistency"),
        &setup.rules,
    );
    let findings = run_check(&setup, &papers, &DenyList::empty(), honest);
    let summary: Vec<(String, String, usize, usize, String)> = findings
        .iter()
        .map(|f| {
            let related = f.related.as_ref().unwrap();
            (
                f.rule.clone(),
                f.location.path.clone(),
                f.location.line,
                f.location.column,
                format!("{}:{}", related.location.path, related.location.line),
            )
        })
        .collect();
    let cross = "tests/check/consistency/annual-report.md".to_string();
    let same = "tests/check/consistency/tasking-review.md".to_string();
    assert_eq!(
        summary,
        vec![
            // Published in another paper of the run.
            (
                "consistency/shared-run".into(),
                cross,
                13,
                42,
                format!("{same}:19")
            ),
            // Published later in the same paper.
            (
                "consistency/shared-run".into(),
                same.clone(),
                31,
                32,
                format!("{same}:26")
            ),
        ],
        "{}",
        report::text(&findings)
    );
    assert!(
        findings[0].message.contains("13 words"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[1].message.contains("9 words"),
        "{}",
        findings[1].message
    );
    insta::assert_snapshot!("consistency_pair", report::text(&findings));
}

const COVERT: &str = "03-covert-surveillance-collaboration";

/// Fixture 03 with `alter` applied to its public copies.
fn altered_covert(alter: impl Fn(&mut PublicOutput)) -> Vec<Finding> {
    let setup = setup();
    let text = std::fs::read_to_string(fixtures().join(format!("{COVERT}.md"))).unwrap();
    let paper = loaded(COVERT, &text, &setup.rules);
    run_check(&setup, &[paper], &DenyList::empty(), |_, output| {
        alter(output)
    })
}

#[test]
fn altered_copy_is_caught_in_every_hidden_channel() {
    // `Kestrel` is withheld in fixture 03 (a live investigation) and published nowhere.
    let cases: [(&str, bool, &str, &str, &str); 9] = [
        (
            "body text",
            true,
            "## 5. Finance",
            "## 5. Finance\n\nOn Kestrel.\n",
            "the text",
        ),
        (
            "link target",
            true,
            "## 5. Finance",
            "## 5. Finance\n\n[Finance](https://finance.example/kestrel)\n",
            "a link target",
        ),
        (
            "image alt",
            false,
            "<h3>5. Finance</h3>",
            "<h3>5. Finance</h3><img src=\"finance.svg\" alt=\"Kestrel finance\">",
            "an image's alt text",
        ),
        (
            "image source",
            true,
            "## 5. Finance",
            "## 5. Finance\n\n![Finance](finance/kestrel.svg)\n",
            "an image source",
        ),
        (
            "heading id",
            false,
            "<h3>5. Finance</h3>",
            "<h3 id=\"op-kestrel\">Finance</h3>",
            "a heading id",
        ),
        (
            "footnote definition",
            true,
            "[^1]:",
            "[^k]: Kestrel.\n\n[^1]:",
            "a footnote definition",
        ),
        (
            "HTML comment",
            false,
            "<h3>5. Finance</h3>",
            "<h3>5. Finance</h3><!-- kestrel -->",
            "an HTML comment",
        ),
        (
            "attribute",
            false,
            "<h3>5. Finance</h3>",
            "<h3 data-op=\"Kestrel\">5. Finance</h3>",
            "the `data-op` attribute",
        ),
        (
            "front matter",
            true,
            "title: ",
            "title: \"Kestrel \" \ntitle2: ",
            "the front matter",
        ),
    ];
    for (name, markdown, from, to, channel) in cases {
        let findings = altered_covert(|output| {
            let file = if markdown {
                &mut output.markdown
            } else {
                &mut output.html
            };
            assert!(file.contains(from), "{name}: `{from}` is in the copy");
            *file = file.replacen(from, to, 1);
        });
        assert_eq!(findings.len(), 1, "{name}: {}", report::text(&findings));
        let f = &findings[0];
        let expected_rule = if channel == "the text" {
            "leak/withheld-word"
        } else {
            "leak/hidden-channel"
        };
        assert_eq!(f.rule, expected_rule, "{name}");
        assert!(
            f.message.starts_with(&format!(
                "withheld word `kestrel` is in {channel} of the public"
            )),
            "{name}: {}",
            f.message
        );
        // The finding points at the withheld word in the source, and at the leak in the copy.
        assert_eq!((f.location.line, f.location.column), (76, 25), "{name}");
        let related = f.related.as_ref().unwrap();
        let ext = if markdown { "md" } else { "html" };
        assert_eq!(
            related.location.path,
            format!("public/{COVERT}.{ext}"),
            "{name}"
        );
    }
}

/// Fixture 03's public Markdown (or HTML) with `paragraph` put after its finance heading:
/// whether check finds its withheld word `Kestrel` there, and every finding.
fn covert_leak_caught(markdown: bool, paragraph: &str) -> (bool, Vec<Finding>) {
    let findings = altered_covert(|output| {
        let (file, from) = if markdown {
            (&mut output.markdown, "## 5. Finance")
        } else {
            (&mut output.html, "<h3>5. Finance</h3>")
        };
        *file = file.replacen(from, &format!("{from}\n\n{paragraph}\n\n"), 1);
    });
    let caught = findings
        .iter()
        .any(|f| f.rule.starts_with("leak/") && f.message.contains("`kestrel`"));
    (caught, findings)
}

#[test]
fn disguised_leaks_are_caught() {
    let cases = [
        ("upper case", true, "KESTREL"),
        ("HTML entities", false, "&#75;&#x65;strel"),
        ("named entity", false, "Kestr&eacute;l"),
        (
            "percent-encoding",
            true,
            "[x](https://e.example/%4B%65strel)",
        ),
        ("full-width forms", true, "ＫＥＳＴＲＥＬ"),
        ("zero-width space", true, "Kes\u{200b}trel"),
        ("soft hyphen", false, "Kes&shy;trel"),
        ("split by emphasis", true, "Kes**trel**"),
        ("split by a tag", false, "Kes<b>tr</b>el"),
    ];
    for (name, markdown, leak) in cases {
        let (caught, findings) = covert_leak_caught(markdown, &format!("<p>On {leak} today.</p>"));
        // `Kestréł` is another word: only the named entity case decodes to an accented form.
        if name == "named entity" {
            assert!(!caught, "{name}: a different word is not a leak");
            continue;
        }
        assert!(caught, "{name}: {}", report::text(&findings));
    }
}

/// A withheld word beside markup the leak scan reads past (a tag or mark that ends a word,
/// before punctuation or space), or joined across markup that does not end one, is found in
/// either copy.
#[test]
fn leaks_beside_markup_are_caught() {
    let cases = [
        (true, "**Kestrel**."),
        (true, "_Kestrel_, then"),
        (true, "~~Kestrel~~ ;"),
        (true, "[Kestrel](#x)."),
        (true, "<em>Kestrel</em>,"),
        (false, "<em>Kestrel</em>,"),
        (false, "<b>Kestrel</b> <i>x</i>"),
        (false, "(<span>Kestrel</span>)"),
        (false, "<p>Kestrel</p><p>x</p>"),
        (false, "Kes<b>trel</b>."),
        (false, "<b>Kes</b>trel,"),
        (true, "Kes**trel**."),
        (false, "x<br>Kestrel<br>y"),
    ];
    for (markdown, leak) in cases {
        let (caught, findings) = covert_leak_caught(markdown, &format!("On {leak} today."));
        let copy = if markdown { "Markdown" } else { "HTML" };
        assert!(caught, "{copy} `{leak}`: {}", report::text(&findings));
    }
}

/// A withheld passage's first and last runs of words are looked for in a copy like any
/// other, even when each of its words is published elsewhere, so only the run gives it away.
#[test]
fn withheld_runs_at_either_end_of_a_passage_are_found() {
    let setup = setup();
    let text = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\n\
        Hotel golf foxtrot echo delta charlie bravo alpha.\n\n\
        Then [alpha bravo charlie delta echo foxtrot golf hotel]{.S31} was agreed.\n";
    for run in [
        "alpha bravo charlie delta echo",
        "delta echo foxtrot golf hotel",
    ] {
        let paper = loaded("ends", text, &setup.rules);
        let findings = run_check(&setup, &[paper], &DenyList::empty(), |_, output| {
            output.markdown.push_str(&format!("\n{run}\n"));
        });
        assert_eq!(findings.len(), 1, "{run}: {}", report::text(&findings));
        assert_eq!(findings[0].rule, "leak/withheld-run", "{run}");
        assert!(
            findings[0]
                .message
                .starts_with(&format!("withheld run of 5 words `{run}`")),
            "{}",
            findings[0].message
        );
    }
}

#[test]
fn altered_copy_with_a_withheld_run_is_one_run_finding() {
    let findings = altered_covert(|output| {
        output.markdown = output.markdown.replacen(
            "## 5. Finance",
            "## 5. Finance\n\nThe third base is not listed in any force estate register.\n",
            1,
        );
    });
    assert_eq!(findings.len(), 1, "{}", report::text(&findings));
    assert_eq!(findings[0].rule, "leak/withheld-run");
    assert!(
        findings[0]
            .message
            .starts_with("withheld run of 11 words `the third base is not listed in any …`"),
        "{}",
        findings[0].message
    );
}

/// Findings of every kind, for the report formats.
fn findings_of_every_kind() -> (Vec<Finding>, DenyList) {
    let setup = setup();
    let deny_text = "deny:\n  - id: kestrel\n    term: Kestrel Down\n    description: a live operation\n  - id: collar-number\n    regex: '\\bPC ?[0-9]{3,6}\\b'\nallow:\n  - rule: deny/collar-number\n    paper: b\n    line: 0000000000000000000000000000000000000000000000000000000000000000\n    reason: stale\n";
    let deny = DenyList::parse(Path::new("rules/deny.yaml"), deny_text).unwrap();
    let head = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n";
    let a = loaded(
        "a",
        &format!(
            "{head}Public.[^n]\n\n[Kestrel Down met PC 4021 at the Harnham Quay warehouse on Tuesday.]{{.S31 reason=\"live\"}}\n\n[Secret.[^s]]{{.S24}}\n\n[^n]: Note.\n\n[^s]: Only for the secret.\n"
        ),
        &setup.rules,
    );
    let b = loaded(
        "b",
        &format!("{head}We heard Kestrel Down met PC 4021 at the Harnham Quay warehouse.\n"),
        &setup.rules,
    );
    let mut findings = run_check(&setup, &[a, b], &deny, |name, output| {
        if name == "a" {
            // In the Markdown copy: its line numbers do not depend on the page template.
            output.markdown =
                output
                    .markdown
                    .replacen("Public.", "Public.<span title=\"harnham\"></span>", 1);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    records::record(dir.path(), "public", "b", "one\ntwo\n", &Release::default()).unwrap();
    let change = records::compare(dir.path(), "public", "b", "one\nthree\n")
        .unwrap()
        .unwrap();
    findings.push(records::changed_finding(Path::new("b.md"), &change));
    redact::check::sort_findings(&mut findings);
    (findings, deny)
}

#[test]
fn every_kind_of_finding_is_reported() {
    let (findings, _) = findings_of_every_kind();
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        vec![
            "leak/hidden-channel",
            "release/changed",
            "consistency/shared-run",
            "deny/kestrel",
            "deny/collar-number",
            "allowlist/unused",
        ],
        "{}",
        report::text(&findings)
    );
    insta::assert_snapshot!("every_kind_text", report::text(&findings));
    insta::assert_snapshot!("every_kind_json", report::json(&findings));
}

/// A validator for the OASIS SARIF 2.1.0 schema.
fn sarif_validator() -> jsonschema::Validator {
    // The OASIS SARIF 2.1.0 schema, as shipped in the serde-sarif crate (src/schema.json).
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project_root().join("tests/check/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    // The published schema has a stray `]` in the two `language` patterns (a known erratum:
    // `...{2}]?$`), which a strict regex check of the schema itself refuses. redact never
    // writes `language`; the pattern is mended in memory, the file stays as published.
    let mut schema = schema;
    for path in [
        "/definitions/run/properties/language",
        "/definitions/toolComponent/properties/language",
    ] {
        let language = schema.pointer_mut(path).unwrap();
        assert_eq!(
            language["pattern"],
            "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"
        );
        language["pattern"] = serde_json::json!("^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$");
    }
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_report_is_valid_sarif_2_1_0() {
    let (findings, deny) = findings_of_every_kind();
    let log: serde_json::Value = serde_json::from_str(&report::sarif(&findings, &deny)).unwrap();
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // What GitHub code scanning needs beyond the schema: every result's rule is described,
    // and located by a relative URI and a 1-based line and column.
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for result in results {
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(rules[index]["shortDescription"]["text"].is_string());
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains(':'), "{uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    // An invalid log is refused, so the validation above can fail.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));
}

/// `check --format json|sarif` in `dir` on `paths`: exit status, report, stderr.
fn check_report(dir: &Path, format: &str, paths: &[&str]) -> (i32, serde_json::Value, String) {
    let output = crate::redact_in(dir)
        .args(["check", "--format", format])
        .args(paths)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap(), report, stderr)
}

/// A paper with a tagging error (exit 2) and one with a warning: JSON and SARIF carry both,
/// the error at its position, and count them as stderr shows them; the SARIF is valid, so code
/// scanning shows why the job failed. The erroring paper's withheld words reach no report
/// (issue 14, item 6).
#[test]
fn a_papers_error_and_warning_reach_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("papers")).unwrap();
    std::fs::write(
        dir.path().join("papers/bad.md"),
        "---\ntitle: Bad\nclassification: OFFICIAL-SENSITIVE\n---\n\
         Text [CANARYREPORTERROR]{.S99} here.\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("papers/warn.md"),
        "---\ntitle: Warn\nclassification: OFFICIAL-SENSITIVE\n---\n\
         Text [CANARYREPORTWARNING]{.S31} here.\n",
    )
    .unwrap();
    let (code, json, stderr) = check_report(dir.path(), "json", &["papers"]);
    assert_eq!(code, 2, "{stderr}");
    let findings = json["findings"].as_array().unwrap();
    let error = findings
        .iter()
        .find(|f| f["level"] == "error")
        .expect("the error is a finding");
    assert_eq!(error["path"], "papers/bad.md");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(5), Some(27))
    );
    let warning = findings
        .iter()
        .find(|f| f["level"] == "warning")
        .expect("the warning is a finding");
    assert_eq!(warning["path"], "papers/warn.md");
    assert_eq!(warning["line"], 5);
    // The counts match what stderr shows.
    let lines = |what: &str| stderr.lines().filter(|l| l.contains(what)).count() as u64;
    assert_eq!(
        json["summary"]["errors"].as_u64(),
        Some(lines(": error: ")),
        "{stderr}"
    );
    assert_eq!(
        json["summary"]["warnings"].as_u64(),
        Some(lines(": warning: ")),
        "{stderr}"
    );
    assert!(stderr.contains("(1 error, 1 warning)"), "{stderr}");

    let (code, sarif, _) = check_report(dir.path(), "sarif", &["papers"]);
    assert_eq!(code, 2);
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let error = results
        .iter()
        .find(|r| r["level"] == "error")
        .expect("the error is a result");
    let location = &error["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "papers/bad.md");
    assert_eq!(location["region"]["startLine"], 5);
    assert_eq!(location["region"]["startColumn"], 27);
    assert!(results.iter().any(|r| r["level"] == "warning"));
    for report in [json.to_string(), sarif.to_string()] {
        assert!(!report.contains("CANARYREPORT"), "{report}");
    }
}

/// `check` on an empty or mistyped folder fails, naming it, in every report format: a check
/// that looked at nothing must not pass.
#[test]
fn check_on_a_path_with_no_papers_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty/sub")).unwrap();
    std::fs::write(dir.path().join("empty/sub/notes.txt"), "not a paper").unwrap();
    let output = crate::redact_in(dir.path())
        .args(["check", "empty"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("empty: error: holds no papers"), "{stderr}");
    let (code, json, stderr) = check_report(dir.path(), "json", &["empty", "mistyped"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("mistyped: error: no such file or folder"),
        "{stderr}"
    );
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["empty", "mistyped"]);
    assert_eq!(json["summary"]["errors"], 2);
}

/// The contrib GitHub Actions job uploads its SARIF even when `check` fails (exit 1 or 2):
/// that is when code scanning most needs it.
#[test]
fn the_ci_job_uploads_sarif_when_check_fails() {
    let text = std::fs::read_to_string(project_root().join("contrib/redact-check.yml")).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let steps = workflow["jobs"]["check"]["steps"].as_array().unwrap();
    let check = steps
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("redact check"))
        })
        .expect("a step runs redact check");
    assert!(
        steps[check]["run"]
            .as_str()
            .unwrap()
            .contains("--format sarif"),
        "{text}"
    );
    let upload = steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .expect("a step uploads the SARIF");
    assert!(upload > check, "{text}");
    // Without `always()` a failed check skips every later step.
    let condition = steps[upload]["if"].as_str().unwrap_or("");
    assert!(condition.contains("always()"), "{text}");
}

#[test]
fn invalid_deny_regex_names_its_rule_and_position() {
    // `-` (column 27) is the first character a capture group name cannot hold.
    let text = "deny:\n  - id: chis\n    regex: '\\bCHIS (?P<n[0-9]+)'\n";
    let Err(error) = DenyList::parse(Path::new("rules/deny.yaml"), text) else {
        panic!("an invalid regex is refused");
    };
    let rendered = error.render();
    assert!(
        rendered.starts_with("rules/deny.yaml:3:27: error: deny rule `chis`: invalid regex: invalid capture group character"),
        "{rendered}"
    );
}

// ---------------------------------------------------------------------------------------
// Property tests: honest copies give nothing; leaks are always found.

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

fn public_word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "policing", "council", "the", "force", "agreed", "budget", "lead", "review", "£4m", "é",
    ])
}

/// Words for a withheld run: ordinary words (none distinctive alone), so only the run is.
fn run_word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "harbour",
        "warehouse",
        "informant",
        "depot",
        "mobile",
        "teams",
        "converted",
        "northern",
        "signals",
        "relay",
        "handler",
        "quay",
        "western",
        "route",
        "meeting",
    ])
}

/// Other withheld text: Markdown-ish, staying inside its tag.
fn filler() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9 <>&\"'*_#!|é£\u{200b}-]{0,30}".prop_map(|s| s.replace('`', ""))
}

#[derive(Debug, Clone, Copy)]
enum Form {
    Span,
    Div,
    Section,
    Bullet,
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Span),
        Just(Form::Div),
        Just(Form::Section),
        Just(Form::Bullet)
    ]
}

#[derive(Debug, Clone)]
struct Generated {
    public: Vec<Vec<&'static str>>,
    others: Vec<(Form, String)>,
    form: Form,
    /// A distinctive withheld word (no public word starts with `zq`).
    canary: String,
    run: Vec<&'static str>,
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        prop::collection::vec(prop::collection::vec(public_word(), 1..8), 1..4),
        prop::collection::vec((form(), filler()), 0..3),
        form(),
        "zq[a-z]{5,9}",
        prop::collection::vec(run_word(), 5..9),
    )
        .prop_map(|(public, others, form, canary, run)| Generated {
            public,
            others,
            form,
            canary,
            run,
        })
}

const PREAMBLE: &str = "Public preamble here.";

fn block(form: Form, secret: &str, code: &str, k: usize) -> String {
    match form {
        Form::Span => format!("Before [{secret}]{{.{code}}} after.\n\n"),
        Form::Div => format!("::: {{.{code}}}\n{secret}\n:::\n\n"),
        Form::Section => format!("## Part {k} {{.{code}}}\n\n{secret}\n\n## Public {k}\n\n"),
        Form::Bullet => format!("- public item\n- [{secret}]{{.{code}}}\n\n"),
    }
}

impl Generated {
    /// The paper; `extra` is published in the preamble (a leak made in the source).
    fn paper(&self, extra: &str) -> String {
        let mut out = format!(
            "---\ntitle: Generated\nclassification: OFFICIAL-SENSITIVE\n---\n{PREAMBLE}{extra}\n\n"
        );
        for (k, words) in self.public.iter().enumerate() {
            out.push_str(&words.join(" "));
            out.push_str("\n\n");
            if let Some((form, secret)) = self.others.get(k) {
                out.push_str(&block(*form, secret, "S24", k + 100));
            }
        }
        let secret = format!("{} {}", self.canary, self.run.join(" "));
        out.push_str(&block(self.form, &secret, "S31", 0));
        out.push_str("Closing public words.\n");
        out
    }
}

/// Ways to disguise a word in a copy; each must still be found.
fn disguise(word: &str, how: usize, html: bool) -> String {
    match how % 5 {
        0 => word.to_string(),
        1 => word.to_uppercase(),
        2 if html => word.chars().map(|c| format!("&#{};", c as u32)).collect(),
        2 => word.chars().map(|c| format!("%{:02X}", c as u32)).collect(),
        3 => word
            .chars()
            .flat_map(|c| [c, '\u{200b}'])
            .collect::<String>(),
        _ => word
            .chars()
            .map(|c| char::from_u32(c as u32 - 'a' as u32 + 'Ａ' as u32).unwrap_or(c))
            .collect(),
    }
}

fn check_generated(
    setup: &Setup,
    paper: &str,
    deny: &DenyList,
    leak: Option<(&str, &str)>,
) -> Vec<Finding> {
    let paper = loaded("generated", paper, &setup.rules);
    run_check(setup, &[paper], deny, |_, output| {
        if let Some((md, html)) = leak {
            output.markdown = output
                .markdown
                .replacen(PREAMBLE, &format!("{PREAMBLE} {md}"), 1);
            output.html = output
                .html
                .replacen(PREAMBLE, &format!("{PREAMBLE} {html}"), 1);
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn honest_copies_of_generated_papers_have_no_finding(g in generated()) {
        let setup = setup();
        let findings = check_generated(&setup, &g.paper(""), &DenyList::empty(), None);
        prop_assert!(findings.is_empty(), "{}", report::text(&findings));
    }

    #[test]
    fn distinctive_withheld_word_in_a_copy_is_always_found(g in generated(), how in 0usize..5) {
        let setup = setup();
        let md = disguise(&g.canary, how, false);
        let html = disguise(&g.canary, how, true);
        let findings = check_generated(&setup, &g.paper(""), &DenyList::empty(), Some((&md, &html)));
        let expected = format!("withheld word `{}` is in the text of the public", g.canary);
        let found = findings.iter().filter(|f| f.rule == "leak/withheld-word" && f.message.starts_with(&expected)).count();
        prop_assert_eq!(found, 2, "{}", report::text(&findings));
    }

    #[test]
    fn withheld_run_in_a_copy_is_always_found(g in generated()) {
        let setup = setup();
        let run = g.run.join(" ");
        let findings = check_generated(&setup, &g.paper(""), &DenyList::empty(), Some((&run, &run)));
        let expected = format!("withheld run of {} words", g.run.len());
        let found = findings.iter().filter(|f| f.rule == "leak/withheld-run" && f.message.starts_with(&expected)).count();
        prop_assert_eq!(found, 2, "{}", report::text(&findings));
    }

    #[test]
    fn withheld_run_published_in_the_source_is_always_found(g in generated()) {
        let setup = setup();
        let extra = format!(" {}.", g.run.join(" "));
        let findings = check_generated(&setup, &g.paper(&extra), &DenyList::empty(), None);
        // Repeated words can match on more than one alignment; the whole run is always one.
        let whole = format!("these {} words", g.run.len());
        prop_assert!(findings.iter().any(|f| f.message.contains(&whole)), "{}", report::text(&findings));
        for f in &findings {
            prop_assert_eq!(&f.rule, "consistency/shared-run", "{}", report::text(&findings));
            prop_assert_eq!(f.location.line, 5);
        }
    }

    #[test]
    fn deny_listed_withheld_word_published_in_the_source_is_always_found(g in generated()) {
        let setup = setup();
        let deny = DenyList::parse(
            Path::new("rules/deny.yaml"),
            &format!("deny:\n  - id: canary\n    term: {}\n", g.canary),
        ).unwrap();
        let extra = format!(" {}.", disguise(&g.canary, 2, true));
        let findings = check_generated(&setup, &g.paper(&extra), &deny, None);
        prop_assert_eq!(findings.len(), 1, "{}", report::text(&findings));
        prop_assert_eq!(&findings[0].rule, "deny/canary");
        prop_assert_eq!(findings[0].location.line, 5);
        prop_assert!(findings[0].related.is_some(), "names where it is withheld");
    }
}
