//! Throughput benchmark: `cargo run --release --example bench [-- OPTIONS]`.
//!
//! Generates its own deterministic corpus (N papers of about 10 KB with one redaction per
//! ~400 bytes in all three forms, and one large paper), then reports in one run the throughput
//! of raw pulldown-cmark parse + HTML render of the same papers (the floor no pipeline that
//! parses and renders can beat), of the full `build` in memory and to disk, on one thread and
//! on all cores, each as a ratio of the raw figure and of the floor (below, "× floor": time
//! against the floor's, same threads); the cost per byte at several corpus sizes
//! and on the large paper; and the peak memory of each phase (VmHWM from /proc/self/status,
//! reset before each phase where Linux allows it; the corpus itself is held in memory
//! throughout, so it is in every figure). The phases run in rounds, each phase once a round,
//! and each row is that phase's fastest round, so a slow spell on a shared machine falls on
//! every phase alike. `check`
//! runs as `redact check` does, in memory: every paper built in parallel, then the scans
//! across the set; its time is also given as a ratio to `build`'s.
//!
//! The floor is the work the design cannot skip, done by raw pulldown-cmark with the build's
//! options: one offset-iterator pass over each source (the parse needs byte ranges), and a
//! parse and HTML render of each audience's Markdown as the build wrote it (each page is
//! rendered from its own copy, never from the source), that Markdown made before timing.
//!
//! Options:
//!   --papers N     papers in the main corpus (default 1000; the per-byte table also runs
//!                  N/4 and 4N)
//!   --big-mb M     size of the large paper in MB (default 20)
//!   --stages       time each stage of `build_paper` on one thread, on the corpus and on the
//!                  large paper, instead of the tables: the stages add up to a build, and
//!                  reference rows (the pipeline itself, the proof alone, the floor's raw
//!                  pass and page renders) put each speed target on the same table
//!   --audit-floors  on the corpus and on the large paper, on one thread: the audit's stages
//!                  beside what they cannot go below (the line diff alone, as the proof
//!                  calls `similar`; tera's render of the audit page with every value
//!                  already made), and the bytes the audit writes against the pages'; and
//!                  the least a build could cost with its audit at those floors (and its
//!                  JSON) and every other stage at the main table's floor, or the pages at a
//!                  raw render of their own Markdown; then with the parse's own reading, the
//!                  second reader and the copies at one look at each byte they must read, and
//!                  to disk with the build's outputs written as plain files
//!   --profile S    build the corpus on one thread for S seconds and nothing else (for
//!                  `perf record --call-graph dwarf`)
//!   --profile-check S  the same for `check`
//!   --profile-parse S  the same for the parse alone (`parse_paper`, one thread)
//!   --profile-raw S    the same for the raw offset-iterator pass over the same papers (what
//!                  the parse is measured against)
//!   --profile-large  the profiling runs on the large paper alone instead of the corpus
//!   --threads N    threads for the two profiling runs (default 1)
//!   --rounds R     rounds of the main table (default 5): each runs every phase once, and
//!                  each phase's figure is its fastest round
//!   --suggest      time `check` with and without its suggestions of personal data, in
//!                  rounds on one thread and on all cores, print the time ratio and stop
//!   --templates DIR  render with the templates in DIR, as `--templates DIR` does
//!   --write DIR    write the corpus and the large paper into DIR as `.md` files and stop
//!                  (to build them with the binary, or compare two builds' outputs)

use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use redact::audit::{AuditInput, CopyOutput, prepare, verify};
use redact::check::{CheckInput, CheckOptions, check_papers, public_outputs_from, public_paths};
use redact::deny::DenyList;
use redact::html_policy;
use redact::model::Paper;
use redact::parse::{markdown_options, parse_paper};
use redact::pipeline::{build_paper, build_paper_only};
use redact::redact::copy_for;
use redact::render::{PageSource, Templates, copy_markdown};
use redact::reread::{Layout, Reader};
use redact::rules::Rules;
use redact::schedule::{Release, schedule_for};
use redact::source::load_templates;
use redact::suggest::Suggester;
use redact::write::Writer;

/// A small deterministic generator (no dependency, same corpus on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: [&str; 40] = [
    "policing",
    "council",
    "regional",
    "organised",
    "crime",
    "unit",
    "funding",
    "review",
    "force",
    "national",
    "officers",
    "partners",
    "strategy",
    "delivery",
    "capability",
    "investment",
    "the",
    "and",
    "of",
    "to",
    "with",
    "for",
    "operational",
    "support",
    "in",
    "a",
    "chief",
    "constables",
    "agreed",
    "that",
    "tasking",
    "network",
    "performance",
    "framework",
    "uplift",
    "year",
    "£2.2m",
    "ROCU",
    "Home Office",
    "is",
];
/// Codes as they appear in tags, qualified and absolute, one and two at a time.
const CODES: [&str; 8] = [
    ".S31",
    ".S24",
    ".S23",
    ".S31 .S24",
    ".S40",
    ".S43",
    ".S31 #ID",
    ".S23 .S24",
];
/// Codes above whose exemption is absolute: every other tag needs a public interest test.
const ABSOLUTE: [&str; 2] = [".S23", ".S40"];
const REASONS: [&str; 4] = [
    " reason=\"identifies the region where phase two activity is concentrated\"",
    " reason='reveals a capability and the partner that supplies it'",
    " reason=\"names a person who gave information in confidence\"",
    "",
];
const PITS: [&str; 3] = [
    " pit=\"Disclosure would let groups anticipate interdiction.\"",
    " pit='The risk to the partner outweighs openness on spending.'",
    " pit=\"The published totals meet the public interest.\"",
];

/// Words only withheld passages use: what real withheld text is made of (methods, targets,
/// places, people, figures) is specific, and published prose never repeats it. The words they
/// share with published prose are all stop-words, so no run of withheld words that could be a
/// consistency finding is ever published.
const SECRET_WORDS: [&str; 32] = [
    "surveillance",
    "covert",
    "informant",
    "handler",
    "deployed",
    "target",
    "suspects",
    "arrested",
    "premises",
    "vehicle",
    "warrant",
    "seized",
    "observed",
    "meeting",
    "address",
    "tracking",
    "device",
    "route",
    "shipment",
    "cash",
    "firearms",
    "associates",
    "nominal",
    "entry",
    "intercept",
    "lock-up",
    "courier",
    "safehouse",
    "tasked",
    "debrief",
    "sighting",
    "cutout",
];
const CONNECTIVES: [&str; 10] = [
    "the", "of", "at", "in", "on", "by", "from", "with", "and", "to",
];
const OPERATION_ADJECTIVES: [&str; 12] = [
    "AMBER", "COBALT", "GRANITE", "SCARLET", "SILENT", "NORTHERN", "IRON", "COPPER", "HOLLOW",
    "WINTER", "SILVER", "OCHRE",
];
const OPERATION_NOUNS: [&str; 16] = [
    "KESTREL",
    "HARRIER",
    "CORNCRAKE",
    "NIGHTJAR",
    "MERLIN",
    "BITTERN",
    "CURLEW",
    "DUNLIN",
    "GOSHAWK",
    "LAPWING",
    "PTARMIGAN",
    "REDSHANK",
    "SISKIN",
    "WHIMBREL",
    "WRYNECK",
    "AVOCET",
];
const FIRST_NAMES: [&str; 12] = [
    "Aled", "Bethan", "Callum", "Deborah", "Eamon", "Farida", "Gareth", "Hollie", "Imran",
    "Jolene", "Kieran", "Leona",
];
const SURNAMES: [&str; 12] = [
    "Ashworth",
    "Brennan",
    "Castell",
    "Dobrev",
    "Eckersley",
    "Fairweather",
    "Gillan",
    "Hartigan",
    "Iqbal",
    "Jarvis",
    "Kowalczyk",
    "Lomax",
];
const PLACE_STARTS: [&str; 16] = [
    "Ash", "Brad", "Cal", "Dun", "Ells", "Farn", "Gal", "Hart", "Kel", "Lang", "Mor", "Pen",
    "Ross", "Sand", "Thorn", "Wick",
];
const PLACE_ENDS: [&str; 12] = [
    "by", "ford", "ham", "ley", "mouth", "stead", "thorpe", "wick", "field", "bury", "combe", "ton",
];
const PLACE_KINDS: [&str; 6] = ["Road", "Lane", "Wharf", "Industrial Estate", "Quay", "Mews"];

/// The specifics one paper's withheld passages keep coming back to: its operation, places and
/// people, different in every paper.
struct Secrets {
    operation: String,
    places: Vec<String>,
    people: Vec<String>,
}

impl Secrets {
    fn new(rng: &mut Lcg) -> Secrets {
        let operation = format!(
            "Operation {} {}",
            rng.pick(&OPERATION_ADJECTIVES),
            rng.pick(&OPERATION_NOUNS)
        );
        let places = (0..4)
            .map(|_| {
                format!(
                    "{}{} {}",
                    rng.pick(&PLACE_STARTS),
                    rng.pick(&PLACE_ENDS),
                    rng.pick(&PLACE_KINDS)
                )
            })
            .collect();
        let people = (0..4)
            .map(|_| format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&SURNAMES)))
            .collect();
        Secrets {
            operation,
            places,
            people,
        }
    }

    /// One specific: a name, a place, a figure, a registration, a time, a collar number.
    fn specific(&self, rng: &mut Lcg) -> String {
        let letter = |rng: &mut Lcg| char::from(b'A' + rng.below(26) as u8);
        match rng.below(9) {
            0 => self.operation.clone(),
            1 | 2 => self.places[rng.below(4) as usize].clone(),
            3 => self.people[rng.below(4) as usize].clone(),
            4 => format!("£{}.{}m", 1 + rng.below(40), rng.below(10)),
            5 => format!("{}kg", 2 + rng.below(400)),
            6 => format!(
                "{}{}{:02} {}{}{}",
                letter(rng),
                letter(rng),
                rng.below(100),
                letter(rng),
                letter(rng),
                letter(rng)
            ),
            7 => format!("{:02}{:02}hrs", rng.below(24), rng.below(60)),
            _ => format!("DC {}", 1000 + rng.below(9000)),
        }
    }
}

/// Withheld text of about `words` words: specifics, with the words such passages are made
/// of, the odd connective and the same emphasis, code and links as published prose.
fn secret(rng: &mut Lcg, secrets: &Secrets, words: usize) -> String {
    let mut out = String::new();
    for k in 0..words {
        if k > 0 {
            out.push(' ');
        }
        let word = match rng.below(8) {
            0 | 1 => secrets.specific(rng),
            2 | 3 => rng.pick(&CONNECTIVES).to_string(),
            _ => rng.pick(&SECRET_WORDS).to_string(),
        };
        match rng.below(40) {
            0 => out.push_str(&format!("**{word}**")),
            1 => out.push_str(&format!("*{word}*")),
            2 => out.push_str(&format!(
                "[{word}](https://casefiles.internal/{}/{k})",
                secrets.operation.replace(' ', "-").to_lowercase()
            )),
            3 => out.push_str(&format!("`{word}`")),
            _ => out.push_str(&word),
        }
    }
    out
}

/// Words, with the odd emphasis, strong text and link, as a paper's prose has them.
fn prose(rng: &mut Lcg, words: usize) -> String {
    let mut out = String::new();
    for k in 0..words {
        if k > 0 {
            out.push(' ');
        }
        let word = rng.pick(&WORDS);
        match rng.below(40) {
            0 => out.push_str(&format!("**{word}**")),
            1 => out.push_str(&format!("*{word}*")),
            2 => out.push_str(&format!("[{word}](https://example.org/{k})")),
            3 => out.push_str(&format!("`{word}`")),
            _ => out.push_str(word),
        }
    }
    out
}

/// A tag's attribute block: codes, sometimes an id, a reason, and a public interest summary
/// wherever an exemption is qualified.
fn tag(rng: &mut Lcg, ids: &mut usize) -> String {
    let code = rng.pick(&CODES);
    let qualified = !ABSOLUTE.contains(&code);
    let code = if code.contains("#ID") {
        *ids += 1;
        code.replace("#ID", &format!("#r{ids}"))
    } else {
        code.to_string()
    };
    let reason = rng.pick(&REASONS);
    let pit = if qualified { rng.pick(&PITS) } else { "" };
    format!("{{{code}{reason}{pit}}}")
}

/// A paragraph of about 35 words with one span redaction in it.
fn span_paragraph(rng: &mut Lcg, secrets: &Secrets, ids: &mut usize) -> String {
    format!(
        "{} [{}]{} {}.\n",
        prose(rng, 18),
        secret(rng, secrets, 7),
        tag(rng, ids),
        prose(rng, 10)
    )
}

/// One paper of about `bytes` bytes with one redaction per ~400 bytes, in every form: spans
/// (in prose, list items and table cells), fenced divs (some with nested spans), and
/// withheld heading sections; with lists, tables, a blockquote and notes to authors. What
/// is withheld is drawn from the paper's own [`Secrets`], so `check` finds it clean.
fn paper(seed: u64, bytes: usize) -> String {
    let mut rng = Lcg(seed);
    let secrets = Secrets::new(&mut rng);
    let mut ids = 0;
    let mut out = format!(
        "---\ntitle: Generated paper {seed}\nclassification: OFFICIAL-SENSITIVE\norganisation: NPCC Bench Portfolio\ndate: 2024-03-14\nreference: CCC/2024/{seed:04}\n---\n\n<!-- Author note: figures re-checked against the tasking return. -->\n\n## 1. Introduction\n\n"
    );
    let mut section = 1;
    while out.len() < bytes {
        match rng.below(16) {
            0 | 1 => {
                section += 1;
                let t = tag(&mut rng, &mut ids);
                out.push_str(&format!(
                    "\n### {section}. {} {t}\n\n{}\n{}.\n\n### {section}b. {}\n\n",
                    secret(&mut rng, &secrets, 4),
                    secret(&mut rng, &secrets, 18),
                    secret(&mut rng, &secrets, 10),
                    prose(&mut rng, 3)
                ));
            }
            2 | 3 => {
                let t = tag(&mut rng, &mut ids);
                let nested = if rng.below(2) == 0 {
                    format!(
                        " [{}]{}",
                        secret(&mut rng, &secrets, 5),
                        tag(&mut rng, &mut ids)
                    )
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "::: {t}\n{}{nested}\n{}.\n:::\n\n",
                    secret(&mut rng, &secrets, 20),
                    secret(&mut rng, &secrets, 10)
                ));
            }
            4 | 5 => {
                out.push_str(&format!("{}:\n\n", prose(&mut rng, 10)));
                for k in 0..4 {
                    if k == 2 {
                        let t = tag(&mut rng, &mut ids);
                        out.push_str(&format!("- [{}]{t}\n", secret(&mut rng, &secrets, 14)));
                    } else {
                        out.push_str(&format!("- {};\n", prose(&mut rng, 7)));
                    }
                }
                out.push('\n');
            }
            6 => {
                out.push_str("| Measure | 2022/23 | 2023/24 |\n| --- | ---: | ---: |\n");
                for k in 0..4 {
                    let a = rng.below(9000);
                    let b = rng.below(9000);
                    let cell = if k == 1 {
                        format!(
                            "[{b} (of which {a} linked to {})]{}",
                            secrets.specific(&mut rng),
                            tag(&mut rng, &mut ids)
                        )
                    } else {
                        b.to_string()
                    };
                    out.push_str(&format!("| {} | {a} | {cell} |\n", prose(&mut rng, 3)));
                }
                out.push('\n');
            }
            7 => {
                let p = span_paragraph(&mut rng, &secrets, &mut ids);
                out.push_str(&format!("> {}\n", p.trim_end()));
                out.push_str(&format!(
                    "> {}\n\n<!-- check this quote -->\n\n",
                    prose(&mut rng, 10)
                ));
            }
            8 => {
                section += 1;
                out.push_str(&format!(
                    "## {section}. {}\n\n{}\n\n",
                    prose(&mut rng, 3),
                    prose(&mut rng, 30)
                ));
            }
            _ => {
                out.push_str(&span_paragraph(&mut rng, &secrets, &mut ids));
                out.push('\n');
            }
        }
    }
    out
}

/// Fastest of at least `min_reps` runs and at least `min_total` of running.
fn best(min_reps: usize, min_total: Duration, mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    let mut reps = 0;
    while reps < min_reps || total < min_total {
        let start = Instant::now();
        f();
        let d = start.elapsed();
        best = best.min(d);
        total += d;
        reps += 1;
    }
    best
}

/// Runs every phase once a round (repeating a phase within its turn until `min_each` has
/// passed) and returns each phase's fastest turn and its peak memory in the first round
/// (later rounds start with what the heap kept from the phases before). A slow spell on a
/// shared machine then slows every phase alike, not the one it fell on.
fn in_rounds<'a>(
    rounds: usize,
    min_each: Duration,
    phases: impl Iterator<Item = &'a mut dyn FnMut()>,
) -> (Vec<Duration>, Vec<String>) {
    let mut phases: Vec<&'a mut dyn FnMut()> = phases.collect();
    let mut times = vec![Duration::MAX; phases.len()];
    let mut peaks = vec![String::new(); phases.len()];
    for round in 0..rounds.max(1) {
        for (k, f) in phases.iter_mut().enumerate() {
            reset_peak();
            times[k] = times[k].min(best(1, min_each, &mut **f));
            if round == 0 {
                peaks[k] = peak();
            }
        }
    }
    (times, peaks)
}

fn raw(papers: &[String]) {
    papers.par_iter().for_each(|p| {
        let parser = pulldown_cmark::Parser::new_ext(p, markdown_options());
        let mut html = String::with_capacity(p.len() * 2);
        pulldown_cmark::html::push_html(&mut html, parser);
        std::hint::black_box(html);
    });
}

fn build(papers: &[String], rules: &Rules, templates: &Templates, out: Option<&Writer>) {
    let release = Release::default();
    papers.par_iter().enumerate().for_each(|(i, text)| {
        let name = format!("p{i:05}");
        let built = build_paper(Path::new(&name), &name, text, rules, templates, &release)
            .unwrap_or_else(|e| panic!("{}", e.render()));
        assert!(built.findings.is_empty(), "{:?}", built.findings);
        if let Some(writer) = out {
            writer.write_paper(&built.outputs).expect("write");
        }
        std::hint::black_box(built);
    });
}

/// What `redact check` does with papers already read: build each in memory (in parallel),
/// keep its public copies, then run every scan over the set. The corpus is clean, so any
/// warning or finding is a bug in the generator or in `check`.
fn check(papers: &[String], rules: &Rules, templates: &Templates, deny: &DenyList) {
    check_with(papers, rules, templates, deny, None);
}

/// [`check`], with `redact check`'s suggestions of personal data when `suggester` is given;
/// returns how many it made (the corpus's prose is generated, so some are expected).
fn check_with(
    papers: &[String],
    rules: &Rules,
    templates: &Templates,
    deny: &DenyList,
    suggester: Option<&Suggester>,
) -> usize {
    let release = Release::default();
    let options = CheckOptions {
        templates,
        release: &release,
    };
    let names: Vec<String> = (0..papers.len()).map(|i| format!("p{i:05}")).collect();
    let built: Vec<(Paper, Vec<redact::check::PublicOutput>)> = papers
        .par_iter()
        .zip(&names)
        .map(|(text, name)| {
            let only = Some(public_paths(name, rules));
            let built = build_paper_only(
                Path::new(name),
                name,
                text,
                rules,
                templates,
                &release,
                only,
            )
            .unwrap_or_else(|e| panic!("{}", e.render()));
            assert!(built.findings.is_empty(), "{:?}", built.findings);
            assert!(built.warnings.is_empty(), "{:?}", built.warnings);
            let outputs = public_outputs_from(name, built.outputs, rules);
            (built.paper, outputs)
        })
        .collect();
    let inputs: Vec<CheckInput> = built
        .iter()
        .zip(papers.iter().zip(&names))
        .map(|((paper, outputs), (text, name))| CheckInput {
            path: Path::new(name),
            name,
            text,
            paper,
            outputs,
        })
        .collect();
    let findings = check_papers(&inputs, rules, deny, &options);
    assert!(
        findings.is_empty(),
        "{} findings: {:?}",
        findings.len(),
        findings.first()
    );
    let suggested = suggester.map_or(0, |s| s.findings(&inputs, rules).len());
    // As `redact check` does: every paper's copies go in parallel, as they came.
    drop(inputs);
    built.into_par_iter().for_each(drop);
    suggested
}

/// `check` with and without suggestions, in rounds, on one thread and on all cores.
fn suggest_ratio(
    papers: &[String],
    bytes: usize,
    rules: &Rules,
    templates: &Templates,
    deny: &DenyList,
    rounds: usize,
) {
    let suggester = Suggester::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (one, all) = (pool(1), pool(cores));
    let count = one.install(|| check_with(papers, rules, templates, deny, Some(&suggester)));
    let mut phases: Vec<Box<dyn FnMut() + '_>> = vec![
        Box::new(|| one.install(|| check(papers, rules, templates, deny))),
        Box::new(|| {
            one.install(|| check_with(papers, rules, templates, deny, Some(&suggester)));
        }),
        Box::new(|| all.install(|| check(papers, rules, templates, deny))),
        Box::new(|| {
            all.install(|| check_with(papers, rules, templates, deny, Some(&suggester)));
        }),
    ];
    let (times, _) = in_rounds(
        rounds,
        Duration::from_millis(300),
        phases.iter_mut().map(|f| f.as_mut() as &mut dyn FnMut()),
    );
    drop(phases);
    println!("\n| check | threads | MB/s | time against check without suggestions |");
    println!("| --- | ---: | ---: | ---: |");
    for (k, (label, threads)) in [
        ("without suggestions", 1),
        ("with suggestions", 1),
        ("without suggestions", cores),
        ("with suggestions", cores),
    ]
    .iter()
    .enumerate()
    {
        let base = times[k - k % 2];
        println!(
            "| {label} | {threads} | {:.1} | {:.3}x |",
            mb_per_s(bytes, times[k]),
            times[k].as_secs_f64() / base.as_secs_f64()
        );
    }
    println!("\n{count} suggestions in the corpus (its prose is generated).");
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// A line of /proc/self/status in MB (`VmHWM`: peak resident memory).
fn status_mb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the peak so the next reading is this phase's own (Linux: `5` to clear_refs);
/// returns false where that is not possible, and peaks then only ever grow.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak() -> String {
    status_mb("VmHWM:").map_or("n/a".to_string(), |mb| format!("{mb:.0}"))
}

struct Corpus {
    papers: Vec<String>,
    bytes: usize,
}

fn corpus(count: usize) -> Corpus {
    let papers: Vec<String> = (0..count as u64)
        .into_par_iter()
        .map(|s| paper(s, 10_000))
        .collect();
    let bytes = papers.iter().map(String::len).sum();
    Corpus { papers, bytes }
}

fn count_redactions(text: &str) -> usize {
    let rules = Rules::embedded().expect("rules");
    parse_paper(text, &rules).map_or(0, |p| p.redactions.len())
}

/// Each audience's Markdown of each paper as the build writes it, in `rules.audiences` order:
/// what the floor's page renders start from, made before any timing.
fn audience_markdowns(papers: &[String], rules: &Rules, templates: &Templates) -> Vec<Vec<String>> {
    let release = Release::default();
    papers
        .par_iter()
        .enumerate()
        .map(|(i, text)| {
            let name = format!("p{i:05}");
            let built = build_paper(Path::new(&name), &name, text, rules, templates, &release)
                .unwrap_or_else(|e| panic!("{}", e.render()));
            rules
                .audiences
                .iter()
                .filter_map(|a| {
                    let path = Path::new(&a.name).join(format!("{name}.md"));
                    built.outputs.iter().find(|o| o.relative == path)
                })
                .map(|o| String::from_utf8(o.bytes.clone()).expect("UTF-8 Markdown"))
                .collect()
        })
        .collect()
}

/// One offset-iterator pass of raw pulldown-cmark over `text`, as the parse must make.
fn raw_pass(text: &str) {
    let mut events = 0usize;
    for (event, range) in
        pulldown_cmark::Parser::new_ext(text, markdown_options()).into_offset_iter()
    {
        std::hint::black_box((&event, &range));
        events += 1;
    }
    std::hint::black_box(events);
}

/// Raw pulldown-cmark parse and HTML render of one audience's Markdown: one page.
fn raw_page(markdown: &str) {
    let parser = pulldown_cmark::Parser::new_ext(markdown, markdown_options());
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    std::hint::black_box(html);
}

/// The floor: what the design cannot skip, with raw pulldown-cmark and the same options. One
/// offset-iterator pass over each source (the parse), and a parse and HTML render of each
/// audience's Markdown (each page is rendered from its own Markdown, never the source).
fn floor(papers: &[String], markdowns: &[Vec<String>]) {
    papers.par_iter().zip(markdowns).for_each(|(text, mds)| {
        raw_pass(text);
        for md in mds {
            raw_page(md);
        }
    });
}

/// Stage rows of `--stages`, in the order the pipeline runs them; the first `BUILD_STAGES`
/// add up to one build of the paper (`whole`).
const STAGES: [&str; 10] = [
    "parse",
    "raw HTML policy",
    "redact + Markdown (2 audiences)",
    "second reader, Markdown",
    "HTML pages (2 audiences)",
    "second reader, HTML",
    "audit: proof + record",
    "audit: JSON",
    "audit: HTML",
    "whole",
];
const WHOLE: usize = 9;
/// Rows timed on their own, outside `whole`, to read the targets off the same table.
const REFERENCES: [&str; 6] = [
    "build_paper (the pipeline as built)",
    "audit's proof alone (verify)",
    "raw offset-iterator pass (the source)",
    "raw parse + HTML render (2 audiences' Markdown)",
    "floor (raw pass + 2 raw pages)",
    "raw pass in the parse's place (beside it in the stage loop)",
];

/// Per-stage time over `papers` on this thread, as `pipeline::build_paper_into` runs them, and
/// the reference rows: the fastest of three passes for each.
fn stages(papers: &[String], rules: &Rules, templates: &Templates) {
    let release = Release::default();
    let reader = Reader::new(rules);
    let bytes: usize = papers.iter().map(String::len).sum();
    let markdowns = audience_markdowns(papers, rules, templates);
    let mut best = [Duration::MAX; STAGES.len()];
    let mut refs = [Duration::MAX; REFERENCES.len()];
    for _ in 0..3 {
        let mut times = [Duration::ZERO; STAGES.len()];
        // The raw pass timed where the parse runs, in the same state of the caches (each paper
        // parsed after the last one's pages and audit), one before the parse and the next after
        // it, so that neither always finds the other's work in the cache; left out of `whole`.
        let mut raw_in_place = Duration::ZERO;
        let whole = Instant::now();
        for (i, text) in papers.iter().enumerate() {
            let name = format!("p{i:05}");
            let raw = |raw_in_place: &mut Duration| {
                let t = Instant::now();
                raw_pass(text);
                *raw_in_place += t.elapsed();
            };
            if i % 2 == 0 {
                raw(&mut raw_in_place);
            }
            let mut clock = Instant::now();
            let paper = parse_paper(text, rules).expect("parse");
            times[0] += clock.elapsed();
            if i % 2 == 1 {
                raw(&mut raw_in_place);
            }
            clock = Instant::now();
            let mut lap = |stage: usize| {
                let now = Instant::now();
                times[stage] += now - clock;
                clock = now;
            };
            html_policy::check(&paper, text).expect("raw HTML");
            lap(1);
            let mut copies = Vec::new();
            for audience in &rules.audiences {
                lap(2);
                let copy = copy_for(&paper, text, audience);
                let schedule = schedule_for(&paper, audience, rules, &release);
                let md = copy_markdown(&copy, schedule.as_ref());
                lap(2);
                let layout = Layout::of(&copy, text, &md);
                let reading = reader.markdown(&md, &layout.visible);
                assert!(reading.strays.is_empty());
                lap(3);
                let page = PageSource::new(&copy);
                drop(copy);
                let mut html = Vec::new();
                page.write(templates, schedule.as_ref(), &mut html)
                    .expect("html");
                drop(page);
                lap(4);
                let mut sink = std::io::sink();
                let mut read = reader.html(&mut sink, &reading);
                std::io::Write::write_all(&mut read, &html).expect("read");
                assert!(read.finish().is_empty());
                drop(html);
                lap(5);
                copies.push(CopyOutput {
                    audience,
                    schedule,
                    markdown: md,
                });
            }
            let input = AuditInput {
                path: Path::new(&name),
                name: &name,
                text,
                paper: &paper,
                rules,
                templates,
                release: &release,
                copies: &copies,
            };
            lap(6);
            let prepared = prepare(&input);
            assert!(prepared.findings.is_empty());
            lap(6);
            let mut json = Vec::new();
            prepared.write_json(&mut json).expect("json");
            std::hint::black_box(json);
            lap(7);
            let mut html = Vec::new();
            prepared.write_html(&mut html).expect("audit html");
            std::hint::black_box(html);
            lap(8);
        }
        times[WHOLE] = whole.elapsed() - raw_in_place;
        for (b, t) in best.iter_mut().zip(times) {
            *b = (*b).min(t);
        }

        let mut times = [Duration::ZERO; REFERENCES.len()];
        let t = Instant::now();
        for (i, text) in papers.iter().enumerate() {
            let name = format!("p{i:05}");
            let built = build_paper(Path::new(&name), &name, text, rules, templates, &release)
                .expect("build");
            std::hint::black_box(built);
        }
        times[0] = t.elapsed();
        for (i, text) in papers.iter().enumerate() {
            let name = format!("p{i:05}");
            let paper = parse_paper(text, rules).expect("parse");
            let copies: Vec<CopyOutput> = rules
                .audiences
                .iter()
                .zip(&markdowns[i])
                .map(|(audience, md)| CopyOutput {
                    audience,
                    schedule: schedule_for(&paper, audience, rules, &release),
                    markdown: md.as_str().into(),
                })
                .collect();
            let input = AuditInput {
                path: Path::new(&name),
                name: &name,
                text,
                paper: &paper,
                rules,
                templates,
                release: &release,
                copies: &copies,
            };
            let t = Instant::now();
            std::hint::black_box(verify(&input));
            times[1] += t.elapsed();
        }
        let t = Instant::now();
        papers.iter().for_each(|p| raw_pass(p));
        times[2] = t.elapsed();
        let t = Instant::now();
        markdowns.iter().flatten().for_each(|md| raw_page(md));
        times[3] = t.elapsed();
        times[4] = times[2] + times[3];
        times[5] = raw_in_place;
        for (b, t) in refs.iter_mut().zip(times) {
            *b = (*b).min(t);
        }
    }
    let ns = |d: Duration| d.as_nanos() as f64 / bytes as f64;
    let whole = best[WHOLE];
    println!("| stage | ns per byte | share of whole |");
    println!("| --- | ---: | ---: |");
    for (name, d) in STAGES.iter().zip(best).chain(REFERENCES.iter().zip(refs)) {
        println!(
            "| {name} | {:.1} | {:.0}% |",
            ns(d),
            100.0 * d.as_secs_f64() / whole.as_secs_f64()
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let audit = best[6] + best[7] + best[8];
    println!(
        "\ntargets: whole {:.2}x floor (≤ 2.0); audit {:.2}x the HTML pages (≤ 1.0); parse {:.2}x \
         the raw pass (≤ 2.0), {:.2}x the raw pass in its place; HTML pages {:.2}x the floor's \
         two page renders.",
        ratio(whole, refs[4]),
        ratio(audit, best[4]),
        ratio(best[0], refs[2]),
        ratio(best[0], refs[5]),
        ratio(best[4], refs[3]),
    );
}

/// Each line of `text` (ending after `\n`) as a number, equal lines equal numbers.
fn number_lines<'t>(ids: &mut std::collections::HashMap<&'t str, u32>, text: &'t str) -> Vec<u32> {
    text.split_inclusive('\n')
        .map(|line| {
            let next = ids.len() as u32;
            *ids.entry(line).or_insert(next)
        })
        .collect()
}

/// One look at every byte of `text` for a byte that can start what a reader beyond
/// pulldown-cmark must find: a brace, a colon, `<` (a comment), `&` (an entity) or a non-ASCII
/// byte (a look-alike, read after NFKC). The least the parse's own reading and the second
/// reader can do: neither can skip a byte, since any may start a tag.
fn byte_scan(text: &[u8]) -> usize {
    // Summed a chunk at a time in a byte (no chunk holds more than 32), which the compiler
    // turns into vector instructions: a plain filter and count is twenty times slower.
    let hit = |b: u8| ((b == b'{') | (b == b':') | (b == b'<') | (b == b'&') | (b >= 0x80)) as u8;
    text.chunks(32)
        .map(|chunk| usize::from(chunk.iter().map(|&b| hit(b)).sum::<u8>()))
        .sum()
}

/// A row index no row has: a lap that only starts the clock again.
const UNTIMED: usize = usize::MAX;

/// Rows of `--audit-floors`.
const FLOOR_ROWS: [&str; 19] = [
    "HTML pages (2 audiences)",
    "audit: proof + record (prepare)",
    "audit: JSON",
    "audit: HTML",
    "audit's proof alone (verify)",
    "(a) line diff alone (similar, 2 copies)",
    "audit page values made and kept",
    "(b) tera render of the kept values",
    "kept values dropped",
    "floor (raw pass + 2 raw pages)",
    "raw render of the 2 pages' own Markdown (highlighting, markers)",
    "raw pass (the source)",
    "parse's own reading: one byte scan of the source",
    "second reader: one byte scan of the 3 copies it reads",
    "each audience's copy: the source's bytes copied",
    "writing the outputs alone (plain files)",
    "writing the outputs as the build does (staged, sealed)",
    "(b2) tera's values of the rows made from plain JSON values",
    "(b2) the rebuilt values dropped",
];

/// `--audit-floors`: the audit's stages and the floors under them, on this thread, each row
/// the fastest of three passes. (a) The line diff alone: council against each copy with
/// `similar` as the proof calls it, over lines numbered beforehand (equal lines, equal
/// numbers; the bench's papers end lines with LF only, so a split after each `\n` is the
/// proof's lines). (b) tera's render of the audit page from values made beforehand and kept
/// ([`redact::audit::Prepared::page_values`]): what one renderer costs whatever the values
/// cost to make; (b2) tera's serializer making those lists' values (and dropping them) from the
/// same rows held as plain JSON values: the least that making tera's values of the rows costs,
/// whatever the rows are made from. (c) The bytes the audit writes against the pages' bytes. And the floors of
/// the stages the main table's floor leaves out, so that they add up to a build's least:
/// the parse's reading beyond the raw pass and the second reader, each at one look at every
/// byte it must read ([`byte_scan`]); each audience's copy at a copy of the source's bytes;
/// and the build's outputs (made before timing) written as plain files in a fresh folder of
/// `$TMPDIR`, beside the build's own writer.
fn audit_floors(papers: &[String], rules: &Rules, templates: &Templates) {
    use similar::{Algorithm, capture_diff_slices};
    let release = Release::default();
    let bytes: usize = papers.iter().map(String::len).sum();
    let markdowns = audience_markdowns(papers, rules, templates);
    let numbered: Vec<(Vec<u32>, Vec<Vec<u32>>)> = papers
        .iter()
        .zip(&markdowns)
        .map(|(text, mds)| {
            let mut ids = std::collections::HashMap::new();
            let old = number_lines(&mut ids, text);
            let new = mds.iter().map(|md| number_lines(&mut ids, md)).collect();
            (old, new)
        })
        .collect();
    // Each page's own Markdown, as `PageSource` renders it, made before timing.
    let page_markdowns: Vec<Vec<String>> = papers
        .iter()
        .map(|text| {
            let paper = parse_paper(text, rules).expect("parse");
            (rules.audiences.iter())
                .map(|a| {
                    PageSource::new(&copy_for(&paper, text, a))
                        .markdown()
                        .to_string()
                })
                .collect()
        })
        .collect();
    let mut best = [Duration::MAX; FLOOR_ROWS.len()];
    let (mut json_bytes, mut html_bytes, mut page_bytes, mut md_bytes) = (0, 0, 0, 0);
    let council = rules.audiences.iter().find(|a| a.withholds.is_empty());
    for pass in 0..3 {
        let mut times = [Duration::ZERO; FLOOR_ROWS.len()];
        let plain = tempfile::tempdir().expect("tempdir");
        let sealed = tempfile::tempdir().expect("tempdir");
        let writer = Writer::new(sealed.path()).expect("writer");
        let mut folders = std::collections::HashSet::new();
        for (i, text) in papers.iter().enumerate() {
            let name = format!("p{i:05}");
            let paper = parse_paper(text, rules).expect("parse");
            let mut copies = Vec::new();
            for (audience, md) in rules.audiences.iter().zip(&markdowns[i]) {
                let copy = copy_for(&paper, text, audience);
                let schedule = schedule_for(&paper, audience, rules, &release);
                let clock = Instant::now();
                let page = PageSource::new(&copy);
                let mut html = Vec::new();
                page.write(templates, schedule.as_ref(), &mut html)
                    .expect("html");
                times[0] += clock.elapsed();
                if pass == 0 {
                    page_bytes += html.len();
                    md_bytes += md.len();
                }
                copies.push(CopyOutput {
                    audience,
                    schedule,
                    markdown: md.as_str().into(),
                });
            }
            let input = AuditInput {
                path: Path::new(&name),
                name: &name,
                text,
                paper: &paper,
                rules,
                templates,
                release: &release,
                copies: &copies,
            };
            let mut clock = Instant::now();
            // `lap(UNTIMED)` only starts the clock again.
            let mut lap = |row: usize| {
                let now = Instant::now();
                if let Some(t) = times.get_mut(row) {
                    *t += now - clock;
                }
                clock = now;
            };
            let prepared = prepare(&input);
            lap(1);
            let mut json = Vec::new();
            prepared.write_json(&mut json).expect("json");
            lap(2);
            let mut html = Vec::new();
            prepared.write_html(&mut html).expect("audit html");
            lap(3);
            std::hint::black_box(verify(&input));
            lap(4);
            let (old, news) = &numbered[i];
            for new in news {
                std::hint::black_box(capture_diff_slices(Algorithm::Patience, old, new));
            }
            lap(5);
            let values = prepared.page_values();
            lap(6);
            let mut again = Vec::new();
            values
                .write(&mut again)
                .expect("audit html from kept values");
            lap(7);
            let rows = values.plain_rows();
            lap(UNTIMED);
            let rebuilt: Vec<tera::Value> =
                rows.iter().map(tera::Value::from_serializable).collect();
            lap(17);
            drop(rebuilt);
            lap(18);
            drop(values);
            lap(8);
            raw_pass(text);
            lap(11);
            markdowns[i].iter().for_each(|md| raw_page(md));
            lap(9);
            page_markdowns[i].iter().for_each(|md| raw_page(md));
            lap(10);
            std::hint::black_box(byte_scan(text.as_bytes()));
            lap(12);
            // Made untimed, after the lap: the outputs to read and to write.
            let built = build_paper(Path::new(&name), &name, text, rules, templates, &release)
                .expect("build");
            let read: Vec<&[u8]> = (built.outputs.iter())
                .filter(|o| {
                    let md = o.relative.extension().is_some_and(|e| e == "md");
                    let html = o.relative.extension().is_some_and(|e| e == "html");
                    let audience = council.is_none_or(|c| !o.relative.starts_with(&c.name));
                    !o.relative.starts_with("audit") && (html || md && audience)
                })
                .map(|o| o.bytes.as_slice())
                .collect();
            assert_eq!(read.len(), 3, "the copies the second reader reads");
            lap(UNTIMED);
            read.iter().for_each(|r| {
                std::hint::black_box(byte_scan(r));
            });
            lap(13);
            for _ in &rules.audiences {
                std::hint::black_box(text.as_bytes().to_vec());
            }
            lap(14);
            // The two writings in turn, each first as often as the other (the first to write
            // may find the file system's pages still to be made).
            let mut write_plain = || {
                for output in &built.outputs {
                    let path = plain.path().join(&output.relative);
                    let folder = path.parent().expect("a folder");
                    if !folders.contains(folder) {
                        std::fs::create_dir_all(folder).expect("folder");
                        folders.insert(folder.to_path_buf());
                    }
                    std::fs::write(&path, &output.bytes).expect("write");
                }
            };
            if (i + pass) % 2 == 0 {
                write_plain();
                lap(15);
                writer.write_paper(&built.outputs).expect("write");
                lap(16);
            } else {
                writer.write_paper(&built.outputs).expect("write");
                lap(16);
                write_plain();
                lap(15);
            }
            assert!(again == html, "the kept values render the page");
            if pass == 0 {
                json_bytes += json.len();
                html_bytes += html.len();
            }
        }
        drop(writer);
        // The floor row is the raw pass and the two raw pages of the audiences' Markdown.
        times[9] += times[11];
        for (b, t) in best.iter_mut().zip(times) {
            *b = (*b).min(t);
        }
    }
    let ns = |d: Duration| d.as_nanos() as f64 / bytes as f64;
    println!("| row | ns per byte | x the HTML pages |");
    println!("| --- | ---: | ---: |");
    for (name, d) in FLOOR_ROWS.iter().zip(best) {
        println!(
            "| {name} | {:.1} | {:.2} |",
            ns(d),
            d.as_secs_f64() / best[0].as_secs_f64()
        );
    }
    let audit = best[1] + best[2] + best[3];
    let floor = best[5] + best[7];
    // Tera's values of the rows, made and dropped: (b2), or the values as the audit makes and
    // drops them where that is less (rows read from plain JSON values can cost tera more than
    // from the audit's own rows).
    let values = best[17].min(best[6]) + best[18].min(best[8]);
    println!(
        "\naudit {:.2}x the HTML pages; its floors (a) + (b) {:.2}x; with the values tera \
         renders made at their least (b2, made and dropped) and the JSON at its own cost, \
         {:.2}x.",
        audit.as_secs_f64() / best[0].as_secs_f64(),
        floor.as_secs_f64() / best[0].as_secs_f64(),
        (floor + values + best[2]).as_secs_f64() / best[0].as_secs_f64()
    );
    // What a build cannot go below with every stage but the audit at the floor, and the
    // audit at its floors and its JSON: the main table's floor cannot be met nearer than this.
    println!(
        "a build's least with its audit: floor + (a) + (b) + JSON = {:.2}x the floor.",
        (best[9] + floor + best[2]).as_secs_f64() / best[9].as_secs_f64()
    );
    // The pages render their own Markdown, not the audience's (the council's highlighting,
    // each marker as accessible HTML): raw pulldown-cmark on that is the pages' own floor.
    println!(
        "and with the pages at a raw render of their own Markdown in place of the floor's two \
         renders: raw pass + that + (a) + (b) + JSON = {:.2}x the floor.",
        (best[11] + best[10] + floor + best[2]).as_secs_f64() / best[9].as_secs_f64()
    );
    // Every stage at its floor: the least a build could cost under the contract.
    let rest = best[12] + best[13] + best[14];
    let least = best[11] + best[10] + floor + best[2] + rest;
    println!(
        "with the parse's own reading, the second reader and the copies at one look at each \
         byte (+ {:.2}x the floor): {:.2}x the floor ({:.2}x without the JSON, which is here at \
         its own cost); with the audit page's values at their least too (b2, + {:.2}x): {:.2}x; \
         written to disk, + the outputs written alone ({:.2}x the floor; the build's own \
         writing {:.2}x): {:.2}x the floor.",
        rest.as_secs_f64() / best[9].as_secs_f64(),
        least.as_secs_f64() / best[9].as_secs_f64(),
        (least - best[2]).as_secs_f64() / best[9].as_secs_f64(),
        values.as_secs_f64() / best[9].as_secs_f64(),
        (least + values).as_secs_f64() / best[9].as_secs_f64(),
        best[15].as_secs_f64() / best[9].as_secs_f64(),
        best[16].as_secs_f64() / best[9].as_secs_f64(),
        (least + values + best[15]).as_secs_f64() / best[9].as_secs_f64(),
    );
    let mb = |n: usize| n as f64 / 1e6;
    println!(
        "(c) bytes: sources {:.2} MB; audit JSON {:.2} MB + HTML {:.2} MB = {:.2} MB, {:.2}x the \
         HTML pages' {:.2} MB (the copies' Markdown: {:.2} MB)",
        mb(bytes),
        mb(json_bytes),
        mb(html_bytes),
        mb(json_bytes + html_bytes),
        (json_bytes + html_bytes) as f64 / page_bytes as f64,
        mb(page_bytes),
        mb(md_bytes)
    );
}

/// Runs `run` (one pass over `bytes` of papers) again and again for `seconds`, and nothing
/// else, for a profiler; prints the mean speed under `label`.
fn profile_for(seconds: usize, label: &str, bytes: usize, mut run: impl FnMut()) {
    let start = Instant::now();
    let mut runs = 0;
    while start.elapsed().as_secs() < seconds as u64 {
        run();
        runs += 1;
    }
    let d = start.elapsed() / runs;
    println!("{label}: {:.1} MB/s over {runs} runs", mb_per_s(bytes, d));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let count = arg("--papers", 1000);
    let big_mb = arg("--big-mb", 20);
    let rules = Rules::embedded().expect("rules");
    let deny = DenyList::embedded().expect("deny-list");
    let templates = match args.iter().position(|a| a == "--templates") {
        Some(i) => load_templates(args.get(i + 1).map(Path::new))
            .unwrap_or_else(|e| panic!("{}", e.render())),
        None => Templates::embedded().expect("templates"),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = pool(1);
    let all = pool(cores);

    let main = corpus(count);
    let sample = &main.papers[0];
    println!(
        "corpus: {count} papers, {:.1} MB ({} redactions in paper 0 of {} bytes); {cores} cores",
        main.bytes as f64 / 1e6,
        count_redactions(sample),
        sample.len(),
    );

    if let Some(dir) = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
    {
        std::fs::create_dir_all(dir).expect("corpus folder");
        for (i, text) in main.papers.iter().enumerate() {
            std::fs::write(Path::new(dir).join(format!("p{i:05}.md")), text).expect("write");
        }
        let big = paper(999_999, big_mb * 1_000_000);
        std::fs::write(Path::new(dir).join("large.md"), big).expect("write");
        return;
    }
    if args.iter().any(|a| a == "--stages") {
        one.install(|| stages(&main.papers, &rules, &templates));
        let big = paper(999_999, big_mb * 1_000_000);
        println!(
            "\nlarge paper: {:.1} MB, {} redactions",
            big.len() as f64 / 1e6,
            count_redactions(&big)
        );
        one.install(|| stages(&[big], &rules, &templates));
        return;
    }
    if args.iter().any(|a| a == "--audit-floors") {
        one.install(|| audit_floors(&main.papers, &rules, &templates));
        let big = paper(999_999, big_mb * 1_000_000);
        println!(
            "\nlarge paper: {:.1} MB, {} redactions",
            big.len() as f64 / 1e6,
            count_redactions(&big)
        );
        one.install(|| audit_floors(&[big], &rules, &templates));
        return;
    }
    if args.iter().any(|a| a == "--suggest") {
        suggest_ratio(
            &main.papers,
            main.bytes,
            &rules,
            &templates,
            &deny,
            arg("--rounds", 5),
        );
        return;
    }
    // The profiling loops run on the corpus, or with `--profile-large` on the large paper alone.
    let main = if args.iter().any(|a| a == "--profile-large") {
        let big = paper(999_999, big_mb * 1_000_000);
        Corpus {
            bytes: big.len(),
            papers: vec![big],
        }
    } else {
        main
    };
    let threads = arg("--threads", 1);
    let profiled = pool(threads);
    let profile_check = arg("--profile-check", 0);
    if profile_check > 0 {
        let label = format!("check, {threads} thread(s)");
        profile_for(profile_check, &label, main.bytes, || {
            profiled.install(|| check(&main.papers, &rules, &templates, &deny));
        });
        return;
    }
    let profile_parse = arg("--profile-parse", 0);
    if profile_parse > 0 {
        profile_for(profile_parse, "parse, 1 thread", main.bytes, || {
            for text in &main.papers {
                std::hint::black_box(parse_paper(text, &rules).expect("parse"));
            }
        });
        return;
    }
    let profile_raw = arg("--profile-raw", 0);
    if profile_raw > 0 {
        profile_for(
            profile_raw,
            "raw offset-iterator pass, 1 thread",
            main.bytes,
            || {
                main.papers.iter().for_each(|p| raw_pass(p));
            },
        );
        return;
    }
    let profile = arg("--profile", 0);
    if profile > 0 {
        let label = format!("build, {threads} thread(s)");
        profile_for(profile, &label, main.bytes, || {
            profiled.install(|| build(&main.papers, &rules, &templates, None));
        });
        return;
    }

    let papers = &main.papers;
    let markdowns = audience_markdowns(papers, &rules, &templates);
    let markdowns = &markdowns;
    let resettable = reset_peak();
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = Writer::new(dir.path()).expect("writer");
    type Phase<'a> = (&'static str, usize, Box<dyn FnMut() + 'a>);
    let mut phases: Vec<Phase> = vec![
        (
            "raw pulldown-cmark parse + render",
            1,
            Box::new(|| one.install(|| raw(papers))),
        ),
        (
            "raw pulldown-cmark parse + render",
            cores,
            Box::new(|| all.install(|| raw(papers))),
        ),
        (
            "floor",
            1,
            Box::new(|| one.install(|| floor(papers, markdowns))),
        ),
        (
            "floor",
            cores,
            Box::new(|| all.install(|| floor(papers, markdowns))),
        ),
        (
            "build, in memory",
            1,
            Box::new(|| one.install(|| build(papers, &rules, &templates, None))),
        ),
        (
            "build, in memory",
            cores,
            Box::new(|| all.install(|| build(papers, &rules, &templates, None))),
        ),
        (
            "build, to disk",
            1,
            Box::new(|| one.install(|| build(papers, &rules, &templates, Some(&writer)))),
        ),
        (
            "build, to disk",
            cores,
            Box::new(|| all.install(|| build(papers, &rules, &templates, Some(&writer)))),
        ),
        (
            "check, in memory",
            1,
            Box::new(|| one.install(|| check(papers, &rules, &templates, &deny))),
        ),
        (
            "check, in memory",
            cores,
            Box::new(|| all.install(|| check(papers, &rules, &templates, &deny))),
        ),
    ];
    // In rounds, so that the ratios stay fair on a shared machine (see `in_rounds`).
    let (times, peaks) = in_rounds(
        arg("--rounds", 5),
        Duration::from_millis(300),
        phases.iter_mut().map(|(_, _, f)| f as &mut dyn FnMut()),
    );
    let rows: Vec<(String, usize, Duration, String)> = phases
        .iter()
        .zip(times.iter().zip(&peaks))
        .map(|((name, threads, _), (d, peak))| (name.to_string(), *threads, *d, peak.clone()))
        .collect();
    drop(phases);
    let (raw1, build1, buildn, check1, checkn) = (times[0], times[4], times[5], times[8], times[9]);

    println!(
        "\n| run | threads | MB/s | ratio to raw, 1 thread | ratio to raw, same threads | × floor | peak memory (MB){} |",
        if resettable { "" } else { ", cumulative" }
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let rate = |d: Duration| mb_per_s(main.bytes, d);
    let raw_at = |threads: usize| {
        rows.iter()
            .find(|(name, t, _, _)| name.starts_with("raw") && *t == threads)
            .map_or(f64::NAN, |(_, _, d, _)| rate(*d))
    };
    // Time against the floor's, same threads.
    let floor_at = |threads: usize| {
        rows.iter()
            .find(|(name, t, _, _)| name == "floor" && *t == threads)
            .map_or(f64::NAN, |(_, _, d, _)| d.as_secs_f64())
    };
    for (name, threads, d, peak) in &rows {
        let times_floor = if name.starts_with("raw") {
            "".to_string()
        } else {
            format!("{:.2}", d.as_secs_f64() / floor_at(*threads))
        };
        println!(
            "| {name} | {threads} | {:.1} | {:.3} | {:.3} | {times_floor} | {peak} |",
            rate(*d),
            rate(*d) / rate(raw1),
            rate(*d) / raw_at(*threads)
        );
    }
    println!(
        "\nbuild speed-up with {cores} threads: {:.2}x. Peak memory includes the corpus, held \
         in memory: {:.0} MB.",
        build1.as_secs_f64() / buildn.as_secs_f64(),
        main.bytes as f64 / 1e6
    );
    println!(
        "check against build in memory (time ratio, same threads): {:.2}x on 1 thread, {:.2}x \
         on {cores}; check speed-up with {cores} threads: {:.2}x.",
        check1.as_secs_f64() / build1.as_secs_f64(),
        checkn.as_secs_f64() / buildn.as_secs_f64(),
        check1.as_secs_f64() / checkn.as_secs_f64(),
    );
    drop(writer);
    drop(dir);

    // Per-byte cost must stay flat: the same work at other corpus sizes and on one big paper,
    // in rounds as above.
    let quarter = corpus(count / 4);
    let quadruple = corpus(count * 4);
    let big = vec![paper(999_999, big_mb * 1_000_000)];
    let big_label = format!("one large paper ({} redactions)", count_redactions(&big[0]));
    let inputs: [(String, &[String], usize); 4] = [
        (
            format!("{} papers", count / 4),
            &quarter.papers,
            quarter.bytes,
        ),
        (format!("{count} papers"), &main.papers, main.bytes),
        (
            format!("{} papers", count * 4),
            &quadruple.papers,
            quadruple.bytes,
        ),
        (big_label, &big, big[0].len()),
    ];
    let mut builds: Vec<Box<dyn FnMut() + '_>> = inputs
        .iter()
        .map(|(_, papers, _)| -> Box<dyn FnMut() + '_> {
            Box::new(|| one.install(|| build(papers, &rules, &templates, None)))
        })
        .collect();
    let (times, peaks) = in_rounds(
        arg("--rounds", 5).min(3),
        Duration::ZERO,
        builds.iter_mut().map(|f| f.as_mut() as &mut dyn FnMut()),
    );
    drop(builds);
    let flat: Vec<(String, usize, f64, String)> = inputs
        .iter()
        .zip(times.iter().zip(&peaks))
        .map(|((name, _, bytes), (d, peak))| {
            let ns = d.as_nanos() as f64 / *bytes as f64;
            (name.clone(), *bytes, ns, peak.clone())
        })
        .collect();
    println!(
        "\n| input | bytes | ns per byte (build, 1 thread) | against {count} papers | peak memory (MB, all four inputs held) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    let reference = flat[1].2;
    for (name, bytes, ns, peak) in &flat {
        println!(
            "| {name} | {bytes} | {ns:.1} | {:+.0}% | {peak} |",
            100.0 * (ns / reference - 1.0)
        );
    }
}
