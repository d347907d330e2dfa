//! Paths and atomic output: nothing is written outside `--out`, nothing is read twice, and a
//! paper that fails leaves its copies untouched-or-removed, never half new.

use std::fs;
use std::path::Path;

use super::{project_root, redact, redact_in, tree};

fn paper(title: &str) -> String {
    format!(
        "---\ntitle: {title}\nclassification: OFFICIAL-SENSITIVE\n---\nPublic text and [a secret]{{.S31 pit=\"x\"}}.\n"
    )
}

#[test]
fn names_with_spaces_and_non_ascii_keep_their_names() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("papers/sub dir")).unwrap();
    fs::write(dir.path().join("papers/sub dir/my paper é.md"), paper("T")).unwrap();
    redact_in(dir.path())
        .args(["build", "-q", "papers", "--out", "out"])
        .assert()
        .success();
    assert!(
        dir.path()
            .join("out/public/sub dir/my paper é.md")
            .is_file()
    );
    assert!(
        dir.path()
            .join("out/audit/sub dir/my paper é.json")
            .is_file()
    );
}

#[test]
fn dot_dot_and_absolute_paths_write_inside_out() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("a/b")).unwrap();
    fs::write(dir.path().join("a/p.md"), paper("T")).unwrap();
    redact_in(&dir.path().join("a/b"))
        .args(["build", "-q", "../p.md", "--out", "out"])
        .assert()
        .success();
    redact_in(&dir.path().join("a/b"))
        .args(["build", "-q"])
        .arg(dir.path().join("a/p.md"))
        .args(["--out", "out2"])
        .assert()
        .success();
    let files: Vec<String> = tree(dir.path()).into_iter().map(|(p, _)| p).collect();
    assert!(
        files.contains(&"a/b/out/public/p.md".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"a/b/out2/public/p.md".to_string()),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .all(|f| f == "a/p.md" || f.starts_with("a/b/out")),
        "{files:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_in_a_folder_is_an_error_for_that_path_only() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("papers")).unwrap();
    fs::write(dir.path().join("papers/good.md"), paper("Good")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("papers/loop")).unwrap();
    let assert = redact_in(dir.path())
        .args(["build", "-q", "papers", "--out", "out"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("papers/loop: error: is a symlink"),
        "{stderr}"
    );
    assert!(dir.path().join("out/public/good.md").is_file());
}

#[test]
fn the_same_file_named_twice_is_built_once() {
    let out = tempfile::tempdir().unwrap();
    let assert = redact()
        .args([
            "build",
            "fixtures/02-firearms-licensing-fees.md",
            "fixtures",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("built 9 of 9 papers"), "{stderr}");
}

/// A render error on the third of five papers: the other four are fully rebuilt, the third
/// has no copy left (its stale ones removed), never a mix of old and new.
#[test]
fn a_failing_paper_leaves_no_mix_of_old_and_new_copies() {
    let dir = tempfile::tempdir().unwrap();
    let papers = dir.path().join("papers");
    fs::create_dir_all(&papers).unwrap();
    for n in 1..=5 {
        fs::write(
            papers.join(format!("p{n}.md")),
            paper(&format!("Paper {n}")),
        )
        .unwrap();
    }
    let out = dir.path().join("out");
    redact()
        .args(["build", "-q"])
        .arg(&papers)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let before = tree(&out);

    // Templates that fail for one title only.
    let templates = dir.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    for entry in fs::read_dir(project_root().join("templates")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            fs::copy(&path, templates.join(path.file_name().unwrap())).unwrap();
        }
    }
    let page = fs::read_to_string(templates.join("paper.html")).unwrap();
    let broken = format!(
        "{{% if title == \"Paper 3 v2\" %}}{{{{ throw(message=\"simulated render failure\") }}}}{{% endif %}}{page}"
    );
    fs::write(templates.join("paper.html"), broken).unwrap();
    for n in 1..=5 {
        fs::write(
            papers.join(format!("p{n}.md")),
            paper(&format!("Paper {n} v2")),
        )
        .unwrap();
    }
    let assert = redact()
        .args(["build", "-q"])
        .arg(&papers)
        .arg("--out")
        .arg(&out)
        .arg("--templates")
        .arg(&templates)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("simulated render failure"), "{stderr}");
    let after = tree(&out);
    let of = |files: &[(String, Vec<u8>)], n: usize| -> Vec<(String, Vec<u8>)> {
        files
            .iter()
            .filter(|(p, _)| {
                Path::new(p)
                    .file_stem()
                    .is_some_and(|s| s == format!("p{n}").as_str())
            })
            .cloned()
            .collect()
    };
    assert!(
        of(&after, 3).is_empty(),
        "the failed paper has no copy left"
    );
    for n in [1, 2, 4, 5] {
        let new = of(&after, n);
        assert_eq!(
            new.len(),
            of(&before, n).len(),
            "paper {n}: every copy written"
        );
        for (path, bytes) in &new {
            if path.ends_with(".md") && path.starts_with("public") {
                assert!(
                    String::from_utf8_lossy(bytes).contains(&format!("Paper {n} v2")),
                    "{path}"
                );
            }
        }
    }
}

fn summary(assert: &assert_cmd::assert::Assert) -> String {
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    stderr.lines().last().unwrap_or("").to_string()
}

/// An unchanged paper is not rebuilt; changing one paper rebuilds one, changing a rule or
/// `--force` rebuilds all, and a paper gone from the folder has its copies removed and listed.
#[test]
fn incremental_builds_rebuild_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let papers = dir.path().join("papers");
    fs::create_dir_all(&papers).unwrap();
    for n in 1..=3 {
        fs::write(
            papers.join(format!("p{n}.md")),
            paper(&format!("Paper {n}")),
        )
        .unwrap();
    }
    let build = |extra: &[&str]| {
        redact_in(dir.path())
            .args(["build", "papers", "--out", "out"])
            .args(extra)
            .assert()
            .success()
    };
    assert_eq!(
        summary(&build(&[])),
        "built 3 of 3 papers: 18 files written, 3 redactions"
    );
    assert_eq!(
        summary(&build(&[])),
        "nothing to rebuild: 3 papers unchanged since the last build (--force rebuilds them)"
    );
    fs::write(papers.join("p2.md"), paper("Paper 2 revised")).unwrap();
    assert_eq!(
        summary(&build(&[])),
        "built 1 of 3 papers (2 unchanged): 6 files written, 1 redaction"
    );
    let public = fs::read_to_string(dir.path().join("out/public/p2.md")).unwrap();
    assert!(public.contains("Paper 2 revised"));
    assert_eq!(
        summary(&build(&["--force"])),
        "built 3 of 3 papers: 18 files written, 3 redactions"
    );

    // A changed rule (an exemption's title) changes every copy's schedule: all rebuilt.
    let rules = dir.path().join("rules");
    fs::create_dir_all(&rules).unwrap();
    for file in [
        "markings.yaml",
        "exemptions.yaml",
        "audiences.yaml",
        "deny.yaml",
    ] {
        fs::copy(project_root().join("rules").join(file), rules.join(file)).unwrap();
    }
    let exemptions = fs::read_to_string(rules.join("exemptions.yaml")).unwrap();
    fs::write(
        rules.join("exemptions.yaml"),
        exemptions.replace(
            "title: \"Law enforcement\"",
            "title: \"Law enforcement (s31)\"",
        ),
    )
    .unwrap();
    assert_eq!(
        summary(&build(&[])),
        "built 3 of 3 papers: 18 files written, 3 redactions"
    );

    fs::remove_file(papers.join("p3.md")).unwrap();
    let assert = build(&[]);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("removed the copies of `p3`: papers/p3.md is no longer in the input"),
        "{stderr}"
    );
    let left: Vec<String> = tree(&dir.path().join("out"))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.contains("p3"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Every file under `dir` with its bytes, following nothing: links are listed as links.
#[cfg(unix)]
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .display()
            .to_string();
        if entry.path_is_symlink() {
            out.push((rel, b"link".to_vec()));
        } else if entry.file_type().is_file() {
            out.push((rel, fs::read(entry.path()).unwrap()));
        }
    }
    out
}

/// A linked audit or audience folder, or a link where a copy goes, is exit 2 before anything
/// is written: the withheld text never reaches the folder the link names, and nothing under
/// `--out` changes, not even the copies of the build before (issue 14, item 3).
#[cfg(unix)]
#[test]
fn a_link_under_out_is_refused_before_anything_is_written() {
    use std::os::unix::fs::symlink;
    let paper = |n: u32| {
        format!(
            "---\ntitle: Linked {n}\nclassification: OFFICIAL-SENSITIVE\n---\n\
             Public text and [CANARYOUTLINK]{{.S31}}.\n"
        )
    };
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant, &str); 4] = [
        // The audit, which holds withheld text, made the public folder.
        (
            "audit folder",
            |out, _| {
                fs::remove_dir_all(out.join("audit")).unwrap();
                symlink("public", out.join("audit")).unwrap();
            },
            "out/audit",
        ),
        (
            "audience folder",
            |out, elsewhere| {
                fs::remove_dir_all(out.join("public")).unwrap();
                symlink(elsewhere, out.join("public")).unwrap();
            },
            "out/public",
        ),
        (
            "council copy",
            |out, elsewhere| {
                fs::remove_file(out.join("council/p.md")).unwrap();
                symlink(elsewhere.join("p.md"), out.join("council/p.md")).unwrap();
            },
            "out/council/p.md",
        ),
        (
            "audit copy",
            |out, elsewhere| {
                fs::remove_file(out.join("audit/p.json")).unwrap();
                symlink(elsewhere.join("p.json"), out.join("audit/p.json")).unwrap();
            },
            "out/audit/p.json",
        ),
    ];
    for (what, plant, named) in cases {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("p.md"), paper(1)).unwrap();
        let out = dir.path().join("out");
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        redact_in(dir.path())
            .args(["build", "-q", "p.md", "--out", "out"])
            .assert()
            .success();
        // A changed paper, so the build would write every copy again.
        fs::write(dir.path().join("p.md"), paper(2)).unwrap();
        plant(&out, &elsewhere);
        let before = listing(dir.path());
        let assert = redact_in(dir.path())
            .args(["build", "p.md", "--out", "out"])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&format!("{named}: error: is a symlink")),
            "{what}: {stderr}"
        );
        assert_eq!(listing(dir.path()), before, "{what}: nothing written");
        let public: Vec<String> = listing(dir.path())
            .into_iter()
            .filter(|(p, bytes)| {
                (p.starts_with("out/public") || p.starts_with("elsewhere"))
                    && String::from_utf8_lossy(bytes).contains("CANARYOUTLINK")
            })
            .map(|(p, _)| p)
            .collect();
        assert!(public.is_empty(), "{what}: canary in {public:?}");
    }
}

/// The writer opens each folder once a run and reads each planned folder's entries once, not
/// each path: a link one level down (a paper's subfolder under an audience folder), or at one
/// copy among many in a folder, is still exit 2 before any copy of any paper is written.
#[cfg(unix)]
#[test]
fn a_link_among_many_copies_or_below_an_audience_folder_is_refused_before_anything_is_written() {
    use std::os::unix::fs::symlink;
    let paper = |n: u32, k: u32| {
        format!(
            "---\ntitle: Deep {n} {k}\nclassification: OFFICIAL-SENSITIVE\n---\n\
             Public text and [CANARYDEEPLINK]{{.S31}}.\n"
        )
    };
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant, &str); 2] = [
        (
            "subfolder of the public folder",
            |out, elsewhere| {
                fs::remove_dir_all(out.join("public/sub")).unwrap();
                symlink(elsewhere, out.join("public/sub")).unwrap();
            },
            "out/public/sub",
        ),
        (
            "one public copy of many",
            |out, elsewhere| {
                fs::remove_file(out.join("public/sub/p7.html")).unwrap();
                symlink(elsewhere.join("p7.html"), out.join("public/sub/p7.html")).unwrap();
            },
            "out/public/sub/p7.html",
        ),
    ];
    for (what, plant, named) in cases {
        let dir = tempfile::tempdir().unwrap();
        let papers = dir.path().join("papers");
        fs::create_dir_all(papers.join("sub")).unwrap();
        let write = |n: u32| {
            for k in 0..12 {
                fs::write(papers.join(format!("sub/p{k}.md")), paper(n, k)).unwrap();
                fs::write(papers.join(format!("top{k}.md")), paper(n, k)).unwrap();
            }
        };
        write(1);
        let out = dir.path().join("out");
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        redact_in(dir.path())
            .args(["build", "-q", "papers", "--out", "out"])
            .assert()
            .success();
        // Every paper changed, so the build would write every copy again.
        write(2);
        plant(&out, &elsewhere);
        let before = listing(dir.path());
        let assert = redact_in(dir.path())
            .args(["build", "papers", "--out", "out"])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&format!("{named}: error: is a symlink")),
            "{what}: {stderr}"
        );
        assert_eq!(listing(dir.path()), before, "{what}: nothing written");
        let leaked: Vec<String> = listing(dir.path())
            .into_iter()
            .filter(|(p, bytes)| {
                p.starts_with("elsewhere")
                    && String::from_utf8_lossy(bytes).contains("CANARYDEEPLINK")
            })
            .map(|(p, _)| p)
            .collect();
        assert!(leaked.is_empty(), "{what}: canary in {leaked:?}");
    }
}

/// `papers`, `./papers`, an absolute path and a linked parent name the same papers: a paper
/// removed between builds has every copy removed, however the folder was spelled before.
#[cfg(unix)]
#[test]
fn every_spelling_of_a_folder_is_the_same_paper() {
    let dir = tempfile::tempdir().unwrap();
    let papers = dir.path().join("papers");
    fs::create_dir_all(&papers).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("linked")).unwrap();
    let spellings = [
        "papers".to_string(),
        "./papers".to_string(),
        papers.display().to_string(),
        "linked/papers".to_string(),
        "papers/".to_string(),
    ];
    for n in 0..spellings.len() {
        fs::write(papers.join(format!("p{n}.md")), paper(&format!("P{n}"))).unwrap();
    }
    let public = |n: usize| dir.path().join(format!("out/public/p{n}.md"));
    let mut previous = String::new();
    for (n, spelling) in spellings.iter().enumerate() {
        if n > 0 {
            fs::remove_file(papers.join(format!("p{}.md", n - 1))).unwrap();
        }
        let assert = redact_in(dir.path())
            .args(["build", spelling, "--out", "out"])
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        if n > 0 {
            assert!(
                stderr.contains(&format!("removed the copies of `p{}`", n - 1)),
                "{previous} then {spelling}: {stderr}"
            );
            assert!(!public(n - 1).exists(), "{previous} then {spelling}");
        }
        assert!(public(n).is_file(), "{spelling}");
        previous = spelling.clone();
    }
    let left: Vec<String> = tree(&dir.path().join("out"))
        .into_iter()
        .map(|(p, _)| p)
        // Each audience's index lists the papers; the copies are what is counted here.
        .filter(|p| p.ends_with(".md") && !p.ends_with("/index.md"))
        .collect();
    let last = spellings.len() - 1;
    assert_eq!(
        left,
        [format!("council/p{last}.md"), format!("public/p{last}.md")]
    );
}

/// A paper built as a single file (`x`) and later within its folder (`sub/x`) has its copies
/// under the old name removed, so text it has since withheld stays in no public copy.
#[test]
fn a_paper_built_under_another_name_loses_its_old_copies() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("papers/sub")).unwrap();
    let x = |body: &str| {
        format!("---\ntitle: X\nclassification: OFFICIAL-SENSITIVE\n---\nPublic text and {body}.\n")
    };
    fs::write(dir.path().join("papers/sub/x.md"), x("CANARYRENAMED")).unwrap();
    redact_in(dir.path())
        .args(["build", "-q", "papers/sub/x.md", "--out", "out"])
        .assert()
        .success();
    let public = fs::read_to_string(dir.path().join("out/public/x.md")).unwrap();
    assert!(public.contains("CANARYRENAMED"));
    // Since withheld.
    fs::write(
        dir.path().join("papers/sub/x.md"),
        x("[CANARYRENAMED]{.S31 pit=\"p\"}"),
    )
    .unwrap();
    let assert = redact_in(dir.path())
        .args(["build", "papers", "--out", "out"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("removed the copies of `x`: papers/sub/x.md is now built as `sub/x`"),
        "{stderr}"
    );
    let files: Vec<String> = tree(&dir.path().join("out"))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !p.starts_with('.') && !p.contains("/index."))
        .collect();
    assert!(
        files.iter().all(|f| f.contains("sub/x.")),
        "only sub/x's copies are left: {files:?}"
    );
    assert_eq!(files.len(), 6, "{files:?}");
    for (path, bytes) in tree(&dir.path().join("out/public")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("CANARYRENAMED"),
            "public/{path}"
        );
    }
}

/// A first build whose every paper fails leaves no output folder behind, nor any parent of it
/// that the build made.
#[test]
fn a_failed_build_creates_no_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("bad.md"),
        "---\ntitle: Bad\nclassification: OFFICIAL-SENSITIVE\n---\n[x]{.S99}\n",
    )
    .unwrap();
    redact_in(dir.path())
        .args(["build", "-q", "bad.md", "--out", "new/deeper/out"])
        .assert()
        .code(2);
    assert!(!dir.path().join("new").exists());
    // A folder that was there stays, as it was.
    fs::create_dir(dir.path().join("kept")).unwrap();
    redact_in(dir.path())
        .args(["build", "-q", "bad.md", "--out", "kept/out"])
        .assert()
        .code(2);
    assert!(dir.path().join("kept").is_dir());
    assert!(!dir.path().join("kept/out").exists());
}

/// A manifest written before papers were known by resolved path (version 1, papers named as
/// spelled) still has a gone paper's copies removed when the folder is spelled otherwise.
#[test]
fn a_manifest_of_version_1_still_removes_gone_papers() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("papers")).unwrap();
    for n in 1..=2 {
        fs::write(
            dir.path().join(format!("papers/p{n}.md")),
            paper(&format!("P{n}")),
        )
        .unwrap();
    }
    redact_in(dir.path())
        .args(["build", "-q", "./papers", "--out", "out"])
        .assert()
        .success();
    let manifest = dir.path().join("out/.redact-manifest.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    value["manifest"] = serde_json::json!(1);
    for entry in value["papers"].as_object_mut().unwrap().values_mut() {
        entry.as_object_mut().unwrap().remove("origin");
    }
    fs::write(&manifest, value.to_string()).unwrap();
    fs::remove_file(dir.path().join("papers/p2.md")).unwrap();
    let assert = redact_in(dir.path())
        .args(["build", "papers", "--out", "out"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("removed the copies of `p2`: ./papers/p2.md is no longer in the input"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/public/p2.md").exists());
    assert!(dir.path().join("out/public/p1.md").is_file());
}
