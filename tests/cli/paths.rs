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
        "built 3 of 3 papers (3 unchanged, not rebuilt): 0 files written, 0 redactions"
    );
    fs::write(papers.join("p2.md"), paper("Paper 2 revised")).unwrap();
    assert_eq!(
        summary(&build(&[])),
        "built 3 of 3 papers (2 unchanged, not rebuilt): 6 files written, 1 redactions"
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
