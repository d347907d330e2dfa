//! Each file is streamed to disk as it is rendered: the pages must be the bytes a whole render
//! gives, whatever the page template does with the body.

use crate::{fixtures, redact, tree};

/// A page template that uses the body in a way that cannot be streamed (a filter) renders the
/// body whole; one that prints it as is streams it. Both give the same pages.
#[test]
fn streamed_and_whole_pages_are_the_same_bytes() {
    let default =
        std::fs::read_to_string(crate::project_root().join("templates/paper.html")).unwrap();
    assert_eq!(default.matches("{{ body | safe -}}").count(), 1);
    let dir = tempfile::tempdir().unwrap();
    let whole_templates = dir.path().join("whole");
    std::fs::create_dir_all(&whole_templates).unwrap();
    // `replace` of a character no page holds leaves the body as it is, but is not a plain
    // print: the body must be rendered whole and handed to the template.
    std::fs::write(
        whole_templates.join("paper.html"),
        default.replace(
            "{{ body | safe -}}",
            "{{ body | replace(from=\"\u{1}\", to=\"\") | safe -}}",
        ),
    )
    .unwrap();
    std::fs::copy(
        crate::project_root().join("templates/audit.html"),
        whole_templates.join("audit.html"),
    )
    .unwrap();
    let streamed = dir.path().join("streamed");
    let whole = dir.path().join("whole-out");
    redact()
        .args(["build", "--quiet", "--out"])
        .arg(&streamed)
        .arg(fixtures())
        .assert()
        .success();
    redact()
        .args(["build", "--quiet", "--templates"])
        .arg(&whole_templates)
        .arg("--out")
        .arg(&whole)
        .arg(fixtures())
        .assert()
        .success();
    let pages = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        tree(dir)
            .into_iter()
            .filter(|(name, _)| !name.starts_with("audit/") && !name.starts_with('.'))
            .collect()
    };
    let (a, b) = (pages(&streamed), pages(&whole));
    assert!(a.len() >= 28, "every fixture's four copies: {}", a.len());
    assert_eq!(
        a.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        b.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs between a streamed and a whole render"
        );
    }
}

/// Nothing is left in the output folder but the copies, audits and manifest: no staging
/// folder after a build that succeeds or one with a failing paper.
#[test]
fn no_staging_files_are_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let papers = dir.path().join("papers");
    std::fs::create_dir_all(&papers).unwrap();
    std::fs::copy(
        fixtures().join("01-soc-lead-continuation.md"),
        papers.join("good.md"),
    )
    .unwrap();
    std::fs::write(
        papers.join("bad.md"),
        "---\ntitle: Bad\nclassification: OFFICIAL-SENSITIVE\n---\n\n[never closed]{.S31\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    redact()
        .args(["build", "--quiet", "--out"])
        .arg(&out)
        .arg(&papers)
        .assert()
        .code(2);
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".redact-staging"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
    let files: Vec<String> = tree(&out).into_iter().map(|(n, _)| n).collect();
    assert!(files.iter().any(|n| n == "public/good.html"), "{files:?}");
    assert!(!files.iter().any(|n| n.contains("bad")), "{files:?}");
}

const PROSE: &str = "Chief constables agreed the regional organised crime unit funding review, \
    noting the delivery strategy, the performance framework and the uplift in officers for the \
    year, with partners across the network supporting operational capability and investment.";

/// A large paper builds, and the build's peak memory stays within a bound of the paper's
/// size (raw pulldown-cmark alone peaks near 6x on such a paper: `examples/memory.rs`). Off by
/// default (it writes about 10x the paper to disk); `REDACT_BIG_MB=100 cargo test --release
/// big_paper` runs it on a paper of that many MB.
#[test]
fn big_paper_builds_within_a_bounded_multiple_of_its_size() {
    let Some(mb) = std::env::var("REDACT_BIG_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let paper = dir.path().join("big.md");
    let mut text =
        String::from("---\ntitle: Big\nclassification: OFFICIAL-SENSITIVE\n---\n\n# Big paper\n\n");
    let mut k = 0usize;
    while text.len() < mb << 20 {
        k += 1;
        // About one redaction per 400 bytes, in all three forms, as the benchmark's papers.
        text.push_str(&format!(
            "## Section {k}\n\nThe regional unit reported [canary{k} tasking]{{.S31}} to the board, \
             with *support* from partners and a [link](https://example.org/{k}). {PROSE}\n\n\
             ::: {{.S24 reason=\"capability\"}}\nWithheld paragraph {k} naming Operation V{k}.\n:::\n\n\
             {PROSE}\n\n- a list item with [canary{k}b]{{.S23}} inside\n- another item\n\n\
             ### Detail {k} {{.S31}}\n\nA withheld section, canary{k}c.\n\n## After {k}\n\n{PROSE}\n\n"
        ));
    }
    std::fs::write(&paper, &text).unwrap();
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_redact"))
        .current_dir(dir.path())
        .args(["build", "--quiet", "--out"])
        .arg(&out)
        .arg(&paper)
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success());
    let ratio = peak_kb as f64 * 1024.0 / text.len() as f64;
    eprintln!("{mb} MB paper: peak {} MB, {ratio:.1}x", peak_kb / 1024);
    // Holding every output at once took over 20x; the parser's own tree takes about 5x.
    assert!(ratio < 12.0, "peak memory {ratio:.1}x the paper");
    let public = std::fs::read_to_string(out.join("public/big.md")).unwrap();
    assert!(!public.contains("canary"));
}

/// `check` renders only the public copies: the same bytes `build` writes for them, and
/// nothing else.
#[test]
fn asking_for_some_copies_renders_those_bytes_alone() {
    use redact::check::public_paths;
    use redact::pipeline::{build_paper, build_paper_only};
    use redact::render::Templates;
    use redact::rules::Rules;
    use redact::schedule::Release;

    let rules = Rules::embedded().unwrap();
    let templates = Templates::embedded().unwrap();
    let release = Release::default();
    let mut compared = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let full = build_paper(&path, &name, &text, &rules, &templates, &release).unwrap();
        let only = public_paths(&name, &rules);
        let some = build_paper_only(
            &path,
            &name,
            &text,
            &rules,
            &templates,
            &release,
            Some(only.clone()),
        )
        .unwrap();
        let expected: Vec<_> = full
            .outputs
            .iter()
            .filter(|o| only.contains(&o.relative))
            .collect();
        assert_eq!(expected.len(), 2, "{name}: public Markdown and HTML");
        assert_eq!(some.outputs.iter().collect::<Vec<_>>(), expected, "{name}");
        assert_eq!(some.warnings, full.warnings);
        compared += 1;
    }
    assert_eq!(compared, 9);
}
