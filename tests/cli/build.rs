//! `redact build` on the example papers: every copy snapshotted, layout, determinism.

use std::fs;

use super::{fixtures, redact, tree};

/// One reviewed snapshot per fixture × audience × format.
#[test]
fn fixture_copies_match_snapshots() {
    insta::glob!("../../fixtures", "*.md", |path| {
        let out = tempfile::tempdir().unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap();
        redact()
            .arg("build")
            .arg(path)
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        for audience in ["council", "public"] {
            for ext in ["md", "html"] {
                let file = out.path().join(audience).join(format!("{name}.{ext}"));
                let text = fs::read_to_string(&file).unwrap();
                insta::assert_snapshot!(format!("{audience}.{ext}"), text);
            }
        }
    });
}

#[test]
fn build_writes_every_audience_copy_of_every_paper() {
    let out = tempfile::tempdir().unwrap();
    redact()
        .args(["build", "fixtures", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let written: Vec<String> = tree(out.path()).into_iter().map(|(p, _)| p).collect();
    let mut expected = Vec::new();
    // Each audience's copies, and the audit of each paper (issue 4).
    for (folder, exts) in [
        ("audit", ["html", "json"]),
        ("council", ["html", "md"]),
        ("public", ["html", "md"]),
    ] {
        for entry in fs::read_dir(fixtures()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                for ext in exts {
                    expected.push(format!("{folder}/{stem}.{ext}"));
                }
            }
        }
    }
    // What the build wrote, so the next one rebuilds only what changed (issue 7).
    expected.push(".redact-manifest.json".to_string());
    // Each audience's index of its papers, and the assets it is shown (issue 15): the
    // council every one, the public the chart and annex outside withheld passages.
    for folder in ["council", "public"] {
        for ext in ["html", "md"] {
            expected.push(format!("{folder}/index.{ext}"));
        }
        expected.push(format!("{folder}/img/estates-chart.png"));
        expected.push(format!("{folder}/annex/estates-annex-a.pdf"));
    }
    for withheld in [
        "img/custody-site-plan.png",
        "img/dock-trial.jpg",
        "img/sm-rocu-deployments.png",
    ] {
        expected.push(format!("council/{withheld}"));
    }
    expected.sort();
    assert!(expected.len() >= 36, "at least six fixtures");
    assert_eq!(written, expected);
}

#[test]
fn two_builds_give_the_same_bytes() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for out in [&first, &second] {
        redact()
            .args(["build", "fixtures", "--out"])
            .arg(out.path())
            .assert()
            .success();
    }
    assert_eq!(tree(first.path()), tree(second.path()));
}

#[test]
fn council_markdown_is_the_source_byte_for_byte() {
    let out = tempfile::tempdir().unwrap();
    redact()
        .args(["build", "fixtures", "--out"])
        .arg(out.path())
        .assert()
        .success();
    for entry in fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let council = fs::read(out.path().join("council").join(format!("{stem}.md"))).unwrap();
        assert_eq!(council, fs::read(&path).unwrap(), "{stem}");
    }
}

#[test]
fn html_carries_the_marking_at_top_and_bottom_and_one_h1() {
    let out = tempfile::tempdir().unwrap();
    redact()
        .args(["build", "fixtures/01-soc-lead-continuation.md", "--out"])
        .arg(out.path())
        .assert()
        .success();
    for (audience, marking) in [("council", "OFFICIAL-SENSITIVE"), ("public", "OFFICIAL")] {
        let html = fs::read_to_string(
            out.path()
                .join(audience)
                .join("01-soc-lead-continuation.html"),
        )
        .unwrap();
        let banner = format!("<p class=\"banner\">{marking}</p>");
        let header = html.find("<header>").unwrap();
        let main = html.find("<main>").unwrap();
        let footer = html.find("<footer>").unwrap();
        assert!(
            html[header..main].contains(&banner),
            "{audience} top banner"
        );
        assert!(html[footer..].contains(&banner), "{audience} bottom banner");
        assert_eq!(
            html.matches("<h1").count(),
            1,
            "{audience}: the title is the only h1"
        );
        assert!(
            html.contains("@top-center"),
            "print CSS repeats the marking"
        );
    }
    let public =
        fs::read_to_string(out.path().join("public/01-soc-lead-continuation.html")).unwrap();
    assert!(public.contains("Released under the Freedom of Information Act 2000"));
    assert!(public.contains("aria-label=\"Withheld under S31 &amp; S24\""));
}

/// The reference release copy's shapes: a marker inline in a sentence, a withheld bullet
/// still a bullet, a withheld section one marker paragraph.
#[test]
fn public_markdown_has_markers_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let paper = dir.path().join("shapes.md");
    fs::write(
        &paper,
        "---\ntitle: Shapes\nclassification: OFFICIAL-SENSITIVE\n---\n\
         Work led to [the arrest of 12 people]{.S31 .S24} last year.\n\n\
         - Public bullet\n- [Secret bullet]{.S23}\n\n\
         ## Future operations {.S31}\n\nPlans.\n\n### Detail\n\nMore.\n\n## Next\n\nText.\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    redact()
        .arg("build")
        .arg(&paper)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let public = fs::read_to_string(out.join("public/shapes.md")).unwrap();
    // The public copy ends with its schedule of exemptions (issue 4).
    let (public, schedule) = public
        .split_once("\n---\n\n## Schedule of exemptions")
        .unwrap();
    assert_eq!(
        public,
        "---\ntitle: \"Shapes\"\nclassification: \"OFFICIAL\"\n---\n\
         Work led to **S31 & S24** last year.\n\n\
         - Public bullet\n- **S23**\n\n\
         **S31**\n\n## Next\n\nText.\n"
    );
    assert!(
        schedule.contains("| 31 | Law enforcement | 2 |"),
        "{schedule}"
    );
}

/// A rules folder with a third audience, `partners`, that sees S31 passages but not S23 ones.
fn rules_with_partners(dir: &std::path::Path) -> std::path::PathBuf {
    let rules = dir.join("rules");
    fs::create_dir_all(&rules).unwrap();
    for file in ["markings.yaml", "exemptions.yaml", "deny.yaml"] {
        fs::copy(
            super::project_root().join("rules").join(file),
            rules.join(file),
        )
        .unwrap();
    }
    fs::write(
        rules.join("audiences.yaml"),
        "audiences:\n\
         \x20 - name: council\n    marking: source\n    withholds: []\n    highlight: true\n\
         \x20 - name: partners\n    marking: OFFICIAL-SENSITIVE\n    withholds: [S23]\n    highlight: true\n\
         \x20 - name: public\n    marking: OFFICIAL\n    withholds: all\n    schedule: true\n",
    )
    .unwrap();
    rules
}

/// `reason` and `pit` reach the council's copies and the audit only: an audience that sees a
/// passage gets its tag with the codes alone, in Markdown and in HTML, and the audit's proof
/// accepts that copy (issue 14, item 4).
#[test]
fn reason_and_pit_reach_no_copy_but_the_councils() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_with_partners(dir.path());
    let paper = dir.path().join("p.md");
    fs::write(
        &paper,
        "---\ntitle: Partners\nclassification: OFFICIAL-SENSITIVE\n---\n\
         Seen [a span]{.S31 #canaryspantagid reason=\"CANARYTAGREASONSPAN\" pit=\"CANARYTAGPITSPAN\"} here.\n\n\
         ::: {.S31 .S24 reason=\"CANARYTAGREASONDIV\" pit='CANARYTAGPITDIV'} :::\n\
         A seen block.\n\
         :::\n\n\
         ## Seen section {.S31 #canaryheadingtagid reason=\"CANARYTAGREASONHEADING\"}\n\n\
         Section text.\n\n\
         ## Next\n\n\
         Withheld from partners: [a secret]{.S23 reason=\"CANARYTAGREASONS23\"}.\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    redact()
        .args(["build", "-q"])
        .arg(&paper)
        .arg("--rules")
        .arg(&rules)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let partners = fs::read_to_string(out.join("partners/p.md")).unwrap();
    assert!(partners.contains("Seen [a span]{.S31} here."), "{partners}");
    assert!(
        partners.contains("::: {.S31 .S24} :::\nA seen block.\n:::"),
        "{partners}"
    );
    assert!(partners.contains("## Seen section {.S31}\n"), "{partners}");
    assert!(
        partners.contains("Withheld from partners: **S23**."),
        "{partners}"
    );
    for (path, bytes) in tree(&out) {
        let text = String::from_utf8_lossy(&bytes);
        let shared = path.starts_with("partners/") || path.starts_with("public/");
        assert!(!(shared && text.contains("CANARYTAG")), "{path}: {text}");
        // Ids stay anchors in HTML; the Markdown tag names the codes alone.
        for id in ["canaryspantagid", "canaryheadingtagid"] {
            let markdown = shared && path.ends_with(".md");
            assert!(!(markdown && text.contains(id)), "{id} in {path}");
        }
    }
    // The council's copies and the audit keep them.
    let council = fs::read_to_string(out.join("council/p.html")).unwrap();
    assert!(council.contains("CANARYTAGREASONDIV"), "{council}");
    let audit = fs::read_to_string(out.join("audit/p.json")).unwrap();
    assert!(audit.contains("CANARYTAGPITSPAN"), "{audit}");
}

/// An image two papers show stays while either still shows it, and goes with the last, and an
/// image that moves from one paper to another stays whichever paper is built first: the files
/// each paper wrote are counted once a build rather than searched for in every other paper's
/// record (which grew with the square of the papers), and a paper's old images are removed
/// only once every paper is built.
#[test]
fn an_image_stays_while_any_paper_shows_it_whichever_is_built_first() {
    let dir = tempfile::tempdir().unwrap();
    let papers = dir.path().join("papers");
    fs::create_dir_all(papers.join("img")).unwrap();
    let png = fs::read(super::project_root().join("fixtures/img/sm-rocu-deployments.png")).unwrap();
    fs::write(papers.join("img/c.png"), png).unwrap();
    let paper = |title: &str, chart: bool| {
        let body = if chart {
            "![Chart](img/c.png)"
        } else {
            "No chart."
        };
        format!(
            "---\ntitle: {title}\nclassification: OFFICIAL-SENSITIVE\n---\n\n{body}\n\nText and [a secret]{{.S31}}.\n"
        )
    };
    let build = |a: bool, b: bool| {
        fs::write(papers.join("a.md"), paper("Paper A", a)).unwrap();
        fs::write(papers.join("b.md"), paper("Paper B", b)).unwrap();
        super::redact_in(dir.path())
            // One at a time, `a` before `b`: the order in which `b`'s old image would go
            // after `a` copied it again.
            .args(["build", "-q", "--jobs", "1", "papers", "--out", "out"])
            .assert()
            .success();
        ["public", "council"].map(|a| dir.path().join("out").join(a).join("img/c.png").exists())
    };
    assert_eq!(build(true, true), [true, true]);
    assert_eq!(build(false, true), [true, true], "b still shows it");
    assert_eq!(build(true, false), [true, true], "a shows it again");
    assert_eq!(build(false, false), [false, false], "neither shows it");
}
