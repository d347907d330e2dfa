//! A complete release: papers and titles withheld whole from front matter, each audience's
//! index, the s17 refusal notice, and the assets a paper names.

use std::fs;
use std::path::Path;

use super::{redact_in, tree};

/// Every file under `dir` whose bytes or path hold `word` (case-insensitive).
fn holding(dir: &Path, word: &str) -> Vec<String> {
    let word = word.to_lowercase();
    tree(dir)
        .into_iter()
        .filter(|(path, bytes)| {
            path.to_lowercase().contains(&word)
                || String::from_utf8_lossy(bytes)
                    .to_lowercase()
                    .contains(&word)
        })
        .map(|(path, _)| path)
        .collect()
}

fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn build(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    redact_in(dir)
        .args(["build", "-q", "papers", "--out", "out"])
        .args(args)
        .assert()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

const NCND_RULES: &str = "audiences:
  - name: council
    marking: source
    withholds: []
    highlight: true
  - name: public
    marking: OFFICIAL
    notice: Released under the Freedom of Information Act 2000
    withholds: all
    combine: [[S23, S24]]
    schedule: true
";

/// Rules whose public audience combines S23 and S24 (neither confirm nor deny).
fn ncnd_rules(dir: &Path) {
    write(
        dir,
        "rules/markings.yaml",
        include_str!("../../rules/markings.yaml"),
    );
    write(
        dir,
        "rules/exemptions.yaml",
        include_str!("../../rules/exemptions.yaml"),
    );
    write(dir, "rules/audiences.yaml", NCND_RULES);
}

#[test]
fn withheld_title_reaches_no_public_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/item-4.md",
        "---\ntitle: Operation Zanzibarcanary briefing\nclassification: OFFICIAL-SENSITIVE\n\
         date: 2024-05-01\ntitle_withhold: [S31]\npublic_title: Briefing on a law enforcement matter\n---\n\
         Public text.\n",
    );
    build(dir.path(), &[]).success();
    let council = fs::read_to_string(dir.path().join("out/council/item-4.html")).unwrap();
    assert!(
        council.contains("Zanzibarcanary"),
        "the council reads the title"
    );
    let public = fs::read_to_string(dir.path().join("out/public/item-4.html")).unwrap();
    assert!(
        public.contains("Briefing on a law enforcement matter</title>"),
        "{public}"
    );
    let leaks = holding(&dir.path().join("out/public"), "zanzibarcanary");
    assert!(leaks.is_empty(), "withheld title in {leaks:?}");
    let md = fs::read_to_string(dir.path().join("out/public/item-4.md")).unwrap();
    assert!(
        !md.contains("title_withhold") && !md.contains("S31"),
        "{md}"
    );
    let audit = fs::read_to_string(dir.path().join("out/audit/item-4.json")).unwrap();
    assert!(audit.contains("\"title_withhold\""), "{audit}");
}

#[test]
fn a_name_repeating_a_withheld_title_word_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/zanzibar-update.md",
        "---\ntitle: Operation Zanzibar update\nclassification: OFFICIAL-SENSITIVE\n\
         title_withhold: [S31]\npublic_title: An update\n---\nText.\n",
    );
    let assert = build(dir.path(), &[]).code(2);
    let err = stderr(&assert);
    assert!(err.contains("zanzibar-update.md:2:8"), "{err}");
    assert!(err.contains("`zanzibar`"), "{err}");
    assert!(!dir.path().join("out/public/zanzibar-update.md").exists());
}

#[test]
fn bad_withholding_keys_are_errors_at_their_line() {
    for (front, at, says) in [
        (
            "title_withhold: [S31]\n",
            "p.md:4:",
            "needs a `public_title`",
        ),
        (
            "withhold: [S99]\n",
            "p.md:4:",
            "unknown exemption code `S99`",
        ),
        (
            "title_withhold: [s31]\npublic_title: P\n",
            "p.md:4:",
            "did you mean `S31`",
        ),
        ("withhold: []\n", "p.md:4:", "names no exemption code"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "papers/p.md",
            &format!("---\ntitle: T\nclassification: OFFICIAL\n{front}---\nText.\n"),
        );
        let assert = build(dir.path(), &[]).code(2);
        let err = stderr(&assert);
        assert!(err.contains(at) && err.contains(says), "{front}: {err}");
        assert!(!dir.path().join("out/public/p.md").exists());
    }
}

#[test]
fn a_wholly_withheld_paper_gives_a_notice_naming_its_codes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/p.md",
        "---\ntitle: Quokkacanary tasking\nclassification: SECRET\nwithhold: [S31, S24]\n\
         withhold_reason: names the quokkacanary team\n---\nThe quokkacanary body.\n",
    );
    build(dir.path(), &[]).success();
    let md = fs::read_to_string(dir.path().join("out/public/p.md")).unwrap();
    assert!(md.contains("withheld in full"), "{md}");
    assert!(md.contains("**S31 & S24**"), "{md}");
    assert!(md.contains("title: \"Withheld paper\""), "{md}");
    assert!(md.contains("| 24 | National security | 1 |"), "{md}");
    let leaks = holding(&dir.path().join("out/public"), "quokkacanary");
    assert!(leaks.is_empty(), "withheld paper in {leaks:?}");
    let council = fs::read_to_string(dir.path().join("out/council/p.md")).unwrap();
    assert!(council.contains("The quokkacanary body."));
    let audit = fs::read_to_string(dir.path().join("out/audit/p.json")).unwrap();
    assert!(audit.contains("\"gets\": \"notice\""), "{audit}");
}

/// Under neither-confirm-nor-deny, a paper withheld whole leaves no trace in that audience's
/// folder: it is byte for byte the folder built without the paper.
#[test]
fn an_ncnd_withheld_paper_leaves_no_trace() {
    let with = tempfile::tempdir().unwrap();
    let without = tempfile::tempdir().unwrap();
    for dir in [with.path(), without.path()] {
        ncnd_rules(dir);
        write(
            dir,
            "papers/a.md",
            "---\ntitle: Open paper\nclassification: OFFICIAL\ndate: 2024-01-02\n---\n\
             Text and [x]{.S31}.\n",
        );
    }
    write(
        with.path(),
        "papers/b.md",
        "---\ntitle: Wombatcanary liaison\nclassification: SECRET\ndate: 2024-01-01\n\
         withhold: [S23]\n---\nWombatcanary.\n",
    );
    for dir in [with.path(), without.path()] {
        redact_in(dir)
            .args(["build", "-q", "papers", "--out", "out", "--rules", "rules"])
            .args(["--request", "FOI-1", "--date", "2024-02-01"])
            .assert()
            .success();
    }
    assert_eq!(
        tree(&with.path().join("out/public")),
        tree(&without.path().join("out/public"))
    );
    assert!(with.path().join("out/council/b.md").is_file());
}

#[test]
fn each_audience_has_an_index_sorted_by_date_then_reference() {
    let dir = tempfile::tempdir().unwrap();
    let paper = |title: &str, date: &str, reference: &str, extra: &str| {
        format!(
            "---\ntitle: \"{title}\"\nclassification: OFFICIAL-SENSITIVE\ndate: {date}\n\
             reference: {reference}\nagenda_item: \"4\"\n{extra}---\nText [x]{{.S31}}.\n"
        )
    };
    write(
        dir.path(),
        "papers/c.md",
        &paper("Third <script>", "2024-03-01", "R1", ""),
    );
    write(
        dir.path(),
        "papers/b.md",
        &paper("Second & co", "2024-01-01", "R2", ""),
    );
    write(
        dir.path(),
        "papers/a.md",
        &paper("First", "2024-01-01", "R1", ""),
    );
    write(
        dir.path(),
        "papers/sub/d e.md",
        &paper(
            "Platypuscanary plan",
            "2024-02-01",
            "R3",
            "title_withhold: [S31]\npublic_title: A plan\n",
        ),
    );
    build(dir.path(), &[]).success();
    let public = fs::read_to_string(dir.path().join("out/public/index.html")).unwrap();
    let order: Vec<usize> = ["a.html", "b.html", "sub/d%20e.html", "c.html"]
        .iter()
        .map(|href| {
            public
                .find(&format!("href=\"{href}\""))
                .unwrap_or_else(|| panic!("{href} in {public}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{public}");
    assert!(public.contains("Third &lt;script&gt;") && !public.contains("<script>"));
    assert!(public.contains(">A plan</a>") && !public.contains("Platypuscanary"));
    assert!(public.contains("<p class=\"banner\">OFFICIAL</p>"));
    let md = fs::read_to_string(dir.path().join("out/public/index.md")).unwrap();
    assert!(
        md.contains("| 2024-01-01 | R1 | 4 | [First](<a.md>) | OFFICIAL |"),
        "{md}"
    );
    let council = fs::read_to_string(dir.path().join("out/council/index.html")).unwrap();
    assert!(council.contains("Platypuscanary plan"));
    assert!(council.contains("<p class=\"banner\">OFFICIAL-SENSITIVE</p>"));
    // Every link in the index names a file that is there.
    for href in ["a.html", "b.html", "sub/d e.html", "c.html"] {
        assert!(dir.path().join("out/public").join(href).is_file(), "{href}");
    }
}

#[test]
fn papers_named_index_or_with_a_leading_underscore_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = "---\ntitle: T\nclassification: OFFICIAL\n---\nText.\n";
    write(dir.path(), "papers/index.md", text);
    write(dir.path(), "papers/_notices/x.md", text);
    write(dir.path(), "papers/ok.md", text);
    let assert = build(dir.path(), &[]).code(2);
    let err = stderr(&assert);
    assert!(
        err.contains("index.md: error: a paper cannot be named `index`"),
        "{err}"
    );
    assert!(
        err.contains("x.md: error: a paper's name cannot have a part beginning with `_`"),
        "{err}"
    );
    assert!(dir.path().join("out/public/ok.md").is_file());
    assert!(!dir.path().join("out/public/_notices/x.md").exists());
    let index = fs::read_to_string(dir.path().join("out/public/index.md")).unwrap();
    assert!(
        index.contains("(<ok.md>)") && index.lines().filter(|l| l.contains("](<")).count() == 1,
        "{index}"
    );
}

/// Rules from the project's files, with a notice whose public interest paragraphs are each
/// marked with their code, so a test can tell which paragraph went where.
fn marked_notice_rules(dir: &Path, audiences: &str, leave_out: &str) {
    write(
        dir,
        "rules/markings.yaml",
        include_str!("../../rules/markings.yaml"),
    );
    write(
        dir,
        "rules/exemptions.yaml",
        include_str!("../../rules/exemptions.yaml"),
    );
    write(dir, "rules/audiences.yaml", audiences);
    let default = include_str!("../../rules/notice.yaml");
    let head = &default[..default.find("\npublic_interest:").unwrap()];
    let mut notice = format!("{head}\npublic_interest:\n");
    for code in [
        "S22", "S22A", "S24", "S26", "S27", "S28", "S29", "S30", "S31", "S33", "S35", "S36", "S37",
        "S38", "S39", "S42", "S43",
    ] {
        if code != leave_out {
            notice.push_str(&format!("  {code}: \"PIPARA-{code} weighed.\"\n"));
        }
    }
    write(dir, "rules/notice.yaml", &notice);
}

/// The section of a notice under `### heading`, up to the next heading.
fn section<'a>(notice: &'a str, heading: &str) -> &'a str {
    let start = notice
        .find(&format!("### {heading}"))
        .unwrap_or_else(|| panic!("no `{heading}` in {notice}"));
    let rest = &notice[start + 4..];
    &rest[..rest.find("\n#").unwrap_or(rest.len())]
}

#[test]
fn the_refusal_notice_explains_every_exemption_relied_on_and_leaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    marked_notice_rules(dir.path(), include_str!("../../rules/audiences.yaml"), "");
    write(
        dir.path(),
        "papers/a.md",
        "---\ntitle: Open paper\nclassification: OFFICIAL-SENSITIVE\ndate: 2024-01-02\n---\n\
         Text [emucanary body]{.S31 pit=\"emucanary pit\" reason=\"emucanary reason\"} and \
         [more]{.S43 .S40}.\n\n::: {.S23 reason=\"emucanary div\"}\nDiv.\n:::\n",
    );
    write(
        dir.path(),
        "papers/b.md",
        "---\ntitle: Emucanary title\nclassification: SECRET\ndate: 2024-01-03\n\
         withhold: [S24]\nwithhold_reason: emucanary whole\npublic_title: A withheld paper\n---\n\
         Emucanary.\n",
    );
    build(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--request",
            "FOI/2024/7",
            "--date",
            "2024-02-01",
        ],
    )
    .success();
    let notice = fs::read_to_string(dir.path().join("out/public/_notices/FOI/2024/7.md")).unwrap();
    let html = fs::read_to_string(dir.path().join("out/public/_notices/FOI/2024/7.html")).unwrap();
    for qualified in [
        ("S24", "24, National security"),
        ("S31", "31, Law enforcement"),
        ("S43", "43, Commercial interests"),
    ] {
        let text = section(
            &notice,
            &format!("{}: section {}", qualified.0, qualified.1),
        );
        assert!(text.contains("is a qualified exemption"), "{text}");
        assert!(
            text.contains(&format!("PIPARA-{} weighed.", qualified.0)),
            "{text}"
        );
    }
    for absolute in ["S23: section 23", "S40: section 40"] {
        let text = section(&notice, absolute);
        assert!(
            text.contains("is an absolute exemption") && !text.contains("PIPARA"),
            "{text}"
        );
    }
    // Only what was relied on; the paper withheld whole is named by its public title.
    assert!(!notice.contains("### S22"), "{notice}");
    assert!(notice.contains("[Open paper](<../../../a.md>)"), "{notice}");
    assert!(
        notice.contains("[A withheld paper](<../../../b.md>)"),
        "{notice}"
    );
    assert!(html.contains("href=\"../../../a.html\""), "{html}");
    assert!(notice.contains("internal review") && notice.contains("Information Commissioner"));
    assert!(notice.contains("FOI/2024/7") && notice.contains("2024-02-01"));
    let leaks = holding(&dir.path().join("out/public"), "emucanary");
    assert!(leaks.is_empty(), "{leaks:?}");
}

/// Combined codes are explained together, whichever occurred: the notice and the copies
/// are the same bytes whether the passage was withheld under S23 or S24.
#[test]
fn the_notice_does_not_tell_combined_codes_apart() {
    let mut trees = Vec::new();
    for code in ["S23", "S24"] {
        let dir = tempfile::tempdir().unwrap();
        marked_notice_rules(dir.path(), NCND_RULES, "");
        write(
            dir.path(),
            "papers/a.md",
            &format!("---\ntitle: T\nclassification: OFFICIAL\n---\nText [x]{{.{code}}}.\n"),
        );
        build(dir.path(), &["--rules", "rules", "--request", "R1"]).success();
        let notice = fs::read_to_string(dir.path().join("out/public/_notices/R1.md")).unwrap();
        let text = section(&notice, "S23 / S24: section 23 / 24");
        assert!(text.contains("neither confirm nor deny"), "{text}");
        assert!(
            text.contains("Section 23 (") && text.contains("absolute exemption"),
            "{text}"
        );
        assert!(text.contains("PIPARA-S24 weighed."), "{text}");
        trees.push(tree(&dir.path().join("out/public")));
    }
    assert_eq!(trees[0], trees[1]);
}

#[test]
fn a_notice_that_cannot_be_written_stops_the_build_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    marked_notice_rules(
        dir.path(),
        include_str!("../../rules/audiences.yaml"),
        "S31",
    );
    write(
        dir.path(),
        "papers/a.md",
        "---\ntitle: T\nclassification: OFFICIAL\n---\nText [x]{.S31}.\n",
    );
    let assert = build(dir.path(), &["--rules", "rules", "--request", "R1"]).code(2);
    assert!(
        stderr(&assert).contains("no `public_interest` paragraph"),
        "{}",
        stderr(&assert)
    );
    assert!(!dir.path().join("out/public/a.md").exists());
    let assert = build(dir.path(), &["--request", "../R1"]).code(2);
    assert!(
        stderr(&assert).contains("cannot name the notice's file"),
        "{}",
        stderr(&assert)
    );
    assert!(!dir.path().join("out/public/a.md").exists());
}

/// The notice is printed with `--pdf`, and its PDF, read back as text, holds no canary.
#[test]
fn the_notice_pdf_is_printed_and_holds_no_canary() {
    if redact::pdf::find_chromium(None).is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI installs chromium");
        eprintln!("skipped: chromium not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/a.md",
        "---\ntitle: Open paper\nclassification: OFFICIAL-SENSITIVE\ndate: 2024-01-02\n---\n\
         Text [kiwicanary body]{.S31 pit=\"kiwicanary pit\" reason=\"kiwicanary reason\"}.\n",
    );
    write(
        dir.path(),
        "papers/b.md",
        "---\ntitle: Kiwicanary title\nclassification: SECRET\ndate: 2024-01-03\n\
         withhold: [S24]\nwithhold_reason: kiwicanary whole\npublic_title: A withheld paper\n---\n\
         Kiwicanary.\n",
    );
    build(
        dir.path(),
        &["--request", "FOI-9", "--date", "2024-02-01", "--pdf"],
    )
    .success();
    let pdf = dir.path().join("out/public/_notices/FOI-9.pdf");
    assert!(fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let text = match std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
    {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(_) => {
            eprintln!("skipped: pdftotext not installed (apt-get install poppler-utils)");
            return;
        }
    };
    // The printed notice is the notice: its request, its exemption, the requester's rights.
    assert!(
        text.contains("FOI-9") && text.contains("Information Commissioner"),
        "{text}"
    );
    assert!(text.contains("Law enforcement"), "{text}");
    assert!(!text.to_lowercase().contains("kiwicanary"), "{text}");
    let leaks = holding(&dir.path().join("out/public"), "kiwicanary");
    assert!(leaks.is_empty(), "{leaks:?}");
}
