//! Command line: clap types, and the two commands wired from reading to writing. Maps every
//! outcome to an [`Exit`]; errors and progress go to stderr, stdout only carries reports.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{Error, Exit};
use crate::pipeline::{build_paper, output_paths};
use crate::schedule::{Release, parse_date, parse_request};
use crate::source::{load_rules, load_templates, read_paper, walk};
use crate::write::Writer;

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

#[derive(Subcommand, Debug)]
enum Command {
    /// Build every audience's copies of each paper.
    Build {
        /// Papers, or folders of papers (walked in sorted order).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Rules folder (default: ./rules if present, else the embedded defaults).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Templates folder (default: ./templates if present, else the embedded defaults).
        #[arg(long)]
        templates: Option<PathBuf>,
        /// FOI request reference, printed in each copy's schedule of exemptions and the audit.
        #[arg(long, value_name = "REF", value_parser = parse_request)]
        request: Option<String>,
        /// Release date, printed in each copy's schedule and the audit (no date otherwise).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<String>,
    },
    /// Run every lint of `build` without writing anything.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        templates: Option<PathBuf>,
    },
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
            paths,
            out,
            rules,
            templates,
            request,
            date,
        } => build(
            &paths,
            Some(&out),
            rules.as_deref(),
            templates.as_deref(),
            &Release { request, date },
        ),
        Command::Check {
            paths,
            rules,
            templates,
        } => build(
            &paths,
            None,
            rules.as_deref(),
            templates.as_deref(),
            &Release::default(),
        ),
    };
    ExitCode::from(exit as u8)
}

fn report(error: &Error) -> Exit {
    eprint!("{}", error.render());
    error.exit()
}

/// Builds every paper; with `out` None nothing is written (`check`).
fn build(
    paths: &[PathBuf],
    out: Option<&std::path::Path>,
    rules: Option<&std::path::Path>,
    templates: Option<&std::path::Path>,
    release: &Release,
) -> Exit {
    let rules = match load_rules(rules) {
        Ok(rules) => rules,
        Err(e) => return report(&e),
    };
    let templates = match load_templates(templates) {
        Ok(t) => t,
        Err(e) => return report(&e),
    };
    let found = match walk(paths, out) {
        Ok(found) => found,
        Err(e) => return report(&e),
    };
    let mut worst = Exit::Clean;
    for e in &found.errors {
        worst = worst.max(report(e));
    }
    let writer = match out.map(Writer::new).transpose() {
        Ok(w) => w,
        Err(e) => return report(&e),
    };
    let mut built = 0;
    for paper in &found.papers {
        let result = read_paper(&paper.path).and_then(|text| {
            build_paper(&paper.path, &paper.name, &text, &rules, &templates, release)
        });
        match result {
            Ok(b) => {
                for warning in &b.warnings {
                    eprintln!("{warning}");
                }
                if !b.findings.is_empty() {
                    for finding in &b.findings {
                        eprintln!("{finding}");
                    }
                    worst = worst.max(Exit::Findings);
                    if let Some(writer) = &writer
                        && let Err(e) = writer.remove_stale(&output_paths(&paper.name, &rules))
                    {
                        worst = worst.max(report(&e));
                    }
                    continue;
                }
                if let Some(writer) = &writer
                    && let Err(e) = writer.write_paper(&b.outputs)
                {
                    worst = worst.max(report(&e));
                    let _ = writer.remove_stale(&output_paths(&paper.name, &rules));
                    continue;
                }
                built += 1;
            }
            Err(e) => {
                worst = worst.max(report(&e));
                if let Some(writer) = &writer
                    && let Err(e) = writer.remove_stale(&output_paths(&paper.name, &rules))
                {
                    worst = worst.max(report(&e));
                }
            }
        }
    }
    let verb = if out.is_some() { "built" } else { "checked" };
    eprintln!(
        "{verb} {built} of {} paper{}",
        found.papers.len(),
        if found.papers.len() == 1 { "" } else { "s" }
    );
    worst
}
