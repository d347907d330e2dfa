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

/// The first hour (#16): install from this project, a licence that says what Cargo.toml says,
/// completions and a manual page from the clap definition, and a starter paper that builds.
#[test]
fn licence_file_matches_cargo_toml() {
    let manifest = fs::read_to_string(project_root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT\""));
    let licence = fs::read_to_string(project_root().join("LICENSE")).unwrap();
    assert!(licence.starts_with("MIT License\n"), "{licence}");
    assert!(licence.contains("Permission is hereby granted, free of charge"));
}

#[test]
fn readme_and_workflow_install_redact_from_its_own_source() {
    let readme = fs::read_to_string(project_root().join("README.md")).unwrap();
    assert!(readme.contains("cargo install --locked --path ."), "README");
    let workflow = fs::read_to_string(project_root().join("contrib/redact-check.yml")).unwrap();
    assert!(!workflow.contains("example.org"), "{workflow}");
    assert!(
        workflow.contains("cargo install --locked --path .redact"),
        "{workflow}"
    );
    // The checkout of redact comes before the install, and the install before the check.
    let checkout = workflow.find("path: .redact").unwrap();
    let install = workflow.find("cargo install").unwrap();
    let check = workflow.find("redact check papers").unwrap();
    assert!(checkout < install && install < check, "{workflow}");
}

#[test]
fn completions_cover_every_command_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let assert = redact().args(["completions", shell]).assert().success();
        let script = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
        for command in [
            "build",
            "check",
            "serve",
            "new",
            "completions",
            "out",
            "port",
        ] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    redact().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_is_roff_from_the_clap_definition() {
    let assert = redact().arg("man").assert().success();
    let page = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
    assert!(page.contains(".TH redact 1"), "{page}");
    for command in ["build", "check", "serve", "new", "completions"] {
        assert!(page.contains(command), "man page lacks {command}");
    }
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(!page.contains(".SH EXTRA"), "{page}");

    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("man/man1");
    redact().args(["man", "--dir"]).arg(&dir).assert().success();
    let dir = dir.as_path();
    let pages: Vec<String> = tree(dir).into_iter().map(|(p, _)| p).collect();
    for command in ["build", "check", "serve", "new", "completions", "man"] {
        assert!(
            pages.contains(&format!("redact-{command}.1")),
            "{command}: {pages:?}"
        );
    }
    assert_eq!(fs::read_to_string(dir.join("redact.1")).unwrap(), page);
    let serve = fs::read_to_string(dir.join("redact-serve.1")).unwrap();
    assert!(serve.contains("\\-\\-port"), "{serve}");
    if let Ok(status) = std::process::Command::new("man").arg("--version").output()
        && status.status.success()
    {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("redact.1");
        fs::write(&file, &page).unwrap();
        let shown = std::process::Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(shown.status.success());
        assert!(String::from_utf8_lossy(&shown.stdout).contains("redact"));
    }
}

#[test]
fn new_writes_a_starter_paper_that_builds_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    redact_in(dir.path())
        .args(["new", "papers/soc-lead_review.md"])
        .assert()
        .success();
    let text = fs::read_to_string(dir.path().join("papers/soc-lead_review.md")).unwrap();
    assert!(text.contains("title: Soc lead review\n"), "{text}");
    let assert = redact_in(dir.path())
        .args(["build", "papers", "--out", "out"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(stderr.starts_with("built 1 of 1 paper:"), "{stderr}");
    let public = fs::read_to_string(dir.path().join("out/public/soc-lead_review.md")).unwrap();
    for form in ["**S40**", "**S31**"] {
        assert!(public.contains(form), "{public}");
    }
    assert!(!public.contains("named lead officer"), "{public}");
    let check = redact_in(dir.path())
        .args(["check", "papers"])
        .assert()
        .success();
    assert!(check.get_output().stdout.is_empty());

    // Never over an existing file, and only a `.md` name.
    fs::write(dir.path().join("papers/mine.md"), "my words").unwrap();
    let assert = redact_in(dir.path())
        .args(["new", "papers/mine.md"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(
        fs::read_to_string(dir.path().join("papers/mine.md")).unwrap(),
        "my words"
    );
    redact_in(dir.path())
        .args(["new", "papers/notes.txt"])
        .assert()
        .code(2);
    assert!(!dir.path().join("papers/notes.txt").exists());
}

/// A rebuild that finds nothing changed says so, not "built 1 of 1 paper ... 0 files written".
#[test]
fn rebuild_with_nothing_to_do_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        project_root().join("fixtures/02-firearms-licensing-fees.md"),
        dir.path().join("p.md"),
    )
    .unwrap();
    let summary = || {
        let assert = redact_in(dir.path())
            .args(["build", "p.md", "--out", "out"])
            .assert()
            .success();
        String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
    };
    assert!(summary().starts_with("built 1 of 1 paper: 6 files written"));
    assert_eq!(
        summary(),
        "nothing to rebuild: 1 paper unchanged since the last build (--force rebuilds it)\n"
    );
}

/// The audit names codes as the rules spell them (`S24`), whichever renderer draws it: the
/// embedded default, or the project's templates/audit.html.
#[test]
fn audit_spells_codes_as_the_rules_do() {
    let lower = regex::Regex::new(r"\bs[0-9]{2}[A-Z]?\b").unwrap();
    let empty = tempfile::tempdir().unwrap();
    for (name, mut command) in [
        ("embedded templates", redact_in(empty.path())),
        ("templates folder", redact()),
    ] {
        let out = tempfile::tempdir().unwrap();
        command
            .args(["build", "-q"])
            .arg(project_root().join("fixtures/01-soc-lead-continuation.md"))
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        let html =
            fs::read_to_string(out.path().join("audit/01-soc-lead-continuation.html")).unwrap();
        // The audit names the source by its path, which may hold anything (a checkout in
        // `s22-work/`, say): only what the audit itself writes is looked at.
        let written = html.replace(&project_root().display().to_string(), "");
        let found: Vec<&str> = lower.find_iter(&written).map(|m| m.as_str()).collect();
        assert!(found.is_empty(), "{name}: {found:?}");
        assert!(html.contains("S24: 7"), "{name}: the schedule row");
        assert!(
            html.contains("section 24, National security"),
            "{name}: the code's title"
        );
    }
}

/// A span's reason is a hover title on screen; the printed council copy shows it in full.
#[test]
fn span_reason_prints_in_the_council_copy() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("p.md"),
        "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\n\
         Work led by [the named officer]{.S40 reason=\"personal data of a junior officer\"} goes on.\n",
    )
    .unwrap();
    redact_in(dir.path())
        .args(["build", "-q", "p.md", "--out", "out"])
        .assert()
        .success();
    let council = fs::read_to_string(dir.path().join("out/council/p.html")).unwrap();
    assert!(
        council.contains("data-reason=\"personal data of a junior officer\""),
        "{council}"
    );
    assert!(council.contains("mark.redact-exempt[data-reason]::after"));
    let public = fs::read_to_string(dir.path().join("out/public/p.html")).unwrap();
    assert!(!public.contains("junior officer"));
    assert!(!public.contains("data-reason=\""));

    // In print, as Chromium lays it out.
    let Ok(chromium) = redact::pdf::find_chromium(None) else {
        eprintln!("skipped: chromium not installed");
        return;
    };
    let Ok(pdftotext) = which("pdftotext") else {
        eprintln!("skipped: pdftotext not installed");
        return;
    };
    let meta = redact::pdf::PdfMeta {
        title: "T".into(),
        author: None,
        subject: "OFFICIAL-SENSITIVE".into(),
        date: None,
    };
    let pdf = redact::pdf::print(&chromium, &council, &meta).unwrap();
    let file = dir.path().join("council.pdf");
    fs::write(&file, pdf).unwrap();
    let text = std::process::Command::new(pdftotext)
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("(personal data of a junior officer)"),
        "{text}"
    );
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
