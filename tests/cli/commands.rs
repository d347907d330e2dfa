//! The command line as CI and FOI officers use it: `check` and its reports, release records,
//! parallel builds, PDFs that can go stale, and the CI files the README shows.

use std::fs;

use super::{project_root, redact, redact_in, tree};

#[test]
fn check_on_the_fixtures_is_clean() {
    let assert = redact()
        .args(["check", "--quiet", "fixtures"])
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&assert.get_output().stdout), "");
}

#[test]
fn check_finds_the_inconsistent_pair_and_exits_1() {
    let assert = redact()
        .args(["check", "--quiet", "tests/check/consistency"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("error[consistency/shared-run]"), "{stdout}");
    assert!(
        stdout.contains("tests/check/consistency/annual-report.md:13:42"),
        "{stdout}"
    );
}

#[test]
fn check_reports_json_and_sarif_on_stdout() {
    let json = redact()
        .args(["check", "-q", "--format", "json", "tests/check/consistency"])
        .assert()
        .code(1);
    let value: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(value["schema"], 1);
    let sarif = redact()
        .args([
            "check",
            "-q",
            "--format",
            "sarif",
            "tests/check/consistency",
        ])
        .assert()
        .code(1);
    let value: serde_json::Value = serde_json::from_slice(&sarif.get_output().stdout).unwrap();
    assert_eq!(value["version"], "2.1.0");
    let results = value["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["ruleId"].is_string()));
}

#[test]
fn check_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        project_root().join("fixtures/02-firearms-licensing-fees.md"),
        dir.path().join("p.md"),
    )
    .unwrap();
    super::redact_in(dir.path())
        .args(["check", "-q", "p.md"])
        .assert()
        .success();
    let files: Vec<String> = tree(dir.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(files, vec!["p.md".to_string()]);
}

/// A re-issue must be deliberate: a recorded release that would now differ is a finding.
#[test]
fn check_released_reports_a_changed_public_copy() {
    let dir = tempfile::tempdir().unwrap();
    let paper = dir.path().join("p.md");
    let source =
        fs::read_to_string(project_root().join("fixtures/05-custody-healthcare-contract.md"))
            .unwrap();
    fs::write(&paper, &source).unwrap();
    let records = dir.path().join("records");
    let out = dir.path().join("out");
    redact()
        .args([
            "build",
            "-q",
            "--request",
            "FOI-1",
            "--date",
            "2024-05-01",
            "--out",
        ])
        .arg(&out)
        .arg("--record")
        .arg(&records)
        .arg(&paper)
        .assert()
        .success();
    assert!(records.join("public/p.md").is_file());
    redact()
        .args(["check", "-q", "--released"])
        .arg(&records)
        .arg(&paper)
        .assert()
        .success();
    fs::write(&paper, source.replacen("## 1.", "## 1. Revised:", 1)).unwrap();
    let assert = redact()
        .args(["check", "-q", "--released"])
        .arg(&records)
        .arg(&paper)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("release/changed"), "{stdout}");
    assert!(stdout.contains("+## 1. Revised:"), "{stdout}");
}

/// Output is byte-identical for any number of threads.
#[test]
fn build_is_the_same_with_one_or_four_jobs() {
    let one = tempfile::tempdir().unwrap();
    let four = tempfile::tempdir().unwrap();
    for (dir, jobs) in [(&one, "1"), (&four, "4")] {
        redact()
            .args([
                "build",
                "-q",
                "fixtures",
                "tests/leaks",
                "--jobs",
                jobs,
                "--out",
            ])
            .arg(dir.path())
            .assert()
            .success();
    }
    assert_eq!(tree(one.path()), tree(four.path()));
}

#[test]
fn build_summary_counts_papers_files_and_redactions() {
    let out = tempfile::tempdir().unwrap();
    let assert = redact()
        .args(["build", "fixtures/02-firearms-licensing-fees.md", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.ends_with("built 1 of 1 paper: 6 files written, 6 redactions\n"),
        "{stderr}"
    );
    let quiet = redact()
        .args([
            "build",
            "--quiet",
            "fixtures/02-firearms-licensing-fees.md",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&quiet.get_output().stderr), "");
}

/// A PDF left by an earlier `--pdf` build would no longer match the copies a later build
/// writes (it could still show a passage now withheld), so a build without `--pdf` removes it.
#[test]
fn build_without_pdf_removes_a_stale_pdf() {
    let out = tempfile::tempdir().unwrap();
    fs::create_dir_all(out.path().join("public")).unwrap();
    let stale = out.path().join("public/02-firearms-licensing-fees.pdf");
    fs::write(&stale, b"%PDF- stale").unwrap();
    redact()
        .args([
            "build",
            "-q",
            "fixtures/02-firearms-licensing-fees.md",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    assert!(!stale.exists());
}

#[test]
fn pdf_without_chromium_is_a_one_line_error() {
    let out = tempfile::tempdir().unwrap();
    let assert = redact()
        .args(["build", "fixtures/02-firearms-licensing-fees.md", "--pdf"])
        .args(["--chromium", "/nonexistent/chromium", "--out"])
        .arg(out.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("chromium"), "{stderr}");
    assert!(tree(out.path()).is_empty());
}

/// The pre-commit hook in contrib/ runs `redact check` and refuses an inconsistent change.
#[test]
fn pre_commit_hook_runs_check() {
    let hook = project_root().join("contrib/pre-commit");
    let binary = env!("CARGO_BIN_EXE_redact");
    let run = |papers: &str| {
        std::process::Command::new("bash")
            .arg(&hook)
            .current_dir(project_root())
            .env("REDACT", binary)
            .env("REDACT_PAPERS", papers)
            .output()
            .unwrap()
    };
    assert!(run("fixtures").status.success());
    assert_eq!(run("tests/check/consistency").status.code(), Some(1));
}

/// The README shows the CI files as they are in contrib/, so what users copy is what is tested.
#[test]
fn readme_shows_the_ci_files_verbatim() {
    let readme = fs::read_to_string(project_root().join("README.md")).unwrap();
    for file in ["contrib/pre-commit", "contrib/redact-check.yml"] {
        let text = fs::read_to_string(project_root().join(file)).unwrap();
        assert!(
            readme.contains(text.trim_end()),
            "README must include {file} verbatim"
        );
    }
    let workflow = fs::read_to_string(project_root().join("contrib/redact-check.yml")).unwrap();
    assert!(workflow.contains("redact check papers --format sarif"));
}

/// `build --pdf` writes one PDF per audience next to the HTML, all or nothing.
#[test]
fn build_pdf_writes_a_pdf_per_audience() {
    if redact::pdf::find_chromium(None).is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI installs chromium");
        eprintln!("skipped: chromium not installed");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    redact()
        .args([
            "build",
            "-q",
            "--pdf",
            "fixtures/07-wellbeing-survey-results.md",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    for audience in ["council", "public"] {
        let pdf = fs::read(
            out.path()
                .join(audience)
                .join("07-wellbeing-survey-results.pdf"),
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{audience}");
    }
}

#[test]
fn check_warns_as_build_does_of_a_qualified_exemption_without_pit() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("nopit.md"),
        "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\nIntro.\n\n\
         A [tasking of the unit]{.S31 reason='tactics'} follows.\n",
    )
    .unwrap();
    let warnings = |args: &[&str]| {
        let assert = redact_in(dir.path()).args(args).assert().success();
        String::from_utf8_lossy(&assert.get_output().stderr)
            .lines()
            .filter(|l| l.contains("warning:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let built = warnings(&["build", "nopit.md", "--out", "out"]);
    assert_eq!(built.len(), 1, "{built:?}");
    assert!(
        built[0].starts_with("nopit.md:8:3: warning: redaction 1 is withheld under qualified exemption S31 with no public interest test summary"),
        "{built:?}"
    );
    assert_eq!(warnings(&["check", "nopit.md"]), built);
}
