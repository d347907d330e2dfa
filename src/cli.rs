//! Command line: clap types, and the two commands wired from reading to writing. Maps every
//! outcome to an [`Exit`]; errors and progress go to stderr, stdout only carries reports.
//!
//! Papers are built in parallel (rayon); every message is collected per paper and printed in
//! the walk's sorted order, so what a run prints does not depend on thread timing.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::check::{
    CheckInput, CheckOptions, CopiesScanned, Finding, Level, check_scanned, public_audiences,
    public_outputs, public_outputs_from, public_paths, scan_copies, sort_findings,
};
use crate::deny::{DENY_FILE, DenyList};
use crate::error::{Error, Exit};
use crate::index::Listed;
use crate::manifest::{self, Entry, Inputs, MANIFEST_FILE, MANIFEST_VERSION, Manifest, Why};
use crate::model::Paper;
use crate::pdf::{PdfMeta, find_chromium};
use crate::pipeline::{AUDIT_FOLDER, build_paper_into, build_paper_only, output_paths};
use crate::records;
use crate::redact::copy_for;
use crate::release::{ReleaseInput, check_request, release_outputs};
use crate::render::Templates;
use crate::report;
use crate::rules::{DEFAULT_PEOPLE, PEOPLE_FILE, Rules};
use crate::schedule::{Release, parse_date, parse_request};
use crate::source::{
    PaperPath, load_rules, load_templates, read_manifest, read_paper, real_path, walk,
};
use crate::suggest::apply::{Applied, apply};
use crate::suggest::baseline::{Acknowledgement, render as render_baseline};
use crate::suggest::{Baseline, People, Recognisers, Suggester, finding};
use crate::write::{Output, Sink, Staged, Writer};

#[derive(Parser, Debug)]
#[command(
    name = "redact",
    version,
    about = "Withhold FOIA-exempt passages from Markdown papers, one copy per audience",
    after_help = "EXIT STATUS:\n  0  done and clean\n  1  findings (a leak, an inconsistency)\n  2  bad input or usage"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options both commands share.
#[derive(clap::Args, Debug)]
struct Common {
    /// Papers, or folders of papers (walked in sorted order).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Rules folder (default: ./rules if present, else the embedded defaults).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Templates folder (default: ./templates if present, else the embedded defaults).
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Papers built at once (default: all cores). Output is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Print nothing but errors and what was asked for.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build every audience's copies of each paper, and its audit.
    Build {
        #[command(flatten)]
        common: Common,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// FOI request reference, printed in each copy's schedule of exemptions and the audit.
        #[arg(long, value_name = "REF", value_parser = parse_request)]
        request: Option<String>,
        /// Release date, printed in each copy's schedule and the audit (no date otherwise).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<String>,
        /// Also record each public Markdown copy as released, in this folder.
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Also print each copy to PDF with headless Chromium.
        #[arg(long)]
        pdf: bool,
        /// The Chromium to print with (default: `chromium` on the PATH).
        #[arg(long, value_name = "PATH", requires = "pdf")]
        chromium: Option<PathBuf>,
        /// Rebuild every paper, even those unchanged since the last build.
        #[arg(long)]
        force: bool,
    },
    /// Run every lint of `build` and the leak scans, writing nothing.
    Check {
        #[command(flatten)]
        common: Common,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Report papers whose public copy would differ from the one released and recorded
        /// here (by `build --record`).
        #[arg(long, value_name = "DIR")]
        released: Option<PathBuf>,
        /// Acknowledged personal data (written by `suggest --write-baseline`): only
        /// suggestions not in it are findings. Never written by `check`.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
    },
    /// List personal data nobody tagged (FOIA s40), and optionally tag it.
    Suggest {
        #[command(flatten)]
        common: Common,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Wrap each suggestion in `[…]{.S40 reason="personal data: <kind>"}` in the paper.
        #[arg(long)]
        apply: bool,
        /// Acknowledged personal data: suggestions in it are not listed.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Record every current suggestion in FILE as acknowledged (entries already in
        /// `--baseline` keep their reasons).
        #[arg(long, value_name = "FILE", conflicts_with = "apply")]
        write_baseline: Option<PathBuf>,
    },
    /// Preview every audience's copies at http://127.0.0.1:PORT/, rebuilt and reloaded as the
    /// papers, rules or templates change. Writes nothing.
    Serve {
        /// Papers, or folders of papers (walked in sorted order).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Rules folder (default: ./rules if present, else the embedded defaults).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Templates folder (default: ./templates if present, else the embedded defaults).
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Port on 127.0.0.1 (0: any free port, printed when serving starts).
        #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_PORT)]
        port: u16,
        /// Open the index in the desktop's browser.
        #[arg(long)]
        open: bool,
        /// Also serve each paper's audit (it holds every withheld passage).
        #[arg(long)]
        audit: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write a starter paper to PATH (a new `.md` file) that builds clean.
    New {
        /// The paper to create; it must not exist yet.
        path: PathBuf,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    Man {
        /// Instead, write redact.1 and a page for each command (redact-build.1, ...) here.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Sarif,
}

/// Parses arguments and runs; every outcome becomes an exit status.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::BadInput as u8
            } else {
                0
            });
        }
    };
    let exit = match cli.command {
        Command::Build {
            common,
            out,
            request,
            date,
            record,
            pdf,
            chromium,
            force,
        } => {
            let options = BuildOptions {
                out,
                release: Release { request, date },
                record,
                pdf,
                chromium,
                force,
            };
            with_jobs(common.jobs, || build(&common, &options))
        }
        Command::Check {
            common,
            format,
            released,
            baseline,
        } => with_jobs(common.jobs, || {
            check(&common, format, released.as_deref(), baseline.as_deref())
        }),
        Command::Suggest {
            common,
            format,
            apply,
            baseline,
            write_baseline,
        } => {
            let options = SuggestOptions {
                format,
                apply,
                baseline,
                write_baseline,
            };
            with_jobs(common.jobs, || suggest(&common, &options))
        }
        Command::Serve {
            paths,
            rules,
            templates,
            port,
            open,
            audit,
            quiet,
        } => crate::serve::serve(&crate::serve::ServeOptions {
            paths,
            rules,
            templates,
            port,
            open,
            audit,
            quiet,
        }),
        Command::New { path } => new_paper(&path),
        Command::Completions { shell } => {
            let mut stdout = std::io::stdout();
            clap_complete::generate(shell, &mut Cli::command(), "redact", &mut stdout);
            Exit::Clean
        }
        Command::Man { dir } => man_pages(dir.as_deref()),
    };
    ExitCode::from(exit as u8)
}

/// The starter paper `redact new` writes: every form of redaction, each with what the
/// audit needs, so it builds and checks clean as it is.
const STARTER_PAPER: &str = include_str!("starter.md");

/// Writes the starter paper to `path`, never over an existing file.
fn new_paper(path: &Path) -> Exit {
    if path.extension().and_then(|e| e.to_str()) != Some("md") {
        return report(&Error::path(
            path,
            "a paper's file name ends in `.md`: give a name such as `papers/my-paper.md`",
        ));
    }
    let title = path
        .file_stem()
        .and_then(|s| s.to_str())
        .map(starter_title)
        .unwrap_or_else(|| "A new paper".to_string());
    let text = STARTER_PAPER.replacen(
        "title: A new paper",
        &format!("title: {}", yaml_plain(&title)),
        1,
    );
    // A first paper often goes in a folder that does not exist yet.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return report(&Error::path(
            parent,
            format!("cannot create the folder: {e}"),
        ));
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let written = file.and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.flush()));
    match written {
        Ok(()) => {
            eprintln!(
                "wrote {}: build it with `redact build {} --out out`, or preview it with `redact serve {}`",
                path.display(),
                path.display(),
                path.display()
            );
            Exit::Clean
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => report(&Error::path(
            path,
            "already exists: redact new never overwrites a file; choose another name",
        )),
        Err(e) => report(&Error::path(path, format!("cannot write: {e}"))),
    }
}

/// `soc-lead_review` reads `Soc lead review`.
fn starter_title(stem: &str) -> String {
    let words: Vec<&str> = stem
        .split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "A new paper".to_string(),
    }
}

/// `title` as a YAML scalar: plain when that reads back as the same string, else quoted.
fn yaml_plain(title: &str) -> String {
    let plain = title
        .chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || c == '.' || c == ',')
        && title.chars().next().is_some_and(char::is_alphabetic);
    if plain {
        title.to_string()
    } else {
        serde_json::to_string(title).unwrap_or_else(|_| "\"A new paper\"".to_string())
    }
}

/// The manual pages, from the same clap definition as `--help`: redact(1) on stdout, or it and
/// one page per command written into `dir`.
fn man_pages(dir: Option<&Path>) -> Exit {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Gives each command its display name (`redact-build`), which names its page.
    command.build();
    let mut page = Vec::new();
    if let Err(e) = main_man_page(&command, &mut page) {
        return report(&Error::Usage(format!("cannot render the manual page: {e}")));
    }
    let Some(dir) = dir else {
        let mut stdout = std::io::stdout();
        return match stdout.write_all(&page).and_then(|()| stdout.flush()) {
            Ok(()) => Exit::Clean,
            Err(e) => report(&Error::Usage(format!("cannot write the manual page: {e}"))),
        };
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return report(&Error::path(dir, format!("cannot create the folder: {e}")));
    }
    let main = dir.join("redact.1");
    if let Err(e) = std::fs::write(&main, &page) {
        return report(&Error::path(&main, format!("cannot write: {e}")));
    }
    for sub in command.get_subcommands() {
        let man = clap_mangen::Man::new(sub.clone());
        if let Err(e) = man.generate_to(dir) {
            return report(&Error::path(
                dir.join(man.get_filename()),
                format!("cannot write: {e}"),
            ));
        }
    }
    Exit::Clean
}

/// redact(1): clap_mangen's sections, with the exit status as a section of its own rather
/// than the help text's closing lines.
fn main_man_page(command: &clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.extend_from_slice(
        b".SH \"EXIT STATUS\"\n.TP\n0\ndone and clean\n.TP\n1\nfindings (a leak, an inconsistency)\n\
          .TP\n2\nbad input or usage: the error says file:line:col, and no copy of that paper is written\n",
    );
    man.render_version_section(out)
}

/// Runs `f` on a pool of `jobs` threads (all cores by default).
fn with_jobs(jobs: Option<u16>, f: impl FnOnce() -> Exit + Send) -> Exit {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = jobs {
        pool = pool.num_threads(usize::from(n));
    }
    match pool.build() {
        Ok(pool) => pool.install(f),
        Err(e) => report(&Error::Usage(format!("cannot start worker threads: {e}"))),
    }
}

/// The run's duration for a person watching a terminal; nothing in logs, so what a run prints
/// there is the same every time.
pub(crate) fn elapsed(started: Instant) -> String {
    if std::io::stderr().is_terminal() {
        format!(", in {:.2}s", started.elapsed().as_secs_f64())
    } else {
        String::new()
    }
}

fn report(error: &Error) -> Exit {
    eprint!("{}", error.render());
    error.exit()
}

/// What a run needs before it touches a paper: rules and templates, the papers found.
struct Setup {
    rules: Rules,
    templates: Templates,
    papers: Vec<PaperPath>,
    /// The folders given, resolved.
    folders: Vec<PathBuf>,
    /// Paths given that cannot be read: skipped, the rest are built.
    errors: Vec<Error>,
    /// Folders given that hold no paper.
    empty: Vec<PathBuf>,
}

fn setup(common: &Common, out: Option<&Path>) -> Result<Setup, Error> {
    let rules = load_rules(common.rules.as_deref())?;
    let templates = load_templates(common.templates.as_deref())?;
    let found = walk(&common.paths, out)?;
    Ok(Setup {
        rules,
        templates,
        papers: found.papers,
        folders: found.folders,
        errors: found.errors,
        empty: found.empty,
    })
}

/// A progress bar on stderr, only on a terminal and only for a run long enough to need one.
fn progress(total: usize, quiet: bool) -> Option<ProgressBar> {
    if quiet || total < 50 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} papers, {per_sec}, ETA {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// What happened to one paper, printed after all are done, in sorted order.
#[derive(Default)]
struct Outcome {
    exit: Option<Exit>,
    messages: String,
    written: usize,
    redactions: usize,
    built: bool,
    /// Unchanged since the last build: not rebuilt.
    unchanged: bool,
    /// What the manifest records for this paper, when its copies are in place.
    entry: Option<Entry>,
    /// What `messages` says, as results for a JSON or SARIF report.
    findings: Vec<Finding>,
    /// What the indexes and the release notice list of it, when its copies are in place.
    listed: Option<Listed>,
    /// Files an earlier build copied for this paper that it no longer shows: removed once
    /// every paper is built, unless another paper of this build wrote them (an image that
    /// moved from one paper to another stays, whichever paper finished first).
    old_assets: Vec<PathBuf>,
}

impl Outcome {
    fn error(&mut self, error: &Error) {
        self.messages.push_str(&error.render());
        self.findings.push(report::error_finding(error));
        self.fail(error.exit());
    }

    fn fail(&mut self, exit: Exit) {
        self.exit = Some(self.exit.unwrap_or(Exit::Clean).max(exit));
    }
}

struct BuildOptions {
    out: PathBuf,
    release: Release,
    record: Option<PathBuf>,
    pdf: bool,
    chromium: Option<PathBuf>,
    force: bool,
}

fn build(common: &Common, options: &BuildOptions) -> Exit {
    let started = Instant::now();
    let Setup {
        rules,
        templates,
        papers,
        folders,
        errors,
        ..
    } = match setup(common, Some(&options.out)) {
        Ok(s) => s,
        Err(e) => return report(&e),
    };
    let mut worst = Exit::Clean;
    for e in &errors {
        worst = worst.max(report(e));
    }
    let chromium = match options.pdf {
        true => match find_chromium(options.chromium.as_deref()) {
            Ok(path) => Some(path),
            Err(message) => return report(&Error::Usage(message)),
        },
        false => None,
    };
    if let Err(e) = check_request(&rules, &options.release) {
        return report(&e);
    }
    let previous = read_manifest(&options.out).unwrap_or_default();
    // Everything this run may write or remove, checked for links before anything is written.
    let mut planned: Vec<PathBuf> = rules
        .audiences
        .iter()
        .map(|a| PathBuf::from(&a.name))
        .chain([PathBuf::from(AUDIT_FOLDER), PathBuf::from(MANIFEST_FILE)])
        .collect();
    for paper in &papers {
        planned.extend(output_paths(&paper.name, &rules));
        planned.extend(pdf_paths(&paper.name, &rules));
    }
    for entry in previous.papers.values() {
        planned.extend(entry.outputs.iter().cloned());
    }
    // The indexes and the release notice are written beside the copies.
    for audience in &rules.audiences {
        for file in ["index.md", "index.html", "_notices"] {
            planned.push(Path::new(&audience.name).join(file));
        }
    }
    let writer = match Writer::checked(&options.out, planned.iter().map(PathBuf::as_path)) {
        Ok(w) => w,
        Err(e) => return report(&e),
    };
    let out_real = real_path(&options.out).unwrap_or_else(|| options.out.clone());
    let previous =
        previous.with_origins(|source| Some(manifest::origin(&real_path(source)?, &out_real)));
    let inputs = Inputs {
        rules_hash: &rules.hash,
        templates_hash: &templates.hash,
        release: &options.release,
        pdf: options.pdf,
    };
    let bar = progress(papers.len(), common.quiet);
    let files = paper_files(&papers);
    let listed_before = listed_by(&previous);
    let run = Run {
        rules: &rules,
        templates: &templates,
        options,
        chromium: chromium.as_deref(),
        writer: &writer,
        previous: &previous,
        listed_before: &listed_before,
        out_real: &out_real,
        inputs,
        paper_files: &files,
    };
    let outcomes: Vec<Outcome> = papers
        .par_iter()
        .map(|paper| {
            let outcome = build_one(paper, &run);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            outcome
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (mut built, mut written, mut redactions, mut unchanged) = (0, 0, 0, 0);
    let mut manifest = Manifest {
        manifest: MANIFEST_VERSION,
        papers: Default::default(),
    };
    for (paper, outcome) in papers.iter().zip(&outcomes) {
        if let Some(entry) = &outcome.entry {
            manifest.papers.insert(paper.name.clone(), entry.clone());
        }
    }
    let mut outcomes = outcomes;
    {
        let written_now: HashSet<&Path> = (manifest.papers.values())
            .flat_map(|e| e.outputs.iter().map(PathBuf::as_path))
            .collect();
        for outcome in &mut outcomes {
            let old: Vec<PathBuf> = std::mem::take(&mut outcome.old_assets)
                .into_iter()
                .filter(|o| !written_now.contains(o.as_path()))
                .collect();
            if let Err(e) = writer.remove_stale(&old) {
                outcome.error(&e);
            }
        }
    }
    for outcome in &outcomes {
        unchanged += usize::from(outcome.unchanged);
        if !(common.quiet && outcome.exit.is_none()) {
            eprint!("{}", outcome.messages);
        }
        if let Some(exit) = outcome.exit {
            worst = worst.max(exit);
        }
        built += usize::from(outcome.built);
        written += outcome.written;
        redactions += outcome.redactions;
    }
    // Copies of papers built before that have gone from a folder walked now, or that are now
    // built under another name. Papers are compared by resolved path, so however a folder is
    // spelled, its papers are the same.
    let origins: Vec<PathBuf> = papers
        .iter()
        .map(|p| manifest::origin(&p.real, &out_real))
        .collect();
    let found: Vec<(&str, &Path)> = papers
        .iter()
        .zip(&origins)
        .map(|(p, o)| (p.name.as_str(), o.as_path()))
        .collect();
    let folders: Vec<PathBuf> = folders
        .iter()
        .map(|f| manifest::origin(f, &out_real))
        .collect();
    let mut removed = Vec::new();
    let stale = previous.stale(&folders, &found);
    // Every file the papers built now list, once, rather than a scan per stale file.
    let kept: HashSet<&Path> = match stale.is_empty() {
        true => HashSet::new(),
        false => (manifest.papers.values())
            .flat_map(|e| e.outputs.iter().map(PathBuf::as_path))
            .collect(),
    };
    for stale in stale {
        // An asset a paper still built shares with the one gone stays.
        let outputs: Vec<PathBuf> = (stale.entry.outputs.iter())
            .filter(|o| !kept.contains(o.as_path()))
            .cloned()
            .collect();
        match writer.remove_stale(&outputs) {
            Ok(()) => {
                removed.push(stale.name);
                if !common.quiet {
                    let source = stale.entry.source.display();
                    match &stale.why {
                        Why::Gone => eprintln!(
                            "removed the copies of `{}`: {source} is no longer in the input",
                            stale.name
                        ),
                        Why::Renamed(now) => eprintln!(
                            "removed the copies of `{}`: {source} is now built as `{now}`",
                            stale.name
                        ),
                    }
                }
            }
            Err(e) => worst = worst.max(report(&e)),
        }
    }
    drop(kept);
    // Keep what earlier builds recorded for papers this run did not touch.
    let found_names: HashSet<&str> = found.iter().map(|(n, _)| *n).collect();
    for (name, entry) in &previous.papers {
        let touched = found_names.contains(name.as_str()) || removed.contains(&name.as_str());
        if !touched {
            manifest.papers.insert(name.clone(), entry.clone());
        }
    }
    let record = Output {
        relative: PathBuf::from(MANIFEST_FILE),
        bytes: manifest.to_json().into_bytes(),
    };
    // No paper built: no manifest either, so a failed run leaves no file behind.
    let saved = if manifest.papers.is_empty() {
        writer.remove_stale(&[PathBuf::from(MANIFEST_FILE)])
    } else {
        writer.write_paper(&[record])
    };
    if let Err(e) = saved {
        worst = worst.max(report(&e));
    }
    // Each audience's index and the release notice list the papers whose copies are in place.
    let listed: Vec<Listed> = outcomes.iter().filter_map(|o| o.listed.clone()).collect();
    let release = ReleaseInput {
        listed: &listed,
        rules: &rules,
        templates: &templates,
        release: &options.release,
        chromium: chromium.as_deref(),
    };
    let written_release = match release_outputs(&release) {
        Ok(outputs) if listed.is_empty() => writer.remove_stale(
            &outputs
                .iter()
                .map(|o| o.relative.clone())
                .collect::<Vec<_>>(),
        ),
        // Not counted in the summary's files: it counts the papers' own.
        Ok(outputs) => writer.write_paper(&outputs),
        Err(e) => Err(e),
    };
    if let Err(e) = written_release {
        worst = worst.max(report(&e));
    }
    if !common.quiet {
        eprintln!(
            "{}{}",
            build_summary(papers.len(), built, unchanged, written, redactions),
            elapsed(started)
        );
    }
    worst
}

/// The line a build ends with. A build that found every paper unchanged says so plainly,
/// rather than counting papers "built" with no file written.
fn build_summary(
    total: usize,
    built: usize,
    unchanged: usize,
    written: usize,
    redactions: usize,
) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if total > 0 && unchanged == total {
        let them = if total == 1 { "it" } else { "them" };
        return format!(
            "nothing to rebuild: {} unchanged since the last build (--force rebuilds {them})",
            plural(total, "paper")
        );
    }
    let skipped = if unchanged > 0 {
        format!(" ({unchanged} unchanged)")
    } else {
        String::new()
    };
    format!(
        "built {} of {}{skipped}: {} written, {}",
        built.saturating_sub(unchanged),
        plural(total, "paper"),
        plural(written, "file"),
        plural(redactions, "redaction"),
    )
}

/// What every paper of a build shares.
struct Run<'a> {
    rules: &'a Rules,
    templates: &'a Templates,
    options: &'a BuildOptions,
    chromium: Option<&'a Path>,
    writer: &'a Writer,
    previous: &'a Manifest,
    /// How many papers of the last build list each file (see [`listed_by`]).
    listed_before: &'a HashMap<&'a Path, usize>,
    /// The output folder, resolved: papers' origins are relative to it.
    out_real: &'a Path,
    inputs: Inputs<'a>,
    /// Every paper of the build by its path in its input folder (`sub/x.md`): a link to one
    /// is a link to its copy, not an asset.
    paper_files: &'a std::collections::BTreeSet<PathBuf>,
}

/// Every paper of the build by its path in its input folder.
fn paper_files(papers: &[PaperPath]) -> std::collections::BTreeSet<PathBuf> {
    papers
        .iter()
        .map(|p| PathBuf::from(format!("{}.md", p.name)))
        .collect()
}

/// How many papers of `previous` list each file: counted once a run, so that finding what a
/// paper shares with the others costs the same in a build of ten papers or ten thousand.
fn listed_by(previous: &Manifest) -> HashMap<&Path, usize> {
    let mut count: HashMap<&Path, usize> = HashMap::new();
    for entry in previous.papers.values() {
        let own: HashSet<&Path> = entry.outputs.iter().map(PathBuf::as_path).collect();
        for output in own {
            *count.entry(output).or_default() += 1;
        }
    }
    count
}

/// Files an earlier build wrote for `name` that no other paper's entry lists: its assets
/// besides its copies (an asset two papers share stays while either has it). `listed` is
/// [`listed_by`] of `previous`.
fn previous_outputs(
    previous: &Manifest,
    listed: &HashMap<&Path, usize>,
    name: &str,
    keep: &[PathBuf],
) -> Vec<PathBuf> {
    let Some(entry) = previous.papers.get(name) else {
        return Vec::new();
    };
    entry
        .outputs
        .iter()
        .filter(|o| !keep.contains(o))
        // This paper's entry lists it once; any more is another paper's.
        .filter(|o| listed.get(o.as_path()).is_none_or(|&n| n <= 1))
        .cloned()
        .collect()
}

/// Builds, writes and records one paper; a failure removes its stale copies.
fn build_one(paper: &PaperPath, run: &Run) -> Outcome {
    let (rules, templates, options, chromium, writer) = (
        run.rules,
        run.templates,
        run.options,
        run.chromium,
        run.writer,
    );
    let mut outcome = Outcome::default();
    let stale = |outcome: &mut Outcome| {
        if let Err(e) = writer.remove_stale(&output_paths(&paper.name, rules)) {
            outcome.error(&e);
        }
        outcome.old_assets = previous_outputs(run.previous, run.listed_before, &paper.name, &[]);
    };
    let text = match read_paper(&paper.path) {
        Ok(text) => text,
        Err(e) => {
            outcome.error(&e);
            stale(&mut outcome);
            return outcome;
        }
    };
    let key = manifest::key(&text, &run.inputs);
    let origin = manifest::origin(&paper.real, run.out_real);
    if !options.force
        && let Some(entry) = run.previous.papers.get(&paper.name)
        && entry.key == key
        && entry.outputs.iter().all(|p| writer.holds(p))
        && assets_unchanged(entry)
    {
        outcome.built = true;
        outcome.unchanged = true;
        outcome.entry = Some(Entry {
            source: paper.path.clone(),
            origin,
            ..entry.clone()
        });
        outcome.listed = unchanged_listed(&paper.name, &text, rules, &options.release);
        return outcome;
    }
    let mut staged = writer.stage();
    let built = match build_paper_into(
        &paper.path,
        &paper.name,
        &text,
        rules,
        templates,
        &options.release,
        &mut staged,
    ) {
        Ok(b) => b,
        Err(e) => {
            outcome.error(&e);
            stale(&mut outcome);
            return outcome;
        }
    };
    for warning in &built.warnings {
        outcome.messages.push_str(warning);
        outcome.messages.push('\n');
    }
    if !built.findings.is_empty() {
        for finding in &built.findings {
            outcome.messages.push_str(finding);
            outcome.messages.push('\n');
        }
        outcome.fail(Exit::Findings);
        stale(&mut outcome);
        return outcome;
    }
    let assets = match crate::assets::paper_assets(
        &paper.path,
        &paper.name,
        &text,
        &built.paper,
        rules,
        run.paper_files,
    ) {
        Ok(assets) => assets,
        Err(e) => {
            outcome.error(&e);
            stale(&mut outcome);
            return outcome;
        }
    };
    for warning in &assets.warnings {
        outcome.messages.push_str(warning);
        outcome.messages.push('\n');
    }
    for asset in &assets.assets {
        for audience in &asset.audiences {
            let relative = Path::new(audience).join(&asset.relative);
            let written = staged.open(&relative).and_then(|mut file| {
                file.write_all(&asset.bytes)
                    .and_then(|()| file.flush())
                    .map_err(|e| Error::path(&relative, format!("cannot write: {e}")))
            });
            if let Err(e) = written {
                outcome.error(&e);
                stale(&mut outcome);
                return outcome;
            }
        }
    }
    let pdf_paths = pdf_paths(&paper.name, rules);
    if let Some(chromium) = chromium
        && let Err(e) = pdfs(
            &built.paper,
            &mut staged,
            &text,
            rules,
            paper,
            chromium,
            &assets,
        )
    {
        outcome.error(&e);
        stale(&mut outcome);
        let _ = writer.remove_stale(&pdf_paths);
        return outcome;
    }
    // Read back before the move: a record holds exactly the bytes written.
    let public_markdown: Vec<(String, Vec<u8>)> = if options.record.is_some() {
        public_audiences(rules)
            .filter_map(|a| {
                let relative = Path::new(&a.name).join(format!("{}.md", paper.name));
                Some((a.name.clone(), staged.read(&relative)?))
            })
            .collect()
    } else {
        Vec::new()
    };
    let outputs: Vec<PathBuf> = staged.relatives().map(Path::to_path_buf).collect();
    if let Err(e) = staged.commit() {
        outcome.error(&e);
        stale(&mut outcome);
        let _ = writer.remove_stale(&pdf_paths);
        return outcome;
    }
    // Assets an earlier build of this paper copied that it no longer shows.
    outcome.old_assets = previous_outputs(run.previous, run.listed_before, &paper.name, &outputs);
    if chromium.is_none() {
        // A PDF from an earlier build would no longer match the copies just written.
        if let Err(e) = writer.remove_stale(&pdf_paths) {
            outcome.error(&e);
        }
    }
    if let Some(dir) = &options.record {
        for (audience, markdown) in &public_markdown {
            if let Err(e) = records::record(
                dir,
                audience,
                &paper.name,
                &String::from_utf8_lossy(markdown),
                &options.release,
            ) {
                outcome.error(&e);
            }
        }
    }
    outcome.built = true;
    outcome.written = outputs.len();
    outcome.entry = Some(Entry {
        source: paper.path.clone(),
        origin,
        key,
        outputs,
        assets: assets
            .assets
            .iter()
            .map(|a| manifest::AssetKey {
                source: a.source.clone(),
                sha256: a.source_sha256.clone(),
            })
            .collect(),
    });
    outcome.redactions = built.paper.redactions.len();
    outcome.listed = Some(Listed::of(&paper.name, &built.paper, rules));
    outcome
}

/// Where each audience's PDF of a paper goes.
fn pdf_paths(name: &str, rules: &Rules) -> Vec<PathBuf> {
    rules
        .audiences
        .iter()
        .map(|a| Path::new(&a.name).join(format!("{name}.pdf")))
        .collect()
}

/// Whether every asset the last build of a paper copied is still the file it was.
fn assets_unchanged(entry: &Entry) -> bool {
    use sha2::{Digest, Sha256};
    entry.assets.iter().all(|a| {
        std::fs::read(&a.source)
            .is_ok_and(|bytes| crate::rules::hex(&Sha256::digest(&bytes)) == a.sha256)
    })
}

/// What the indexes and notice list of a paper not rebuilt: its front matter, and with a
/// request (the notice names the exemptions relied on) the whole paper read again.
fn unchanged_listed(name: &str, text: &str, rules: &Rules, release: &Release) -> Option<Listed> {
    if release.request.is_some() {
        let paper = crate::parse::parse_paper(text, rules).ok()?;
        return Some(Listed::of(name, &paper, rules));
    }
    let split = crate::front_matter::split(text).ok()?;
    Some(Listed {
        name: name.to_string(),
        front_matter: crate::front_matter::parse(text, split, rules).ok()?,
        relied: Default::default(),
    })
}

/// Prints each audience's staged HTML to PDF, into the same stage.
fn pdfs(
    paper: &Paper,
    staged: &mut Staged,
    text: &str,
    rules: &Rules,
    source: &PaperPath,
    chromium: &Path,
    assets: &crate::assets::Assets,
) -> Result<(), Error> {
    let name = &source.name;
    // The page sits at `<audience>/<name>.html`: its assets are named from its own folder.
    let page_dir: Vec<&str> = name.split('/').collect();
    let page_dir = &page_dir[..page_dir.len() - 1];
    let fail = |message| Error::Render {
        path: source.path.clone(),
        message,
    };
    for audience in &rules.audiences {
        let html_path = Path::new(&audience.name).join(format!("{name}.html"));
        let Some(html) = staged.read(&html_path) else {
            continue;
        };
        let copy = copy_for(paper, text, audience);
        let loads: Vec<crate::pdf::Asset> = (assets.for_audience(&audience.name).into_iter())
            .map(|(relative, bytes)| crate::pdf::Asset {
                path: page_relative(page_dir, relative),
                bytes: bytes.to_vec(),
            })
            .collect();
        let pdf = crate::pdf::print_with_assets(
            chromium,
            &String::from_utf8_lossy(&html),
            &loads,
            &PdfMeta::for_copy(&copy),
        )
        .map_err(fail)?;
        let relative = Path::new(&audience.name).join(format!("{name}.pdf"));
        let mut file = staged.open(&relative)?;
        file.write_all(&pdf)
            .and_then(|()| file.flush())
            .map_err(|e| fail(format!("cannot write {}: {e}", relative.display())))?;
    }
    Ok(())
}

/// `asset` (`/`-separated, inside an audience folder) as a page in `page_dir` names it.
fn page_relative(page_dir: &[&str], asset: &str) -> String {
    let parts: Vec<&str> = asset.split('/').collect();
    let common = page_dir
        .iter()
        .zip(&parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out: Vec<&str> = vec![".."; page_dir.len() - common];
    out.extend(&parts[common..]);
    out.join("/")
}

/// The deny-list: `deny.yaml` in the rules folder in use, else the embedded default.
fn load_deny(common: &Common) -> Result<DenyList, Error> {
    let folder = match &common.rules {
        Some(dir) => Some(dir.clone()),
        None => Some(PathBuf::from("rules")).filter(|d| d.is_dir()),
    };
    match folder {
        None => DenyList::embedded(),
        Some(dir) => {
            let path = dir.join(DENY_FILE);
            match std::fs::read_to_string(&path) {
                Ok(text) => DenyList::parse(&path, &text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DenyList::empty()),
                Err(e) => Err(Error::path(&path, format!("cannot read: {e}"))),
            }
        }
    }
}

/// Prints `check`'s report: the scans' `findings`, and in JSON and SARIF also what was
/// `reported` on stderr about the papers (errors, warnings, failed proofs), so they carry
/// everything; the text report leaves those to stderr, where they are drawn already.
fn print_report(format: Format, findings: &[Finding], reported: &[Finding], deny: &DenyList) {
    let all = || {
        let mut all: Vec<Finding> = findings.iter().chain(reported).cloned().collect();
        sort_findings(&mut all);
        all
    };
    let output = match format {
        Format::Text => report::text(findings),
        Format::Json => report::json(&all()),
        Format::Sarif => report::sarif(&all(), deny),
    };
    print!("{output}");
}

/// One paper, built in memory for `check`: its copies were scanned for leaks as it was built
/// and let go, so a run holds no paper's copies beyond its own turn.
struct Checked {
    paper: PaperPath,
    text: String,
    parsed: Paper,
    scanned: Option<CopiesScanned>,
}

/// The rules folder in use, if any: `--rules`, else `./rules` if present.
fn rules_folder(common: &Common) -> Option<PathBuf> {
    match &common.rules {
        Some(dir) => Some(dir.clone()),
        None => Some(PathBuf::from("rules")).filter(|d| d.is_dir()),
    }
}

/// What suggesting personal data needs: `people.yaml` from the rules folder in use (none
/// there: nobody), else the embedded default, and the baseline if one is given.
fn load_suggester(common: &Common, baseline: Option<&Path>) -> Result<Suggester, Error> {
    let people = match rules_folder(common) {
        None => People::parse(&PathBuf::from("rules").join(PEOPLE_FILE), DEFAULT_PEOPLE)?,
        Some(dir) => {
            let path = dir.join(PEOPLE_FILE);
            match std::fs::read_to_string(&path) {
                Ok(text) => People::parse(&path, &text)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => People::default(),
                Err(e) => return Err(Error::path(&path, format!("cannot read: {e}"))),
            }
        }
    };
    let baseline = match baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::path(path, format!("cannot read: {e}")))?;
            Some(Baseline::parse(path, &text)?)
        }
        None => None,
    };
    Ok(Suggester {
        recognisers: Recognisers::new(),
        people,
        baseline,
    })
}

fn check(
    common: &Common,
    format: Format,
    released: Option<&Path>,
    baseline: Option<&Path>,
) -> Exit {
    let started = Instant::now();
    // Whatever stops a path or the run, as results too: code scanning then shows why a job
    // failed, not an empty report.
    // The text report leaves it on stderr, where it is drawn already.
    let stopped = |error: &Error| {
        let exit = report(error);
        if format != Format::Text {
            print_report(
                format,
                &[],
                &[report::error_finding(error)],
                &DenyList::empty(),
            );
        }
        exit
    };
    let Setup {
        rules,
        templates,
        papers,
        errors,
        empty,
        ..
    } = match setup(common, None) {
        Ok(s) => s,
        Err(e) => return stopped(&e),
    };
    let deny = match load_deny(common) {
        Ok(deny) => deny,
        Err(e) => return stopped(&e),
    };
    let suggester = match load_suggester(common, baseline) {
        Ok(s) => s,
        Err(e) => return stopped(&e),
    };
    let mut worst = Exit::Clean;
    let mut reported: Vec<Finding> = Vec::new();
    let mut errors = errors;
    // A folder with no paper is a mistyped or wrong path, never a clean pass.
    errors.extend(empty.iter().map(|folder| {
        Error::path(
            folder,
            "holds no papers (`*.md`); name a folder of papers, or a paper",
        )
    }));
    for e in &errors {
        worst = worst.max(report(e));
        reported.push(report::error_finding(e));
    }
    let release = Release::default();
    let options = CheckOptions {
        templates: &templates,
        release: &release,
    };
    let bar = progress(papers.len(), common.quiet);
    let files = paper_files(&papers);
    let results: Vec<(Outcome, Option<Checked>)> = papers
        .par_iter()
        .map(|paper| {
            let result = check_one(paper, &rules, &templates, &deny, &options, &files);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            result
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut checked = Vec::new();
    for (outcome, paper) in results {
        if !(common.quiet && outcome.exit.is_none()) {
            eprint!("{}", outcome.messages);
        }
        if let Some(exit) = outcome.exit {
            worst = worst.max(exit);
        }
        reported.extend(outcome.findings);
        checked.extend(paper);
    }
    let scanned: Vec<CopiesScanned> = (checked.iter_mut())
        .filter_map(|c| c.scanned.take())
        .collect();
    let inputs: Vec<CheckInput> = checked
        .iter()
        .map(|c| CheckInput {
            path: &c.paper.path,
            name: &c.paper.name,
            text: &c.text,
            paper: &c.parsed,
            outputs: &[],
        })
        .collect();
    let mut findings = check_scanned(&inputs, scanned, &rules, &deny);
    findings.extend(suggester.findings(&inputs, &rules));
    if let Some(dir) = released {
        for c in &checked {
            for audience in public_audiences(&rules) {
                match released_change(dir, c, audience, &rules, &templates) {
                    Ok(Some(finding)) => findings.push(finding),
                    Ok(None) => {}
                    Err(e) => {
                        worst = worst.max(report(&e));
                        reported.push(report::error_finding(&e));
                    }
                }
            }
        }
    }
    sort_findings(&mut findings);
    sort_findings(&mut reported);
    print_report(format, &findings, &reported, &deny);
    if !findings.is_empty() {
        worst = worst.max(Exit::Findings);
    }
    if !common.quiet {
        let count = |level| {
            findings
                .iter()
                .chain(&reported)
                .filter(|f| f.level == level)
                .count()
        };
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        eprintln!(
            "checked {} of {}: {} ({}, {}){}",
            checked.len(),
            plural(papers.len(), "paper"),
            plural(findings.len() + reported.len(), "finding"),
            plural(count(Level::Error), "error"),
            plural(count(Level::Warning), "warning"),
            elapsed(started)
        );
    }
    // Every paper's text, model and copies were held for the scans across papers: let them
    // go in parallel, as they were made.
    drop(inputs);
    checked.into_par_iter().for_each(drop);
    worst
}

fn check_one(
    paper: &PaperPath,
    rules: &Rules,
    templates: &Templates,
    deny: &DenyList,
    options: &CheckOptions,
    files: &std::collections::BTreeSet<PathBuf>,
) -> (Outcome, Option<Checked>) {
    let mut outcome = Outcome::default();
    let text = match read_paper(&paper.path) {
        Ok(text) => text,
        Err(e) => {
            outcome.error(&e);
            return (outcome, None);
        }
    };
    // The council pages and the audit's files are never scanned: only the public copies are
    // rendered (the audit's proof still runs on every copy).
    let built = match build_paper_only(
        &paper.path,
        &paper.name,
        &text,
        rules,
        templates,
        options.release,
        Some(public_paths(&paper.name, rules)),
    ) {
        Ok(b) => b,
        Err(e) => {
            outcome.error(&e);
            return (outcome, None);
        }
    };
    for line in built.warnings.iter().chain(&built.findings) {
        outcome.messages.push_str(line);
        outcome.messages.push('\n');
    }
    outcome.findings.extend(
        (built.warnings.iter())
            .map(|line| report::warning_finding(&paper.path, line))
            .chain((built.findings.iter()).map(|line| report::proof_finding(&paper.path, line))),
    );
    // An asset build would refuse fails check too (its metadata removal included).
    match crate::assets::paper_assets(&paper.path, &paper.name, &text, &built.paper, rules, files) {
        Ok(assets) => {
            for warning in &assets.warnings {
                outcome.messages.push_str(warning);
                outcome.messages.push('\n');
            }
        }
        Err(e) => {
            outcome.error(&e);
            return (outcome, None);
        }
    }
    let outputs = if built.findings.is_empty() {
        public_outputs_from(&paper.name, built.outputs, rules)
    } else {
        outcome.fail(Exit::Findings);
        // The copies failed their proof and were not kept: scan them as rendered anyway.
        match public_outputs(&built.paper, &text, rules, options) {
            Ok(outputs) => outputs,
            Err(message) => {
                outcome.error(&Error::Render {
                    path: paper.path.clone(),
                    message,
                });
                return (outcome, None);
            }
        }
    };
    let input = CheckInput {
        path: &paper.path,
        name: &paper.name,
        text: &text,
        paper: &built.paper,
        outputs: &outputs,
    };
    let scanned = scan_copies(&input, rules, deny, options);
    drop(outputs);
    let checked = Checked {
        paper: paper.clone(),
        text,
        parsed: built.paper,
        scanned: Some(scanned),
    };
    (outcome, Some(checked))
}

/// A `release/changed` finding when the copy differs from the one recorded as released.
fn released_change(
    dir: &Path,
    checked: &Checked,
    audience: &crate::rules::Audience,
    rules: &Rules,
    templates: &Templates,
) -> Result<Option<crate::check::Finding>, Error> {
    let Some((record, _)) = records::load(dir, &audience.name, &checked.paper.name)? else {
        return Ok(None);
    };
    // Rebuild the copy as it was released: the schedule prints that release's request and date.
    let release = record.release();
    let options = CheckOptions {
        templates,
        release: &release,
    };
    let outputs =
        public_outputs(&checked.parsed, &checked.text, rules, &options).map_err(|message| {
            Error::Render {
                path: checked.paper.path.clone(),
                message,
            }
        })?;
    let Some(current) = outputs.iter().find(|o| o.audience == audience.name) else {
        return Ok(None);
    };
    let change = records::compare(dir, &audience.name, &checked.paper.name, &current.markdown)?;
    Ok(change.map(|c| records::changed_finding(&checked.paper.path, &c)))
}

struct SuggestOptions {
    format: Format,
    apply: bool,
    baseline: Option<PathBuf>,
    write_baseline: Option<PathBuf>,
}

/// One paper's suggestions, for `suggest`.
struct Suggested {
    paper: PaperPath,
    text: String,
    suggestions: Vec<crate::suggest::Suggestion>,
}

/// `redact suggest`: lists the personal data nobody tagged; with `--apply`, tags it in the
/// papers; with `--write-baseline`, records it as acknowledged.
fn suggest(common: &Common, options: &SuggestOptions) -> Exit {
    let Setup {
        rules,
        papers,
        errors,
        empty,
        ..
    } = match setup(common, None) {
        Ok(s) => s,
        Err(e) => return report(&e),
    };
    let mut worst = Exit::Clean;
    for e in &errors {
        worst = worst.max(report(e));
    }
    for folder in &empty {
        worst = worst.max(report(&Error::path(
            folder,
            "holds no papers (`*.md`); name a folder of papers, or a paper",
        )));
    }
    let suggester = match load_suggester(common, options.baseline.as_deref()) {
        Ok(s) => s,
        Err(e) => return report(&e),
    };
    if crate::suggest::s40_audiences(&rules).next().is_none() && !common.quiet {
        eprintln!("no audience withholds S40: nothing is suggested");
    }
    let results: Vec<Result<Suggested, Error>> = papers
        .par_iter()
        .map(|paper| {
            let text = read_paper(&paper.path)?;
            let parsed = crate::parse::parse_paper(&text, &rules)
                .map_err(|d| crate::source::source_error(&paper.path, &text, d))?;
            let suggestions = suggester.paper(&text, &parsed, &rules);
            Ok(Suggested {
                paper: paper.clone(),
                text,
                suggestions,
            })
        })
        .collect();
    let mut suggested = Vec::new();
    for result in results {
        match result {
            Ok(s) => suggested.push(s),
            Err(e) => worst = worst.max(report(&e)),
        }
    }
    if let Some(file) = &options.write_baseline {
        let mut entries: Vec<Acknowledgement> = Vec::new();
        for s in &suggested {
            for sug in &s.suggestions {
                let shown = s.paper.path.to_string_lossy().replace('\\', "/");
                let kept = suggester.baseline.as_ref().and_then(|b| {
                    b.find([&s.paper.name, &shown], sug.kind, &sug.value)
                        .map(|k| b.entries[k].reason.clone())
                });
                entries.push(Acknowledgement {
                    paper: s.paper.name.clone(),
                    kind: sug.kind,
                    value: sug.value.clone(),
                    reason: kept.unwrap_or_else(|| {
                        "present when the baseline was written; not yet reviewed".into()
                    }),
                    span: crate::span::Span::default(),
                });
            }
        }
        let count = entries.len();
        if let Err(e) = write_file(file, render_baseline(&entries).as_bytes()) {
            return worst.max(report(&e));
        }
        if !common.quiet {
            eprintln!(
                "recorded {count} suggestion{} in {}",
                if count == 1 { "" } else { "s" },
                file.display()
            );
        }
        return worst;
    }
    let mut findings = Vec::new();
    for s in &suggested {
        let (listed, _) =
            suggester.paper_findings(&s.paper.path, &s.paper.name, &s.text, &s.suggestions);
        if !options.apply {
            findings.extend(listed);
            continue;
        }
        // Only what is not acknowledged is tagged; front matter cannot be, and stays listed.
        let shown = s.paper.path.to_string_lossy().replace('\\', "/");
        let (front, pending): (Vec<_>, Vec<_>) = s
            .suggestions
            .iter()
            .filter(|sug| {
                suggester.baseline.as_ref().is_none_or(|b| {
                    b.find([&s.paper.name, &shown], sug.kind, &sug.value)
                        .is_none()
                })
            })
            .cloned()
            .partition(|sug| sug.front_matter);
        if !front.is_empty() {
            let index = crate::span::LineIndex::new(&s.text);
            findings.extend(
                front
                    .iter()
                    .map(|sug| finding(&shown, &s.text, &index, sug)),
            );
        }
        match apply(&s.text, &pending, &rules) {
            Applied::Nothing => {}
            Applied::Tagged(text, n) => match write_file(&s.paper.path, text.as_bytes()) {
                Ok(()) => {
                    if !common.quiet {
                        eprintln!(
                            "{}: tagged {n} suggestion{} with S40",
                            s.paper.path.display(),
                            if n == 1 { "" } else { "s" }
                        );
                    }
                }
                Err(e) => worst = worst.max(report(&e)),
            },
            Applied::Unchanged(problems) => {
                let index = crate::span::LineIndex::new(&s.text);
                for (span, why) in problems {
                    let (line, col) = index.line_col(&s.text, span.start);
                    eprintln!("{}:{line}:{col}: cannot tag: {why}", s.paper.path.display());
                }
                eprintln!("{}: left unchanged", s.paper.path.display());
                let shown = s.paper.path.to_string_lossy().replace('\\', "/");
                findings.extend(
                    pending
                        .iter()
                        .map(|sug| finding(&shown, &s.text, &index, sug)),
                );
                worst = worst.max(Exit::Findings);
            }
        }
    }
    crate::check::sort_findings(&mut findings);
    let output = match options.format {
        Format::Text => report::text(&findings),
        Format::Json => report::json(&findings),
        Format::Sarif => report::sarif(&findings, &DenyList::empty()),
    };
    print!("{output}");
    if !findings.is_empty() {
        worst = worst.max(Exit::Findings);
    }
    if !common.quiet {
        eprintln!(
            "{} suggestion{} in {} paper{}",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            suggested.len(),
            if suggested.len() == 1 { "" } else { "s" },
        );
    }
    worst
}

/// Replaces a file's bytes atomically: a temporary file beside it, then a rename, so a paper
/// is never left half written.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |e: std::io::Error| Error::path(path, format!("cannot write: {e}"));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.flush().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn assets_are_named_from_the_pages_folder() {
        assert_eq!(super::page_relative(&[], "img/c.png"), "img/c.png");
        assert_eq!(super::page_relative(&["sub"], "sub/img/c.png"), "img/c.png");
        assert_eq!(super::page_relative(&["sub"], "img/c.png"), "../img/c.png");
        assert_eq!(super::page_relative(&["a", "b"], "a/c/d.png"), "../c/d.png");
    }
}
