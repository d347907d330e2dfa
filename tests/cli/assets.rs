//! Images and annexes a paper names: copied where shown, cleaned of metadata, refused when
//! they would break a copy or leave the input folder.

use std::fs;
use std::path::Path;

use super::{fixtures, redact_in, tree};

fn write(dir: &Path, relative: &str, bytes: &[u8]) {
    let path = dir.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn fixture_asset(relative: &str) -> Vec<u8> {
    fs::read(fixtures().join(relative)).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The PNG's IDAT chunks, the pixels as stored.
fn idat(png: &[u8]) -> Vec<u8> {
    let mut at = 8;
    let mut out = Vec::new();
    while at + 8 <= png.len() {
        let n = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        if &png[at + 4..at + 8] == b"IDAT" {
            out.extend_from_slice(&png[at + 8..at + 8 + n]);
        }
        at += 12 + n;
    }
    out
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

const PAPER: &str = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\
![Chart](img/chart.png)\n\n[Annex A](annex/a.pdf) and [a photo](img/photo.jpg).\n\n\
::: S31\n![Plan](img/plan.png)\n:::\n";

fn papers_with_assets(dir: &Path) {
    write(dir, "papers/sub/p.md", PAPER.as_bytes());
    write(
        dir,
        "papers/sub/img/chart.png",
        &fixture_asset("img/estates-chart.png"),
    );
    write(
        dir,
        "papers/sub/img/plan.png",
        &fixture_asset("img/custody-site-plan.png"),
    );
    write(
        dir,
        "papers/sub/img/photo.jpg",
        &fixture_asset("img/dock-trial.jpg"),
    );
    write(
        dir,
        "papers/sub/annex/a.pdf",
        &fixture_asset("annex/estates-annex-a.pdf"),
    );
}

#[test]
fn assets_go_where_they_are_shown_without_their_metadata() {
    let dir = tempfile::tempdir().unwrap();
    papers_with_assets(dir.path());
    build(dir.path(), &[]).success();
    let public = dir.path().join("out/public/sub");
    let source_chart = fixture_asset("img/estates-chart.png");
    let chart = fs::read(public.join("img/chart.png")).unwrap();
    // Pixels byte for byte; author, comment, XMP and time gone.
    assert_eq!(idat(&chart), idat(&source_chart));
    for field in [
        &b"J. Smith"[..],
        b"Draft v3",
        b"xmpmeta",
        b"tIME",
        b"tEXt",
        b"iTXt",
    ] {
        assert!(contains(&source_chart, field) && !contains(&chart, field));
    }
    let photo = fs::read(public.join("img/photo.jpg")).unwrap();
    assert!(!contains(&photo, b"Ravensholme") && !contains(&photo, b"Photographer"));
    assert!(photo.starts_with(&[0xFF, 0xD8]));
    let annex = fs::read(public.join("annex/a.pdf")).unwrap();
    for field in [&b"J. Smith"[..], b"EstatesDraftTool", b"xmpmeta", b"/Info"] {
        assert!(
            !contains(&annex, field),
            "{}",
            String::from_utf8_lossy(field)
        );
    }
    assert!(
        contains(&annex, b"disposals programme"),
        "the annex's text stays"
    );
    // The plan is shown only inside a withheld passage: the council gets it, the public not.
    assert!(!public.join("img/plan.png").exists());
    assert!(dir.path().join("out/council/sub/img/plan.png").is_file());
    let plan = fs::read(dir.path().join("out/council/sub/img/plan.png")).unwrap();
    assert!(
        !contains(&plan, b"Holding cells"),
        "the council's copy is cleaned too"
    );
}

#[test]
fn bad_asset_references_are_errors_at_the_reference() {
    for (body, says) in [
        ("![c](img/none.png)", "`img/none.png` does not exist"),
        ("![c](../../outside.png)", "leaves the paper's input folder"),
        ("![c](/etc/x.png)", "absolute path"),
        ("[other](other.md)", "not a paper of this build"),
        ("[data](data.xyz)", "not a type redact can clean"),
        ("![c](https://example.org/c.png)", "remote image"),
        ("![c](//example.org/c.png)", "remote image"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "papers/p.md",
            format!("---\ntitle: T\nclassification: OFFICIAL\n---\nSee {body}.\n").as_bytes(),
        );
        write(
            dir.path(),
            "outside.png",
            &fixture_asset("img/estates-chart.png"),
        );
        write(dir.path(), "elsewhere/other.md", b"x");
        write(dir.path(), "papers/data.xyz", b"x");
        let assert = redact_in(dir.path())
            .args(["build", "-q", "papers/p.md", "--out", "out"])
            .assert()
            .code(2);
        let err = stderr(&assert);
        assert!(
            err.contains("p.md:5:5") && err.contains(says),
            "{body}: {err}"
        );
        assert!(!dir.path().join("out/public/p.md").exists(), "{body}");
    }
}

#[cfg(unix)]
#[test]
fn a_linked_asset_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "secret.png",
        &fixture_asset("img/estates-chart.png"),
    );
    write(
        dir.path(),
        "papers/p.md",
        b"---\ntitle: T\nclassification: OFFICIAL\n---\n![c](c.png)\n",
    );
    std::os::unix::fs::symlink(
        dir.path().join("secret.png"),
        dir.path().join("papers/c.png"),
    )
    .unwrap();
    let assert = build(dir.path(), &[]).code(2);
    assert!(
        stderr(&assert).contains("is a symlink"),
        "{}",
        stderr(&assert)
    );
    assert!(!dir.path().join("out/public/c.png").exists());
}

#[test]
fn links_to_papers_of_the_build_and_listed_types_pass() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/a.md",
        b"---\ntitle: A\nclassification: OFFICIAL\n---\nSee [b](sub/b.md) and [data](d.csv).\n",
    );
    write(
        dir.path(),
        "papers/sub/b.md",
        b"---\ntitle: B\nclassification: OFFICIAL\n---\nB.\n",
    );
    write(dir.path(), "papers/d.csv", b"a,b\n1,2\n");
    // Without rules listing `.csv` it cannot be copied.
    build(dir.path(), &[]).code(2);
    for f in ["markings", "exemptions", "audiences"] {
        let text = fs::read(super::project_root().join(format!("rules/{f}.yaml"))).unwrap();
        write(dir.path(), &format!("rules/{f}.yaml"), &text);
    }
    write(dir.path(), "rules/assets.yaml", b"copy_as_is: [csv]\n");
    let assert = redact_in(dir.path())
        .args(["build", "papers", "--out", "out", "--rules", "rules"])
        .assert()
        .success();
    assert!(
        stderr(&assert).contains("`d.csv` is copied as it is"),
        "{}",
        stderr(&assert)
    );
    assert_eq!(
        fs::read(dir.path().join("out/public/d.csv")).unwrap(),
        b"a,b\n1,2\n"
    );
    assert!(dir.path().join("out/public/sub/b.md").is_file());
    // The HTML copy links to the other paper's HTML copy; the Markdown stays byte for byte.
    let html = fs::read_to_string(dir.path().join("out/public/a.html")).unwrap();
    assert!(html.contains("href=\"sub/b.html\""), "{html}");
    let md = fs::read_to_string(dir.path().join("out/public/a.md")).unwrap();
    assert!(md.contains("[b](sub/b.md)"), "{md}");
}

#[test]
fn incremental_builds_follow_assets() {
    let dir = tempfile::tempdir().unwrap();
    papers_with_assets(dir.path());
    let summary = |assert: &assert_cmd::assert::Assert| {
        stderr(assert).lines().last().unwrap_or("").to_string()
    };
    let run = || {
        redact_in(dir.path())
            .args(["build", "papers", "--out", "out"])
            .assert()
            .success()
    };
    run();
    assert!(summary(&run()).contains("1 paper unchanged"));
    // A changed image rebuilds the paper, and its new bytes are copied.
    write(
        dir.path(),
        "papers/sub/img/chart.png",
        &fixture_asset("img/sm-rocu-deployments.png"),
    );
    assert!(!summary(&run()).contains("unchanged"));
    assert_eq!(
        idat(&fs::read(dir.path().join("out/public/sub/img/chart.png")).unwrap()),
        idat(&fixture_asset("img/sm-rocu-deployments.png"))
    );
    // An image no longer named goes with the copies that showed it.
    write(
        dir.path(),
        "papers/sub/p.md",
        PAPER
            .replace("![Chart](img/chart.png)", "No chart.")
            .as_bytes(),
    );
    run();
    assert!(!dir.path().join("out/public/sub/img/chart.png").exists());
    assert!(!dir.path().join("out/council/sub/img/chart.png").exists());
    // A paper that fails takes its assets with it.
    write(
        dir.path(),
        "papers/sub/p.md",
        format!("{PAPER}\n[x]{{.S99}}\n").as_bytes(),
    );
    redact_in(dir.path())
        .args(["build", "papers", "--out", "out"])
        .assert()
        .code(2);
    let left: Vec<String> = tree(&dir.path().join("out"))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.contains("sub/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn check_refuses_what_build_would() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/p.md",
        b"---\ntitle: T\nclassification: OFFICIAL\n---\n![c](img/gone.png)\n",
    );
    let assert = redact_in(dir.path())
        .args(["check", "papers"])
        .assert()
        .code(2);
    assert!(
        stderr(&assert).contains("p.md:5:1: error: `img/gone.png` does not exist"),
        "{}",
        stderr(&assert)
    );
}

#[test]
fn a_reference_image_whose_definition_is_withheld_is_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/p.md",
        b"---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\
A picture ![pic][echo] stays.\n\n::: S24\n[echo]: img/secret.png\n:::\n",
    );
    write(
        dir.path(),
        "papers/img/secret.png",
        &fixture_asset("img/estates-chart.png"),
    );
    build(dir.path(), &[]).success();
    assert!(dir.path().join("out/council/img/secret.png").exists());
    // The public copy shows the reference as plain text, so the image has no place there.
    assert!(!dir.path().join("out/public/img/secret.png").exists());
}

#[test]
fn an_asset_withheld_in_one_paper_and_shown_in_another_is_a_check_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "papers/a.md",
        b"---\ntitle: A\nclassification: OFFICIAL-SENSITIVE\n---\n\nIntro.\n\n::: S31\n![Plan](img/plan.png)\n:::\n",
    );
    write(
        dir.path(),
        "papers/b.md",
        b"---\ntitle: B\nclassification: OFFICIAL\n---\n\nThe plan: ![Plan](img/plan.png)\n",
    );
    write(
        dir.path(),
        "papers/img/plan.png",
        &fixture_asset("img/estates-chart.png"),
    );
    let assert = redact_in(dir.path()).args(["check", "papers"]).assert();
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned() + &stderr(&assert);
    assert_ne!(assert.get_output().status.code(), Some(0), "{out}");
    // Named at the place that shows it, with the place that withholds it.
    assert!(out.contains("consistency/asset"), "{out}");
    assert!(out.contains("b.md:6:11"), "{out}");
    assert!(out.contains("a.md:9:1"), "{out}");

    // The same image withheld in both is no finding.
    write(
        dir.path(),
        "papers/b.md",
        b"---\ntitle: B\nclassification: OFFICIAL-SENSITIVE\n---\n\n[The plan: ![Plan](img/plan.png)]{.S31}\n",
    );
    let assert = redact_in(dir.path()).args(["check", "papers"]).assert();
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned() + &stderr(&assert);
    assert!(!out.contains("consistency/asset"), "{out}");
}
