//! Suggestions of personal data nobody tagged (FOIA s40): the recognisers measured on a
//! labelled set, `redact check` and `redact suggest` as a user runs them, acknowledgements in a
//! baseline, and `--apply`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use redact::span::Span;
use redact::suggest::{Kind, People, Recognisers};

use crate::{project_root, redact, redact_in};

// ---------------------------------------------------------------------------------------
// Precision and recall on the labelled set

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

/// (text, expected (kind, normalised value), held out) per labelled line. Lines after the
/// `written after` comment were written after the recognisers were tuned (see the file).
type Labelled = (String, BTreeSet<(Kind, String)>, bool);

fn labelled() -> Vec<Labelled> {
    let path = project_root().join("tests/suggest/labelled.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = Vec::new();
    let mut held_out = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("# --- written after") {
            held_out = true;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (sentence, labels) = line
            .rsplit_once(" => ")
            .unwrap_or_else(|| panic!("line {}: no ` => `", n + 1));
        let mut expected = BTreeSet::new();
        if labels.trim() != "-" {
            for label in labels.split(" | ") {
                let (kind, value) = label.split_once(": ").unwrap();
                let kind = Kind::parse(kind.trim())
                    .unwrap_or_else(|| panic!("line {}: unknown kind {kind}", n + 1));
                // A form the normaliser cannot read stays as written: it counts as a miss.
                let value = kind.normalise(value).unwrap_or_else(|| value.to_string());
                expected.insert((kind, value));
            }
        }
        out.push((sentence.to_string(), expected, held_out));
    }
    out
}

/// Recall and precision per kind over `tests/suggest/labelled.txt`, public figures from the
/// `people.yaml` beside it. Run with `--nocapture` to see the table.
#[test]
fn recognisers_meet_their_floors_on_the_labelled_set() {
    let people_path = project_root().join("tests/suggest/people.yaml");
    let people = People::parse(
        &people_path,
        &std::fs::read_to_string(&people_path).unwrap(),
    )
    .unwrap();
    let recognisers = Recognisers::new();
    let mut counts: BTreeMap<Kind, Counts> =
        Kind::ALL.iter().map(|k| (*k, Counts::default())).collect();
    let mut held = Counts::default();
    let mut misses = Vec::new();
    let lines = labelled();
    let mut items = 0;
    for (sentence, expected, held_out) in &lines {
        items += expected.len().max(1);
        let found: BTreeSet<(Kind, String)> = recognisers
            .scan(sentence, Span::new(0, sentence.len()))
            .into_iter()
            .filter(|h| {
                h.kind != Kind::Name || !people.covers(h, &sentence[h.span.start..h.span.end])
            })
            .map(|h| (h.kind, h.value))
            .collect();
        for item in found.union(expected) {
            let (is_found, is_expected) = (found.contains(item), expected.contains(item));
            if *held_out {
                held.tp += usize::from(is_found && is_expected);
                held.fp += usize::from(is_found && !is_expected);
                held.fn_ += usize::from(!is_found && is_expected);
            }
            let c = counts.get_mut(&item.0).unwrap();
            match (is_found, is_expected) {
                (true, true) => c.tp += 1,
                (true, false) => {
                    c.fp += 1;
                    misses.push(format!(
                        "false positive {:?} `{}` in: {sentence}",
                        item.0, item.1
                    ));
                }
                (false, true) => {
                    c.fn_ += 1;
                    misses.push(format!("missed {:?} `{}` in: {sentence}", item.0, item.1));
                }
                (false, false) => {}
            }
        }
    }
    println!("labelled set: {} lines, {items} items", lines.len());
    println!("| kind | items | found | missed | false | recall | precision | floors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut failed = Vec::new();
    for (kind, c) in &counts {
        let (recall_floor, precision_floor) = match kind {
            Kind::Name => (0.85, 0.80),
            _ => (0.98, 0.95),
        };
        println!(
            "| {} | {} | {} | {} | {} | {:.3} | {:.3} | {recall_floor} / {precision_floor} |",
            kind.as_str(),
            c.tp + c.fn_,
            c.tp,
            c.fn_,
            c.fp,
            c.recall(),
            c.precision(),
        );
        if c.tp + c.fn_ < 5 {
            failed.push(format!("{}: fewer than 5 labelled items", kind.as_str()));
        }
        if c.recall() < recall_floor || c.precision() < precision_floor {
            failed.push(format!(
                "{}: recall {:.3}, precision {:.3}",
                kind.as_str(),
                c.recall(),
                c.precision()
            ));
        }
    }
    println!(
        "lines written after the tuning (see the file): {} found, {} missed, {} false; recall {:.3}, precision {:.3}",
        held.tp,
        held.fn_,
        held.fp,
        held.recall(),
        held.precision()
    );
    for m in &misses {
        println!("{m}");
    }
    assert!(
        items >= 300,
        "the labelled set has {items} items, fewer than 300"
    );
    assert!(failed.is_empty(), "below the floor: {failed:?}");
}

// ---------------------------------------------------------------------------------------
// The commands

const FRONT: &str =
    "---\ntitle: Custody healthcare review\nclassification: OFFICIAL-SENSITIVE\n---\n\n";

fn paper(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{FRONT}{body}")).unwrap();
    path
}

fn stdout(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_suggests_what_the_public_reads_and_not_what_is_withheld() {
    let dir = tempfile::tempdir().unwrap();
    paper(
        dir.path(),
        "p.md",
        "The duty nurse is on 07700 900461.\n\nThe family asked that [their number, 07700 900999,]{.S40} is not shared.\n\n<!-- author's note: ring 07700 900111 -->\n",
    );
    let (code, out, _) = stdout(redact_in(dir.path()).args(["check", "p.md"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("p.md:6:22: warning[personal-data/phone]"),
        "{out}"
    );
    assert!(out.contains("+447700900461"), "{out}");
    // Withheld under S40, or in a comment no copy but the council's carries: not suggested.
    assert!(!out.contains("900999") && !out.contains("900111"), "{out}");
}

#[test]
fn an_audience_that_may_see_s40_gets_no_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    paper(dir.path(), "p.md", "Ring Sarah Jenkins on 07700 900461.\n");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for (name, text) in redact::rules::DEFAULT_RULES {
        std::fs::write(rules.join(name), text).unwrap();
    }
    std::fs::write(
        rules.join("audiences.yaml"),
        "audiences:\n  - name: council\n    marking: source\n    withholds: []\n  - name: partners\n    marking: OFFICIAL\n    withholds: [S31]\n",
    )
    .unwrap();
    let (code, out, err) = stdout(redact_in(dir.path()).args(["check", "p.md"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = stdout(redact_in(dir.path()).args(["suggest", "p.md"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("no audience withholds S40"), "{err}");
}

#[test]
fn fixtures_have_no_unacknowledged_suggestion() {
    let (code, out, err) = stdout(redact().args(["suggest", "fixtures"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn people_yaml_covers_only_the_forms_it_lists() {
    let dir = tempfile::tempdir().unwrap();
    paper(
        dir.path(),
        "p.md",
        "Chief Constable Jane Smith opened the meeting. J. Smith of the finance team took the minutes. Mrs Smith chaired.\n",
    );
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for (name, text) in redact::rules::DEFAULT_RULES {
        std::fs::write(rules.join(name), text).unwrap();
    }
    std::fs::write(
        rules.join("people.yaml"),
        "people:\n  - name: Jane Smith\n    role: Chief Constable\n    forms: [Jane Smith, Chief Constable Jane Smith]\n",
    )
    .unwrap();
    let (code, out, _) = stdout(redact_in(dir.path()).args(["suggest", "p.md"]));
    assert_eq!(code, 1);
    assert!(!out.contains("`jane smith`"), "{out}");
    // Another "J. Smith" and an untitled "Mrs Smith" are not the entry's forms.
    assert!(out.contains("`j. smith`"), "{out}");
    assert!(out.contains("`smith`"), "{out}");
}

#[test]
fn invalid_people_entry_is_located() {
    let dir = tempfile::tempdir().unwrap();
    paper(dir.path(), "p.md", "Text.\n");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for (name, text) in redact::rules::DEFAULT_RULES {
        std::fs::write(rules.join(name), text).unwrap();
    }
    std::fs::write(
        rules.join("people.yaml"),
        "people:\n  - name: Jane Smith\n    role: Chief Constable\n    forms: [Jane Smith]\n  - name: John Doe\n    forms: [John Doe]\n",
    )
    .unwrap();
    let (code, _, err) = stdout(redact_in(dir.path()).args(["check", "p.md"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("people.yaml:5:11: error: `John Doe` has no `role`"),
        "{err}"
    );
}

#[test]
fn baseline_acknowledges_by_value_and_survives_moved_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = paper(
        dir.path(),
        "p.md",
        "The nurse, Sarah Jenkins, is on 07700 900461.\n",
    );
    let (code, _, err) = stdout(redact_in(dir.path()).args([
        "suggest",
        "p.md",
        "--write-baseline",
        "baseline.yaml",
    ]));
    assert_eq!(code, 0, "{err}");
    let baseline = std::fs::read_to_string(dir.path().join("baseline.yaml")).unwrap();
    assert!(baseline.contains("value: \"+447700900461\""), "{baseline}");
    assert!(
        !baseline.contains("line:"),
        "keyed by value, never a line: {baseline}"
    );
    let before = std::fs::read(dir.path().join("baseline.yaml")).unwrap();
    let (code, out, _) =
        stdout(redact_in(dir.path()).args(["check", "p.md", "--baseline", "baseline.yaml"]));
    assert_eq!(code, 0, "{out}");
    // Lines added above, the number respaced: still acknowledged.
    std::fs::write(
        &path,
        format!(
            "{FRONT}A new opening paragraph.\n\nThe nurse, Sarah Jenkins, is on 07700900461.\n"
        ),
    )
    .unwrap();
    let (code, out, _) =
        stdout(redact_in(dir.path()).args(["check", "p.md", "--baseline", "baseline.yaml"]));
    assert_eq!(code, 0, "{out}");
    // A new number is a finding; the acknowledgement of the old one is unused.
    std::fs::write(
        &path,
        format!("{FRONT}The nurse, Sarah Jenkins, is on 07700 900462.\n"),
    )
    .unwrap();
    let (code, out, _) =
        stdout(redact_in(dir.path()).args(["check", "p.md", "--baseline", "baseline.yaml"]));
    assert_eq!(code, 1);
    assert!(out.contains("warning[personal-data/phone]"), "{out}");
    assert!(out.contains("+447700900462"), "{out}");
    assert!(out.contains("baseline.yaml:"), "{out}");
    assert!(out.contains("warning[baseline/unused]"), "{out}");
    assert_eq!(
        std::fs::read(dir.path().join("baseline.yaml")).unwrap(),
        before,
        "check never writes the baseline"
    );
}

#[test]
fn invalid_baseline_entries_are_located() {
    let dir = tempfile::tempdir().unwrap();
    paper(dir.path(), "p.md", "Text.\n");
    let cases = [
        (
            "acknowledged:\n  - paper: p\n    kind: telephone\n    value: '07700 900461'\n    reason: switchboard\n",
            "baseline.yaml:3:11: error: unknown kind of personal data `telephone`",
        ),
        (
            "acknowledged:\n  - paper: p\n    kind: phone\n    value: '07700 900461'\n    reason: ok\n  - paper: p\n    kind: email\n    value: a@b.example\n",
            "baseline.yaml:7:11: error: acknowledgement gives no reason",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(dir.path().join("baseline.yaml"), text).unwrap();
        let (code, out, err) =
            stdout(redact_in(dir.path()).args(["check", "p.md", "--baseline", "baseline.yaml"]));
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn apply_wraps_each_suggestion_and_changes_no_other_byte() {
    let dir = tempfile::tempdir().unwrap();
    let body = "Ring the nurse, Sarah Jenkins, on 07700 900461 or write to\nsarah.kestrelcanary@example.org.\n\n- PC 4021 and Joanne\n  Pettifer took the\n  statement.\n";
    let path = paper(dir.path(), "p.md", body);
    let original = std::fs::read_to_string(&path).unwrap();
    let (code, out, err) = stdout(redact_in(dir.path()).args(["suggest", "p.md", "--apply"]));
    assert_eq!(code, 0, "{out}{err}");
    let tagged = std::fs::read_to_string(&path).unwrap();
    for (kind, value) in [
        ("name", "Sarah Jenkins"),
        ("phone", "07700 900461"),
        ("email", "sarah.kestrelcanary@example.org"),
        ("collar", "PC 4021"),
        // Across a list item's line break, its indent kept inside the span.
        ("name", "Joanne\n  Pettifer"),
    ] {
        let tag = format!("[{value}]{{.S40 reason=\"personal data: {kind}\"}}");
        assert!(tagged.contains(&tag), "{tag} in {tagged}");
    }
    // Taking the tags out gives back the paper byte for byte.
    let untagged = regex::Regex::new(r#"\[([^\[\]]*)\]\{\.S40 reason="personal data: [a-z]+"\}"#)
        .unwrap()
        .replace_all(&tagged, "$1");
    assert_eq!(untagged, original);
    // It builds, and the public copy no longer publishes them.
    let (code, out, err) = stdout(redact_in(dir.path()).args(["build", "p.md", "--out", "out"]));
    assert_eq!(code, 0, "{out}{err}");
    let public = std::fs::read_to_string(dir.path().join("out/public/p.md")).unwrap();
    assert!(
        !public.contains("kestrelcanary") && !public.contains("900461"),
        "{public}"
    );
    let (code, out, _) = stdout(redact_in(dir.path()).args(["check", "p.md"]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn apply_leaves_a_paper_it_cannot_tag_safely_unchanged() {
    let cases = [
        "Write to `jo.kestrelcanary@example.org` or ring 07700 900461.\n",
        "Write to [jo.kestrelcanary@example.org](mailto:jo.kestrelcanary@example.org).\n",
        "Write to <jo.kestrelcanary@example.org> today.\n",
        "    ring 07700 900461 in an indented code block\n",
    ];
    for body in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = paper(dir.path(), "p.md", body);
        let before = std::fs::read(&path).unwrap();
        let (code, out, err) = stdout(redact_in(dir.path()).args(["suggest", "p.md", "--apply"]));
        assert_eq!(code, 1, "{body}: {out}{err}");
        assert!(
            err.contains("cannot tag") && err.contains("left unchanged"),
            "{err}"
        );
        assert!(out.contains("warning[personal-data/"), "{out}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{body}");
    }
}

#[test]
fn front_matter_names_are_reported_for_people_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.md");
    let text = "---\ntitle: Review\nclassification: OFFICIAL\nauthor: Supt Harriet Quennell\n---\n\nRing 07700 900461.\n";
    std::fs::write(&path, text).unwrap();
    let (code, out, err) = stdout(redact_in(dir.path()).args(["suggest", "p.md", "--apply"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("p.md:4:9: warning[personal-data/name]"),
        "{out}"
    );
    assert!(out.contains("people.yaml"), "{out}");
    let tagged = std::fs::read_to_string(&path).unwrap();
    assert!(tagged.starts_with(
        "---\ntitle: Review\nclassification: OFFICIAL\nauthor: Supt Harriet Quennell\n---\n"
    ));
    assert!(tagged.contains("[07700 900461]{.S40"), "{tagged}");
}

#[test]
fn suggestions_print_as_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    paper(dir.path(), "p.md", "Ring 07700 900461.\n");
    let (code, out, _) =
        stdout(redact_in(dir.path()).args(["suggest", "p.md", "--format", "json"]));
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["findings"][0]["rule"], "personal-data/phone");
    assert_eq!(json["findings"][0]["line"], 6);
    let (_, out, _) = stdout(redact_in(dir.path()).args(["check", "p.md", "--format", "sarif"]));
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "personal-data/phone"
    );
}

#[test]
fn suggestions_and_baselines_are_the_same_bytes_every_run() {
    let dir = tempfile::tempdir().unwrap();
    paper(
        dir.path(),
        "a.md",
        "Ring Sarah Jenkins on 07700 900461, PC 4021, at BS7 8QT.\n",
    );
    paper(
        dir.path(),
        "b.md",
        "Write to jo.smith@example.org or 81.2.69.160.\n",
    );
    let run = |args: &[&str]| stdout(redact_in(dir.path()).args(args)).1;
    let first = run(&["suggest", ".", "--format", "json"]);
    assert!(first.contains("personal-data/postcode"), "{first}");
    assert_eq!(
        first,
        run(&["suggest", ".", "--format", "json", "--jobs", "1"])
    );
    run(&["suggest", ".", "--write-baseline", "one.yaml"]);
    run(&[
        "suggest",
        ".",
        "--write-baseline",
        "two.yaml",
        "--jobs",
        "1",
    ]);
    assert_eq!(
        std::fs::read(dir.path().join("one.yaml")).unwrap(),
        std::fs::read(dir.path().join("two.yaml")).unwrap()
    );
}
