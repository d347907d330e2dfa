//! Peak memory of building one paper, against raw pulldown-cmark on the same text:
//! `cargo run --release --example memory -- PAPER.md` (Linux: reads VmHWM from
//! /proc/self/status and resets it between phases).
//!
//! Prints, each as MB and as a multiple of the paper's size: the paper read into memory; raw
//! pulldown-cmark parsing it, and parsing and rendering it to HTML in memory (the floor: the
//! parser holds its whole tree); and the full build (both audiences' Markdown and HTML, the
//! audit's JSON and HTML) written to a sink that keeps nothing, as `redact build` streams each
//! file to disk.

use std::path::Path;

use redact::parse::markdown_options;
use redact::pipeline::build_paper_into;
use redact::render::Templates;
use redact::rules::Rules;
use redact::schedule::Release;
use redact::write::Sink;

/// Discards every file.
struct Discard;

impl Sink for Discard {
    fn open(&mut self, _: &Path) -> Result<Box<dyn std::io::Write + '_>, redact::error::Error> {
        Ok(Box::new(std::io::sink()))
    }
}

/// Peak resident memory since the last reset, in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: memory PAPER.md");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).expect("read the paper");
    let rules = Rules::embedded().expect("rules");
    let templates = Templates::embedded().expect("templates");
    let mb = text.len() as f64 / 1048576.0;
    let row = |what: &str, peak: f64| {
        println!("| {what} | {peak:.0} | {:.1}x |", peak / mb);
    };
    println!("paper: {path}, {mb:.1} MB");
    println!("| phase | peak MB | x paper |");
    println!("| --- | ---: | ---: |");
    row("paper read", peak_mb());
    reset_peak();
    let events = pulldown_cmark::Parser::new_ext(&text, markdown_options()).count();
    std::hint::black_box(events);
    row("raw pulldown-cmark parse", peak_mb());
    reset_peak();
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(&text, markdown_options()),
    );
    drop(html);
    row("raw pulldown-cmark parse + HTML render", peak_mb());
    reset_peak();
    let built = build_paper_into(
        Path::new(&path),
        "paper",
        &text,
        &rules,
        &templates,
        &Release::default(),
        &mut Discard,
    )
    .expect("the paper builds");
    assert!(built.findings.is_empty(), "the audit's proof failed");
    row("build (2 audiences x Markdown + HTML, audit)", peak_mb());
}
