//! `redact check` reads what readers read: a deny-listed term or a withheld run of words is
//! found however the public text splits or disguises it (a removed comment, emphasis, an
//! inline element, a line break, a character reference, a look-alike letter), and a short
//! withheld passage published elsewhere is reported with both places. One paper per way of
//! splitting, each checked with the binary and the embedded rules, as CI runs it.

use tempfile::TempDir;

use crate::redact_in;

const HEAD: &str = "---\ntitle: Tasking update\nclassification: OFFICIAL-SENSITIVE\n---\n\n";

struct Checked {
    status: Option<i32>,
    stdout: String,
}

/// Writes each paper (name, body after the front matter) into a fresh folder and checks the
/// folder with the embedded rules and deny-list.
fn check(papers: &[(&str, &str)]) -> Checked {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("papers");
    std::fs::create_dir(&folder).unwrap();
    for (name, body) in papers {
        std::fs::write(folder.join(name), format!("{HEAD}{body}")).unwrap();
    }
    let out = redact_in(dir.path())
        .args(["check", "papers"])
        .output()
        .unwrap();
    Checked {
        status: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
    }
}

/// Checks one paper whose public text holds `line` (on line 6) and asserts the deny rule
/// `rule` is reported there.
fn assert_deny_finding(line: &str, rule: &str) {
    let body = format!("{line}\n\nThe board noted [the source's handler]{{.S31}}.\n");
    let checked = check(&[("p.md", &body)]);
    assert_eq!(checked.status, Some(1), "{}", checked.stdout);
    assert!(
        checked.stdout.contains("papers/p.md:6:"),
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains(&format!("deny/{rule}")),
        "{}",
        checked.stdout
    );
}

#[test]
fn deny_regex_is_found_across_a_removed_comment() {
    // The copy drops the comment, so it reads `CHIS 1234`.
    assert_deny_finding(
        "Reported by CH<!-- check -->IS 1234 in May.",
        "chis-reference",
    );
}

#[test]
fn deny_regex_is_found_across_emphasis() {
    assert_deny_finding("Reported by C**HIS** 1234 in May.", "chis-reference");
}

#[test]
fn deny_regex_is_found_across_an_inline_element() {
    assert_deny_finding(
        "Arrest made by PC<span>4321</span> in May.",
        "collar-number",
    );
}

#[test]
fn deny_regex_is_found_across_a_line_break_element() {
    assert_deny_finding("Reported by CHIS<br>1234 in May.", "chis-reference");
}

#[test]
fn deny_regex_is_found_through_a_character_reference() {
    assert_deny_finding(
        "Reported by CH&#73;S&#x200B; 1234 in May.",
        "chis-reference",
    );
}

#[test]
fn deny_regex_is_found_through_a_look_alike_letter() {
    // A Cyrillic capital Es, which no normal form turns into a Latin C.
    assert_deny_finding("Reported by \u{421}HIS 1234 in May.", "chis-reference");
}

/// A withheld run of five words, published in another paper with markup inside it.
fn assert_shared_run(published: &str) {
    let withheld = "Intro.\n\n[The Kingsbridge informant handling cell moved.]{.S31}\n";
    let checked = check(&[("a.md", withheld), ("b.md", published)]);
    assert_eq!(checked.status, Some(1), "{}", checked.stdout);
    assert!(
        checked
            .stdout
            .lines()
            .any(|l| l.contains("papers/b.md:6:") && l.contains("consistency/shared-run")),
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains("papers/a.md:8:"),
        "{}",
        checked.stdout
    );
}

#[test]
fn withheld_run_is_found_across_an_inline_element() {
    assert_shared_run("We thank the Kingsbridge <span>informant</span> handling cell.\n");
}

#[test]
fn withheld_run_is_found_across_a_line_break_element() {
    assert_shared_run("We thank the Kingsbridge informant<br>handling cell.\n");
}

#[test]
fn withheld_run_with_markup_inside_is_found_published_plainly() {
    let withheld =
        "Intro.\n\n[The Kingsbridge <span>informant</span> handling<br>cell moved.]{.S31}\n";
    let published = "We thank the Kingsbridge informant handling cell.\n";
    let checked = check(&[("a.md", withheld), ("b.md", published)]);
    assert_eq!(checked.status, Some(1), "{}", checked.stdout);
    assert!(
        checked.stdout.contains("consistency/shared-run"),
        "{}",
        checked.stdout
    );
}

#[test]
fn short_withheld_passage_published_elsewhere_names_both_places() {
    // A surname withheld once, published later in the same paper and in another paper.
    let a =
        "The review was led by [Ravensworth]{.S40}.\n\nLater, Mr Ravensworth thanked the board.\n";
    let b = "Ravensworth retired in June.\n";
    let checked = check(&[("a.md", a), ("b.md", b)]);
    assert_eq!(checked.status, Some(1), "{}", checked.stdout);
    let findings: Vec<&str> = checked
        .stdout
        .lines()
        .filter(|l| l.contains("consistency/shared-run"))
        .collect();
    assert_eq!(findings.len(), 2, "{}", checked.stdout);
    assert!(
        findings[0].starts_with("papers/a.md:8:"),
        "{}",
        checked.stdout
    );
    assert!(
        findings[1].starts_with("papers/b.md:6:1"),
        "{}",
        checked.stdout
    );
    // Each names where the surname is withheld.
    assert_eq!(
        checked.stdout.matches("papers/a.md:6:").count(),
        2,
        "{}",
        checked.stdout
    );
}

#[test]
fn short_withheld_figure_or_common_words_are_not_findings() {
    // Withholding a figure or a few common words says nothing about the same words
    // elsewhere: only a passage with a distinctive word counts.
    let a = "The unit made [12]{.S31} arrests costing [£4.2m]{.S43}, [as it was]{.S31}.\n\n\
             In 12 months it cost £4.2m, as it was.\n";
    let checked = check(&[("a.md", a)]);
    assert_eq!(checked.status, Some(0), "{}", checked.stdout);
}

#[test]
fn ordinary_prose_with_markup_is_clean() {
    let a = "Officers from <span>PC</span> World and the **CHIS** policy team met on 4 May.\n\n\
             The [source]{.S31} was <b>not</b> named.\n";
    let checked = check(&[("a.md", a)]);
    assert_eq!(checked.status, Some(0), "{}", checked.stdout);
}

#[test]
fn incident_review_reports_every_split_term_and_shared_passage() {
    // tests/check/visible/: one realistic paper holding each way of splitting at once.
    let out = crate::redact()
        .args(["check", "tests/check/visible"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let found: Vec<(String, String)> = stdout
        .lines()
        .filter_map(|l| {
            let (place, rest) = l.split_once(": error[")?;
            let rule = rest.split(']').next()?;
            let line = place.split(':').nth(1)?;
            Some((line.to_string(), rule.to_string()))
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("15", "deny/chis-reference"),
        ("16", "deny/chis-reference"),
        ("17", "deny/collar-number"),
        ("18", "deny/chis-reference"),
        ("19", "deny/chis-reference"),
        ("20", "deny/chis-reference"),
        ("26", "consistency/shared-run"),
        ("26", "consistency/shared-run"),
    ]
    .iter()
    .map(|(l, r)| (l.to_string(), r.to_string()))
    .collect();
    assert_eq!(found, expected, "{stdout}");
}
