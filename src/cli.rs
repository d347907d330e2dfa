//! Command line: clap types, and the two commands wired from reading to writing. Maps every
//! outcome to an [`Exit`]; errors and progress go to stderr, stdout only carries reports.
//!
//! Papers are built in parallel (rayon); every message is collected per paper and printed in
//! the walk's sorted order, so what a run prints does not depend on thread timing.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::check::{
    CheckInput, CheckOptions, PublicOutput, check_papers, public_audiences, public_outputs,
    public_outputs_from, public_paths, sort_findings,
};
use crate::deny::{DENY_FILE, DenyList};
use crate::error::{Error, Exit};
use crate::index::Listed;
use crate::manifest::{self, Entry, Inputs, MANIFEST_FILE, Manifest};
use crate::model::Paper;
use crate::pdf::{PdfMeta, find_chromium};
use crate::pipeline::{build_paper_into, build_paper_only, output_paths};
use crate::records;
use crate::redact::copy_for;
use crate::release::{ReleaseInput, check_request, release_outputs};
use crate::render::Templates;
use crate::report;
use crate::rules::Rules;
use crate::schedule::{Release, parse_date, parse_request};
use crate::source::{PaperPath, load_rules, load_templates, read_manifest, read_paper, walk};
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
        } => with_jobs(common.jobs, || check(&common, format, released.as_deref())),
    };
    ExitCode::from(exit as u8)
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
fn elapsed(started: Instant) -> String {
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
    worst: Exit,
}

fn setup(common: &Common, out: Option<&Path>) -> Result<Setup, Exit> {
    let rules = load_rules(common.rules.as_deref()).map_err(|e| report(&e))?;
    let templates = load_templates(common.templates.as_deref()).map_err(|e| report(&e))?;
    let found = walk(&common.paths, out).map_err(|e| report(&e))?;
    let mut worst = Exit::Clean;
    for e in &found.errors {
        worst = worst.max(report(e));
    }
    Ok(Setup {
        rules,
        templates,
        papers: found.papers,
        worst,
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
    /// What the indexes and the release notice list of it, when its copies are in place.
    listed: Option<Listed>,
}

impl Outcome {
    fn error(&mut self, error: &Error) {
        self.messages.push_str(&error.render());
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
        mut worst,
    } = match setup(common, Some(&options.out)) {
        Ok(s) => s,
        Err(exit) => return exit,
    };
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
    let writer = match Writer::new(&options.out) {
        Ok(w) => w,
        Err(e) => return report(&e),
    };
    let previous = read_manifest(&options.out).unwrap_or_default();
    let inputs = Inputs {
        rules_hash: &rules.hash,
        templates_hash: &templates.hash,
        release: &options.release,
        pdf: options.pdf,
    };
    let bar = progress(papers.len(), common.quiet);
    let files = paper_files(&papers);
    let run = Run {
        rules: &rules,
        templates: &templates,
        options,
        chromium: chromium.as_deref(),
        writer: &writer,
        previous: &previous,
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
        manifest: 1,
        papers: Default::default(),
    };
    for (paper, outcome) in papers.iter().zip(&outcomes) {
        if let Some(entry) = &outcome.entry {
            manifest.papers.insert(paper.name.clone(), entry.clone());
        }
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
    // Copies of papers that were built from one of these folders before but are gone now.
    let folders: Vec<PathBuf> = common
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .cloned()
        .collect();
    let found: Vec<String> = papers.iter().map(|p| p.name.clone()).collect();
    for (name, entry) in previous.gone(&folders, &found) {
        // An asset a paper still built shares with the one gone stays.
        let outputs: Vec<PathBuf> = entry
            .outputs
            .iter()
            .filter(|o| !manifest.papers.values().any(|e| e.outputs.contains(o)))
            .cloned()
            .collect();
        match writer.remove_stale(&outputs) {
            Ok(()) => {
                if !common.quiet {
                    eprintln!(
                        "removed the copies of `{name}`: {} is no longer in the input",
                        entry.source.display()
                    );
                }
            }
            Err(e) => worst = worst.max(report(&e)),
        }
    }
    // Keep what earlier builds recorded for papers this run did not touch.
    for (name, entry) in &previous.papers {
        let touched = found.contains(name)
            || previous
                .gone(&folders, &found)
                .iter()
                .any(|(n, _)| n == name);
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
        let skipped = if unchanged > 0 {
            format!(" ({unchanged} unchanged, not rebuilt)")
        } else {
            String::new()
        };
        eprintln!(
            "built {built} of {} paper{}{skipped}: {written} files written, {redactions} redactions{}",
            papers.len(),
            if papers.len() == 1 { "" } else { "s" },
            elapsed(started)
        );
    }
    worst
}

/// What every paper of a build shares.
struct Run<'a> {
    rules: &'a Rules,
    templates: &'a Templates,
    options: &'a BuildOptions,
    chromium: Option<&'a Path>,
    writer: &'a Writer,
    previous: &'a Manifest,
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

/// Files an earlier build wrote for `name` that no other paper's entry lists: its assets
/// besides its copies (an asset two papers share stays while either has it).
fn previous_outputs(previous: &Manifest, name: &str, keep: &[PathBuf]) -> Vec<PathBuf> {
    let Some(entry) = previous.papers.get(name) else {
        return Vec::new();
    };
    entry
        .outputs
        .iter()
        .filter(|o| !keep.contains(o))
        .filter(|o| {
            !previous
                .papers
                .iter()
                .any(|(other, e)| other != name && e.outputs.contains(o))
        })
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
        let mut paths = output_paths(&paper.name, rules);
        paths.extend(previous_outputs(run.previous, &paper.name, &[]));
        if let Err(e) = writer.remove_stale(&paths) {
            outcome.error(&e);
        }
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
    if !options.force
        && let Some(entry) = run.previous.papers.get(&paper.name)
        && entry.key == key
        && manifest::outputs_present(&options.out, entry)
        && assets_unchanged(entry)
    {
        outcome.built = true;
        outcome.unchanged = true;
        outcome.entry = Some(entry.clone());
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
    let pdf_paths: Vec<PathBuf> = rules
        .audiences
        .iter()
        .map(|a| Path::new(&a.name).join(format!("{}.pdf", paper.name)))
        .collect();
    if let Some(chromium) = chromium
        && let Err(e) = pdfs(&built.paper, &mut staged, &text, rules, paper, chromium)
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
    if let Err(e) = writer.remove_stale(&previous_outputs(run.previous, &paper.name, &outputs)) {
        outcome.error(&e);
    }
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
) -> Result<(), Error> {
    let name = &source.name;
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
        let pdf = crate::pdf::print(
            chromium,
            &String::from_utf8_lossy(&html),
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

/// One paper, built in memory for `check`.
struct Checked {
    paper: PaperPath,
    text: String,
    parsed: Paper,
    outputs: Vec<PublicOutput>,
}

fn check(common: &Common, format: Format, released: Option<&Path>) -> Exit {
    let started = Instant::now();
    let Setup {
        rules,
        templates,
        papers,
        mut worst,
    } = match setup(common, None) {
        Ok(s) => s,
        Err(exit) => return exit,
    };
    let deny = match load_deny(common) {
        Ok(deny) => deny,
        Err(e) => return report(&e),
    };
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
            let result = check_one(paper, &rules, &templates, &options, &files);
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
        checked.extend(paper);
    }
    let inputs: Vec<CheckInput> = checked
        .iter()
        .map(|c| CheckInput {
            path: &c.paper.path,
            name: &c.paper.name,
            text: &c.text,
            paper: &c.parsed,
            outputs: &c.outputs,
        })
        .collect();
    let mut findings = check_papers(&inputs, &rules, &deny, &options);
    if let Some(dir) = released {
        for c in &checked {
            for audience in public_audiences(&rules) {
                match released_change(dir, c, audience, &rules, &templates) {
                    Ok(Some(finding)) => findings.push(finding),
                    Ok(None) => {}
                    Err(e) => worst = worst.max(report(&e)),
                }
            }
        }
    }
    sort_findings(&mut findings);
    let output = match format {
        Format::Text => report::text(&findings),
        Format::Json => report::json(&findings),
        Format::Sarif => report::sarif(&findings, &deny),
    };
    print!("{output}");
    if !findings.is_empty() {
        worst = worst.max(Exit::Findings);
    }
    if !common.quiet {
        eprintln!(
            "checked {} of {} paper{}: {} finding{}{}",
            checked.len(),
            papers.len(),
            if papers.len() == 1 { "" } else { "s" },
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
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
    let checked = Checked {
        paper: paper.clone(),
        text,
        parsed: built.paper,
        outputs,
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
