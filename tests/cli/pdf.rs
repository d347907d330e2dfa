//! Print-ready PDFs, checked in a real browser: each copy's HTML printed by headless Chromium
//! (`redact::pdf`), then read back with poppler's `pdftotext`, `pdfinfo` and `pdftoppm`.
//!
//! Without Chromium or poppler-utils on the PATH each browser test prints
//! "skipped: chromium not installed" (or which poppler tool is missing) to stderr and passes;
//! with `CI` set, a missing browser is a failure instead, so CI never skips them silently.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use lopdf::{Document, Object};
use redact::parse::parse_paper;
use redact::pdf::{self, PdfMeta};
use redact::redact::copy_for;
use redact::render::{Templates, html_page_with_schedule};
use redact::rules::Rules;
use redact::schedule::{Release, schedule_for};
use regex::Regex;
use tempfile::TempDir;

use crate::{fixtures, project_root};

const SKIPPED: &str = "skipped: chromium not installed";

/// What the browser tests run.
struct Tools {
    chromium: PathBuf,
}

/// The tools on `path` (a `PATH`-style list), or the line saying why the tests are skipped.
fn tools_on(path: &OsStr) -> Result<Tools, String> {
    let chromium = pdf::find_chromium_in(None, path).map_err(|_| SKIPPED.to_string())?;
    for tool in ["pdftotext", "pdfinfo", "pdftoppm"] {
        if !std::env::split_paths(path).any(|dir| dir.join(tool).is_file()) {
            return Err(format!(
                "skipped: {tool} not installed (apt-get install poppler-utils)"
            ));
        }
    }
    Ok(Tools { chromium })
}

/// The tools on the PATH; None (after saying so on stderr) when a browser test must skip.
fn tools() -> Option<Tools> {
    match tools_on(&std::env::var_os("PATH").unwrap_or_default()) {
        Ok(tools) => Some(tools),
        Err(message) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("{message}: CI must run the browser tests (.ci/run installs them)")
        }
        Err(message) => {
            // Straight to stderr, past the test harness's capture, so a plain `cargo test`
            // shows it.
            let _ = writeln!(std::io::stderr(), "{message}");
            None
        }
    }
}

/// One copy of a paper as `build` writes it: its HTML page (schedule included) and the
/// metadata its PDF gets.
fn page(text: &str, audience: &str) -> (String, PdfMeta) {
    let rules = Rules::embedded().unwrap();
    let templates = Templates::embedded().unwrap();
    let paper = parse_paper(text, &rules).unwrap();
    let audience = rules.audiences.iter().find(|a| a.name == audience).unwrap();
    let copy = copy_for(&paper, text, audience);
    let schedule = schedule_for(&paper, audience, &rules, &Release::default());
    let html = html_page_with_schedule(&copy, &templates, schedule.as_ref()).unwrap();
    (html, PdfMeta::for_copy(&copy))
}

fn public_page(path: &Path) -> (String, PdfMeta) {
    page(&std::fs::read_to_string(path).unwrap(), "public")
}

const LARGEST_FIXTURE: &str = "01-soc-lead-continuation.md";

/// A printed PDF on disk, for poppler's tools.
struct Printed {
    _dir: TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
}

fn print(tools: &Tools, html: &str, meta: &PdfMeta) -> Printed {
    let bytes = pdf::print(&tools.chromium, html, meta).unwrap();
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("paper.pdf");
    std::fs::write(&path, &bytes).unwrap();
    Printed {
        _dir: dir,
        path,
        bytes,
    }
}

fn run(program: &str, args: &[&OsStr]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `pdfinfo -isodates`, as key → value.
fn pdfinfo(pdf: &Path) -> BTreeMap<String, String> {
    run("pdfinfo", &["-isodates".as_ref(), pdf.as_os_str()])
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn page_count(pdf: &Path) -> usize {
    pdfinfo(pdf)["Pages"].parse().unwrap()
}

/// The text of page `n` (from 1), laid out as printed.
fn page_text(pdf: &Path, n: usize) -> String {
    let n = n.to_string();
    run(
        "pdftotext",
        &[
            "-layout".as_ref(),
            "-f".as_ref(),
            n.as_ref(),
            "-l".as_ref(),
            n.as_ref(),
            pdf.as_os_str(),
            "-".as_ref(),
        ],
    )
}

fn all_text(pdf: &Path) -> String {
    run("pdftotext", &[pdf.as_os_str(), "-".as_ref()])
}

/// Every string and name in the PDF's objects (Info, bookmarks, link targets, named
/// destinations, structure tree), decoded: what a reader sees besides the text layer.
fn pdf_strings(bytes: &[u8]) -> Vec<String> {
    fn walk(object: &Object, out: &mut Vec<String>) {
        match object {
            Object::String(bytes, _) => out.push(decode(bytes)),
            Object::Name(name) => out.push(String::from_utf8_lossy(name).into_owned()),
            Object::Array(items) => items.iter().for_each(|o| walk(o, out)),
            Object::Dictionary(dict) => dict.iter().for_each(|(_, o)| walk(o, out)),
            Object::Stream(stream) => stream.dict.iter().for_each(|(_, o)| walk(o, out)),
            _ => {}
        }
    }
    fn decode(bytes: &[u8]) -> String {
        match bytes.strip_prefix(&[0xfe, 0xff]) {
            Some(utf16) => String::from_utf16_lossy(
                &utf16
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect::<Vec<_>>(),
            ),
            None => bytes.iter().map(|&b| b as char).collect(),
        }
    }
    let doc = Document::load_mem(bytes).unwrap();
    let mut out = Vec::new();
    for object in doc.objects.values() {
        walk(object, &mut out);
    }
    walk(&Object::Dictionary(doc.trailer.clone()), &mut out);
    out
}

/// The `/URI` of every link annotation.
fn link_uris(bytes: &[u8]) -> Vec<String> {
    let doc = Document::load_mem(bytes).unwrap();
    let mut out = Vec::new();
    for object in doc.objects.values() {
        if let Object::Dictionary(dict) = object
            && let Ok(action) = dict.get(b"A")
        {
            let action = match action {
                Object::Reference(id) => doc.get_object(*id).unwrap(),
                other => other,
            };
            if let Ok(Object::String(uri, _)) = action.as_dict().and_then(|a| a.get(b"URI")) {
                out.push(String::from_utf8_lossy(uri).into_owned());
            }
        }
    }
    out
}

/// Asserts the marking is the first line and "marking … Page n of N" the last of every page.
fn assert_marked_pages(pdf: &Path, marking: &str, what: &str) -> usize {
    let pages = page_count(pdf);
    for n in 1..=pages {
        let text = page_text(pdf, n);
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            lines.first().map(String::as_str),
            Some(marking),
            "{what}, page {n} of {pages}: the marking is not at the top:\n{text}"
        );
        assert_eq!(
            lines.last().cloned(),
            Some(format!("{marking} Page {n} of {pages}")),
            "{what}, page {n} of {pages}: the marking and page number are not at the bottom:\n{text}"
        );
    }
    pages
}

#[test]
fn browser_tests_say_plainly_that_they_were_skipped_without_chromium() {
    let empty = TempDir::new().unwrap();
    let Err(message) = tools_on(empty.path().as_os_str()) else {
        panic!("tools found on an empty PATH");
    };
    assert_eq!(message, SKIPPED);

    // Chromium without poppler-utils: skipped too, naming what to install.
    let fake = fake_executable(empty.path(), "chromium");
    assert_eq!(
        pdf::find_chromium_in(None, empty.path().as_os_str()).unwrap(),
        fake
    );
    let Err(message) = tools_on(empty.path().as_os_str()) else {
        panic!("poppler tools found on an empty PATH");
    };
    assert_eq!(
        message,
        "skipped: pdftotext not installed (apt-get install poppler-utils)"
    );
}

fn fake_executable(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn missing_chromium_is_one_line_saying_how_to_install_it() {
    let empty = TempDir::new().unwrap();
    let message = pdf::find_chromium_in(None, empty.path().as_os_str()).unwrap_err();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("apt-get install chromium"), "{message}");
    assert!(message.contains("--chromium"), "{message}");

    let missing = empty.path().join("no-such-browser");
    let message = pdf::find_chromium_in(Some(&missing), empty.path().as_os_str()).unwrap_err();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("no-such-browser"), "{message}");
    assert!(message.contains("apt-get install chromium"), "{message}");

    // A folder or a file that cannot run is not a browser either.
    let not_executable = empty.path().join("chromium.txt");
    std::fs::write(&not_executable, "").unwrap();
    assert!(pdf::find_chromium_in(Some(&not_executable), OsStr::new("")).is_err());
    assert!(pdf::find_chromium_in(Some(empty.path()), OsStr::new("")).is_err());
}

#[test]
fn explicit_chromium_path_wins_over_the_path() {
    let on_path = TempDir::new().unwrap();
    fake_executable(on_path.path(), "chromium");
    let elsewhere = TempDir::new().unwrap();
    let explicit = fake_executable(elsewhere.path(), "my-chromium");
    assert_eq!(
        pdf::find_chromium_in(Some(&explicit), on_path.path().as_os_str()).unwrap(),
        explicit
    );
}

#[test]
fn every_page_of_every_public_pdf_carries_the_marking_and_page_number() {
    let Some(tools) = tools() else { return };
    let mut papers: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    papers.sort();
    assert!(papers.len() >= 7);
    for paper in &papers {
        let (html, meta) = public_page(paper);
        let start = Instant::now();
        let printed = print(&tools, &html, &meta);
        let took = start.elapsed();
        let pages = assert_marked_pages(&printed.path, "OFFICIAL", &paper.display().to_string());
        eprintln!(
            "{}: {pages} pages, printed in {} ms",
            paper.file_name().unwrap().to_string_lossy(),
            took.as_millis()
        );
        if paper.ends_with(LARGEST_FIXTURE) {
            assert!(
                pages >= 3,
                "the largest fixture should run to several pages"
            );
        }
    }
}

#[test]
fn every_page_of_the_council_pdf_carries_the_papers_own_classification() {
    let Some(tools) = tools() else { return };
    let text = std::fs::read_to_string(fixtures().join(LARGEST_FIXTURE)).unwrap();
    let (html, meta) = page(&text, "council");
    assert_eq!(meta.subject, "OFFICIAL-SENSITIVE");
    let printed = print(&tools, &html, &meta);
    let pages = assert_marked_pages(&printed.path, "OFFICIAL-SENSITIVE", "council copy");
    assert!(pages >= 3);
    assert_eq!(pdfinfo(&printed.path)["Subject"], "OFFICIAL-SENSITIVE");
}

#[test]
fn no_canary_reaches_a_public_pdf() {
    let Some(tools) = tools() else { return };
    let canary = Regex::new(r"(?i)canary\w+").unwrap();
    let mut papers: Vec<PathBuf> = std::fs::read_dir(project_root().join("tests/leaks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    papers.sort();
    let mut checked = 0;
    for paper in &papers {
        let text = std::fs::read_to_string(paper).unwrap();
        // Every word starting `canary` in a leak paper is withheld from the public copy.
        let canaries: Vec<String> = canary
            .find_iter(&text)
            .map(|m| m.as_str().to_lowercase())
            .collect();
        let (html, meta) = page(&text, "public");
        let printed = print(&tools, &html, &meta);
        let text_layer = all_text(&printed.path);
        assert!(
            text_layer.contains(&meta.title),
            "{}: the PDF text lacks the title, so it proves nothing:\n{text_layer}",
            paper.display()
        );
        let squeezed: String = text_layer
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let info = format!("{:?}", pdfinfo(&printed.path)).to_lowercase();
        let strings = pdf_strings(&printed.bytes).join("\n").to_lowercase();
        let raw = String::from_utf8_lossy(&printed.bytes).to_lowercase();
        for word in &canaries {
            for (channel, haystack) in [
                ("text layer", &squeezed),
                ("metadata", &info),
                ("bookmarks, links or names", &strings),
                ("raw bytes", &raw),
            ] {
                assert!(
                    !haystack.contains(word.as_str()),
                    "{}: canary `{word}` in the public PDF's {channel}",
                    paper.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} canaries checked");
}

#[test]
fn pdf_metadata_holds_only_public_values() {
    let Some(tools) = tools() else { return };
    let (html, meta) = public_page(&fixtures().join(LARGEST_FIXTURE));
    let printed = print(&tools, &html, &meta);
    let info = pdfinfo(&printed.path);
    assert_eq!(
        info["Title"],
        "Continuation of the full-time Serious and Organised Crime Coordination Lead"
    );
    assert_eq!(info["Author"], "NPCC SOC Coordination Portfolio");
    assert_eq!(info["Subject"], "OFFICIAL");
    assert_eq!(info["Creator"], "redact");
    assert_eq!(info["Producer"], "redact");
    assert_eq!(info["CreationDate"], "2024-03-14T00:00:00Z");
    assert_eq!(info["ModDate"], "2024-03-14T00:00:00Z");
    assert!(!info.contains_key("Keywords"), "{info:?}");
    assert_eq!(info["Metadata Stream"], "no");
    assert_eq!(info["Custom Metadata"], "no");
    assert_eq!(info["Tagged"], "yes", "Chromium tags its PDFs");
    // Chromium's own names, the temporary folder it printed in, the server it printed from, and
    // the classification the public copy does not carry appear nowhere in the file's objects.
    let strings = pdf_strings(&printed.bytes).join("\n");
    let raw = String::from_utf8_lossy(&printed.bytes);
    for needle in [
        "Chromium",
        "HeadlessChrome",
        "Mozilla",
        "Skia",
        "redact-pdf-",
        "file://",
        "127.0.0.1",
        "OFFICIAL-SENSITIVE",
    ] {
        assert!(!strings.contains(needle), "`{needle}` in the PDF's objects");
        assert!(!raw.contains(needle), "`{needle}` in the PDF's bytes");
    }
    // Bookmarks come from the public headings.
    assert!(
        strings.contains("5. Finance"),
        "no bookmark for a public heading"
    );
}

#[test]
fn paper_without_organisation_or_iso_date_gets_no_author_or_dates() {
    let Some(tools) = tools() else { return };
    let text = "---\ntitle: Réunion des chefs – coût du café\nclassification: OFFICIAL-SENSITIVE\ndate: March 2024\n---\n\nThe cost is [withheld]{.S43}.\n";
    let (html, meta) = page(text, "public");
    let printed = print(&tools, &html, &meta);
    let info = pdfinfo(&printed.path);
    assert_eq!(info["Title"], "Réunion des chefs – coût du café");
    assert_eq!(info["Subject"], "OFFICIAL");
    for absent in ["Author", "Keywords", "CreationDate", "ModDate"] {
        assert!(!info.contains_key(absent), "{absent} in {info:?}");
    }
    assert_eq!(info["Pages"], "1");
    assert_marked_pages(&printed.path, "OFFICIAL", "short paper");
}

#[test]
fn links_in_the_pdf_are_the_links_the_html_had() {
    let Some(tools) = tools() else { return };
    let text = "---\ntitle: Links\nclassification: OFFICIAL\n---\n\nSee [annex A](annex-a.html#costs), [the\nguidance](https://example.org/guidance), [the index](../index.html) and [the finance section](#finance).\n\n## Finance {#finance}\n\nNone.\n";
    let (html, meta) = page(text, "public");
    let printed = print(&tools, &html, &meta);
    let mut uris = link_uris(&printed.bytes);
    uris.sort();
    assert_eq!(
        uris,
        [
            "../index.html",
            "annex-a.html#costs",
            "https://example.org/guidance"
        ],
        "a relative link must not point into the folder the PDF was printed in"
    );
}

#[test]
fn same_paper_prints_to_the_same_bytes() {
    let Some(tools) = tools() else { return };
    let (html, meta) = public_page(&fixtures().join(LARGEST_FIXTURE));
    let first = pdf::print(&tools.chromium, &html, &meta).unwrap();
    let second = pdf::print(&tools.chromium, &html, &meta).unwrap();
    let differs_at = first.iter().zip(&second).position(|(a, b)| a != b);
    assert!(
        first == second,
        "two prints differ: lengths {} and {}, first difference at byte {differs_at:?}",
        first.len(),
        second.len()
    );
    let id = pdf::document_id(&html, &meta).to_vec();
    let doc = Document::load_mem(&first).unwrap();
    let trailer_id: Vec<Vec<u8>> = doc
        .trailer
        .get(b"ID")
        .and_then(Object::as_array)
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_vec())
        .collect();
    assert_eq!(
        trailer_id,
        [id.clone(), id],
        "the trailer /ID is not the content hash"
    );
}

/// A grey image of each page at 72 dpi (one pixel per point), via `pdftoppm`.
fn page_images(pdf: &Path) -> Vec<(usize, usize, Vec<u8>)> {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "72".as_ref(),
            "-gray".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| read_pgm(&std::fs::read(f).unwrap()))
        .collect()
}

/// A binary PGM (`P5`, 8-bit): width, height, pixels.
fn read_pgm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    assert_eq!(fields[3], "255");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[at + 1..at + 1 + w * h].to_vec())
}

/// The bounding boxes (width, height) of the pure-black regions of a page: marker boxes (the
/// page's other dark things, text and rules, are the ink colour, lighter than black).
fn black_boxes(w: usize, h: usize, pixels: &[u8]) -> Vec<(usize, usize)> {
    let black = |i: usize| pixels[i] < 6;
    let mut seen = vec![false; w * h];
    let mut boxes = Vec::new();
    for start in 0..w * h {
        if seen[start] || !black(start) {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let (mut x0, mut x1, mut y0, mut y1) = (w, 0, h, 0);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
            let mut near = Vec::new();
            if x > 0 {
                near.push(i - 1);
            }
            if x + 1 < w {
                near.push(i + 1);
            }
            if y > 0 {
                near.push(i - w);
            }
            if y + 1 < h {
                near.push(i + w);
            }
            for j in near {
                if !seen[j] && black(j) {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        let size = (x1 - x0 + 1, y1 - y0 + 1);
        // Specks of black inside a box's white letters are not boxes.
        if size.0 >= 20 && size.1 >= 5 {
            boxes.push(size);
        }
    }
    boxes
}

#[test]
fn markers_print_as_whole_fixed_size_boxes_never_split_across_pages() {
    let Some(tools) = tools() else { return };
    // Block and inline markers after paragraphs of varying length, so that many fall near a
    // page break.
    let mut text =
        String::from("---\ntitle: Many markers\nclassification: OFFICIAL-SENSITIVE\n---\n\n");
    for i in 0..40 {
        text.push_str(&format!(
            "Paragraph {i}:{}\n\n",
            " words to fill the line".repeat(i % 7 * 3 + 1)
        ));
        text.push_str(&format!(
            "::: S31\nwithheld block {i}, {}\n:::\n\n",
            "long ".repeat(i * 5)
        ));
        if i % 4 == 0 {
            text.push_str(&format!(
                "Inline: the figure was [{}]{{.S43}} this year.\n\n- a bullet\n- [a withheld bullet {i}]{{.S40}}\n\n",
                "a long withheld figure ".repeat(i)
            ));
        }
    }
    let (html, meta) = page(&text, "public");
    let markers = html.matches("class=\"redact-marker").count();
    assert_eq!(markers, 60);
    let printed = print(&tools, &html, &meta);
    let pages = page_images(&printed.path);
    assert!(pages.len() >= 4, "only {} pages", pages.len());
    let boxes: Vec<(usize, usize)> = pages
        .iter()
        .flat_map(|(w, h, pixels)| black_boxes(*w, *h, pixels))
        .collect();
    // A split marker would show as two shorter boxes, one on each page.
    assert_eq!(boxes.len(), markers, "boxes found: {boxes:?}");
    let mut sizes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (width, height) in &boxes {
        sizes.entry(*width).or_default().push(*height);
    }
    for (width, heights) in &sizes {
        let (lo, hi) = (heights.iter().min().unwrap(), heights.iter().max().unwrap());
        assert!(
            hi - lo <= 1,
            "boxes {width} points wide are {lo} to {hi} high: one is cut; all: {boxes:?}"
        );
    }
    // One width for block markers and one for inline ones, whatever they replaced.
    let widths: Vec<usize> = sizes.keys().copied().collect();
    assert!(
        widths.len() <= 4 && widths.windows(2).filter(|w| w[1] - w[0] > 1).count() == 1,
        "marker widths vary with what they replace: {boxes:?}"
    );
}

#[test]
fn screenshot_of_the_public_page_shows_text_and_a_marker_box() {
    let Some(tools) = tools() else { return };
    let (html, _) = public_page(&fixtures().join(LARGEST_FIXTURE));
    let png = pdf::screenshot(&tools.chromium, &html, 1024, 1400).unwrap();
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    assert_eq!((frame.width, frame.height), (1024, 1400));
    let channels = match frame.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let (width, height) = (frame.width as usize, frame.height as usize);
    let rgb = |x: usize, y: usize| {
        let i = (y * width + x) * channels;
        (buffer[i], buffer[i + 1], buffer[i + 2])
    };
    let mut non_white = 0;
    let mut longest_black_run = 0;
    for y in 0..height {
        let mut run = 0;
        for x in 0..width {
            let px = rgb(x, y);
            if px != (255, 255, 255) {
                non_white += 1;
            }
            // The marker box is #000000; the banner and text are the ink colour #0b0c0c.
            if px == (0, 0, 0) {
                run += 1;
                longest_black_run = longest_black_run.max(run);
            } else {
                run = 0;
            }
        }
    }
    let share = non_white as f64 / (width * height) as f64;
    assert!(
        share > 0.02,
        "the page is nearly blank: {:.4} non-white",
        share
    );
    // An inline marker is 9em wide at 0.9 of 16px: about 130 pixels of black.
    assert!(
        longest_black_run >= 100,
        "no marker box visible (longest black run {longest_black_run} px)"
    );
    // The banner at the top is the ink colour.
    assert_eq!(
        rgb(5, 5),
        (0x0b, 0x0c, 0x0c),
        "no marking banner at the top"
    );
}

/// Every way a page can load something, each aimed at a file on this machine holding its own
/// canary: the council copy and the audit of an earlier build, or a file planted beside them.
/// (load, markup, canary).
fn hostile_loads(earlier: &EarlierBuild) -> Vec<(&'static str, String, String)> {
    let out = earlier.out.display().to_string();
    let planted = earlier.planted.display().to_string();
    let loopback = earlier.loopback;
    let load = |name: &'static str, markup: String| (name, markup, canary_for(name));
    vec![
        load(
            "iframe",
            format!(
                r#"<iframe src="file://{out}/council/iframe.html" width="600" height="300"></iframe>"#
            ),
        ),
        load(
            "object",
            format!(
                r#"<object data="file://{out}/audit/object.json" width="600" height="3000"></object>"#
            ),
        ),
        load(
            "embed",
            format!(
                r#"<embed src="file://{out}/council/embed.html" type="text/html" width="600" height="300">"#
            ),
        ),
        load(
            "img",
            format!(r#"<img src="file://{planted}/img.svg" alt="">"#),
        ),
        load(
            "link",
            format!(
                r#"<link rel="stylesheet" href="file://{planted}/link.css"><p class="link"></p>"#
            ),
        ),
        load(
            "css-url",
            format!(
                r#"<style>.cssurl::before {{ content: url("file://{planted}/css-url.svg"); }}</style><p class="cssurl"></p>"#
            ),
        ),
        load(
            "css-import",
            format!(
                r#"<style>@import url("file://{planted}/css-import.css");</style><p class="css-import"></p>"#
            ),
        ),
        load(
            "base",
            format!(
                r#"<base href="file://{out}/council/"><iframe src="base.html" width="600" height="300"></iframe>"#
            ),
        ),
        load(
            "svg-image",
            format!(
                r#"<svg width="600" height="200"><image href="file://{planted}/svg-image.svg" width="600" height="200"/></svg>"#
            ),
        ),
        load(
            "svg-use",
            format!(
                r#"<svg width="600" height="200"><use href="file://{planted}/svg-use.svg#t"/></svg>"#
            ),
        ),
        load(
            "absolute-path",
            format!(
                r#"<iframe src="{out}/council/absolute-path.html" width="600" height="300"></iframe>"#
            ),
        ),
        load(
            "loopback",
            format!(
                r#"<iframe src="http://127.0.0.1:{loopback}/loopback" width="600" height="300"></iframe>"#
            ),
        ),
        load(
            "localhost",
            format!(
                r#"<iframe src="http://localhost:{loopback}/localhost" width="600" height="300"></iframe>"#
            ),
        ),
        load(
            "meta-refresh",
            format!(
                r#"<meta http-equiv="refresh" content="0; url=file://{out}/council/meta-refresh.html">"#
            ),
        ),
    ]
}

/// The canary word of one load: `CANARYLOAD` and its name in capitals, letters only.
fn canary_for(load: &str) -> String {
    format!(
        "CANARYLOAD{}",
        load.chars()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_uppercase()
    )
}

/// An earlier build of one paper per load, each withholding that load's canary, so its council
/// copy and audit on disk hold it; files planted beside it for the loads that need a
/// stylesheet or an image; and a loopback server answering with a canary (what `redact serve
/// --audit` on this machine would be).
struct EarlierBuild {
    _dir: TempDir,
    out: PathBuf,
    planted: PathBuf,
    loopback: u16,
    /// Every request the loopback server received, as its first line.
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl EarlierBuild {
    fn new(loads: &[&str]) -> EarlierBuild {
        let dir = TempDir::new().unwrap();
        let papers = dir.path().join("papers");
        std::fs::create_dir(&papers).unwrap();
        for load in loads {
            std::fs::write(
                papers.join(format!("{load}.md")),
                format!(
                    "---\ntitle: Earlier paper\nclassification: OFFICIAL-SENSITIVE\n---\n\nThe informant is [{} of the council]{{.S31}}.\n",
                    canary_for(load)
                ),
            )
            .unwrap();
        }
        let out = dir.path().join("out");
        crate::redact_in(dir.path())
            .args(["build", "papers", "--out", "out"])
            .assert()
            .success();
        for (load, _) in [("iframe", ()), ("object", ())] {
            let council = if load == "object" {
                out.join("audit/object.json")
            } else {
                out.join("council/iframe.html")
            };
            assert!(
                std::fs::read_to_string(&council)
                    .unwrap()
                    .contains(&canary_for(load)),
                "{} lacks its canary, so the test proves nothing",
                council.display()
            );
        }
        let planted = dir.path().join("planted");
        std::fs::create_dir(&planted).unwrap();
        let svg = |load: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="100"><text id="t" x="10" y="50" font-size="20">{}</text></svg>"#,
                canary_for(load)
            )
        };
        for load in ["img", "css-url", "svg-image", "svg-use"] {
            std::fs::write(planted.join(format!("{load}.svg")), svg(load)).unwrap();
        }
        for load in ["link", "css-import"] {
            std::fs::write(
                planted.join(format!("{load}.css")),
                format!(".{load}::after {{ content: \"{}\"; }}", canary_for(load)),
            )
            .unwrap();
        }
        let (loopback, requests) = canary_server();
        EarlierBuild {
            _dir: dir,
            out,
            planted,
            loopback,
            requests,
        }
    }
}

/// A loopback HTTP server that answers every request with a page naming the canary of the
/// load its path names, and records each request line.
fn canary_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            seen.lock().unwrap().push(line.trim().to_string());
            let load = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let body = format!("<p>{}</p>", canary_for(load));
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, requests)
}

/// Which canaries a printed PDF holds, in its text layer, metadata, objects or raw bytes.
fn canaries_in(printed: &Printed, canaries: &[String]) -> Vec<String> {
    let text: String = all_text(&printed.path)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let info = format!("{:?}", pdfinfo(&printed.path));
    let strings = pdf_strings(&printed.bytes).join("\n");
    let raw = String::from_utf8_lossy(&printed.bytes).into_owned();
    canaries
        .iter()
        .filter(|c| {
            [&text, &info, &strings, &raw]
                .iter()
                .any(|h| h.contains(c.as_str()))
        })
        .cloned()
        .collect()
}

#[test]
fn print_loads_nothing_but_the_page_whatever_it_asks_for() {
    let Some(tools) = tools() else { return };
    let names = [
        "iframe",
        "object",
        "embed",
        "img",
        "link",
        "css-url",
        "css-import",
        "base",
        "svg-image",
        "svg-use",
        "absolute-path",
        "loopback",
        "localhost",
        "meta-refresh",
    ];
    let earlier = EarlierBuild::new(&names);
    let loads = hostile_loads(&earlier);
    let canaries: Vec<String> = loads.iter().map(|(_, _, c)| c.clone()).collect();
    let meta = PdfMeta {
        title: "Hostile page".into(),
        author: None,
        subject: "OFFICIAL".into(),
        date: None,
    };
    // One page with every load but the refresh (which would replace the page and hide the
    // rest), then the refresh on its own page. `<base>` goes first, in the head.
    let (refresh, rest): (Vec<_>, Vec<_>) = loads
        .iter()
        .partition(|(name, _, _)| *name == "meta-refresh");
    let (base, body): (Vec<_>, Vec<_>) = rest.into_iter().partition(|(name, _, _)| *name == "base");
    let pages = [
        format!(
            "<!DOCTYPE html><html><head><title>Hostile page</title>{}</head><body><h1>Hostile page</h1>{}</body></html>",
            base.iter().map(|(_, m, _)| m.as_str()).collect::<String>(),
            body.iter()
                .map(|(_, m, _)| format!("<div>{m}</div>"))
                .collect::<String>(),
        ),
        format!(
            "<!DOCTYPE html><html><head><title>Hostile page</title>{}</head><body><h1>Hostile page</h1></body></html>",
            refresh[0].1
        ),
    ];
    let mut leaked = BTreeMap::new();
    for html in &pages {
        let printed = print(&tools, html, &meta);
        for canary in canaries_in(&printed, &canaries) {
            leaked.insert(canary, ());
        }
    }
    let mut table = String::from("load | canary in the PDF\n");
    for (name, _, canary) in &loads {
        table.push_str(&format!(
            "{name} | {}\n",
            if leaked.contains_key(canary) {
                "LEAKED"
            } else {
                "no"
            }
        ));
    }
    eprintln!("{table}");
    eprintln!(
        "loopback server saw: {:?}",
        earlier.requests.lock().unwrap()
    );
    assert!(
        leaked.is_empty(),
        "the print loaded files it must not:\n{table}"
    );
    assert!(
        earlier.requests.lock().unwrap().is_empty(),
        "the print reached another address on this machine"
    );
}

#[test]
fn custom_template_cannot_bring_an_earlier_council_copy_into_a_public_pdf() {
    let Some(_tools) = tools() else { return };
    let names = [
        "iframe",
        "object",
        "embed",
        "link",
        "css-import",
        "absolute-path",
    ];
    let earlier = EarlierBuild::new(&names);
    let loads = hostile_loads(&earlier);
    // The project's own page template with every load added to its body.
    let dir = TempDir::new().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    for entry in std::fs::read_dir(project_root().join("templates")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, templates.join(path.file_name().unwrap())).unwrap();
    }
    let page = templates.join("paper.html");
    let markup: String = loads
        .iter()
        .filter(|(name, _, _)| names.contains(name))
        .map(|(_, m, _)| m.as_str())
        .collect();
    let original = std::fs::read_to_string(&page).unwrap();
    assert!(original.contains("</body>"));
    std::fs::write(
        &page,
        original.replace("</body>", &format!("{markup}</body>")),
    )
    .unwrap();
    let papers = dir.path().join("papers");
    std::fs::create_dir(&papers).unwrap();
    std::fs::write(
        papers.join("notice.md"),
        "---\ntitle: Public notice\nclassification: OFFICIAL\n---\n\nNothing is withheld here.\n",
    )
    .unwrap();
    crate::redact_in(dir.path())
        .args(["build", "papers", "--out", "out", "--pdf", "--templates"])
        .arg(&templates)
        .assert()
        .success();
    let pdf_path = dir.path().join("out/public/notice.pdf");
    let printed = Printed {
        _dir: TempDir::new().unwrap(),
        bytes: std::fs::read(&pdf_path).unwrap(),
        path: pdf_path,
    };
    assert!(all_text(&printed.path).contains("Nothing is withheld here."));
    let canaries: Vec<String> = names.iter().map(|n| canary_for(n)).collect();
    let leaked = canaries_in(&printed, &canaries);
    assert!(
        leaked.is_empty(),
        "the custom template's loads reached the public PDF: {leaked:?}"
    );
}

/// Opens `page` (a file) in headless Chromium as a reader would, with none of the print's
/// limits, and waits for it to settle.
fn open_in_browser(tools: &Tools, page: &Path) {
    let profile = TempDir::new().unwrap();
    let output = Command::new(&tools.chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "Chromium failed on {}",
        page.display()
    );
}

#[test]
fn content_security_policy_blocks_a_remote_load_a_template_plants() {
    let Some(tools) = tools() else { return };
    let (port, requests) = canary_server();
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("notice.md"),
        "---\ntitle: Public notice\nclassification: OFFICIAL\n---\n\nNothing is withheld here.\n",
    )
    .unwrap();
    let default = std::fs::read_to_string(project_root().join("templates/paper.html")).unwrap();
    let csp = default
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .expect("the page template carries a Content-Security-Policy");
    // The project's template with a remote image, then the same without its policy: the second
    // shows the image would load, so the first shows the policy is what stops it.
    for (name, keep_policy) in [("with-policy", true), ("without-policy", false)] {
        let templates = dir.path().join(name);
        std::fs::create_dir(&templates).unwrap();
        for entry in std::fs::read_dir(project_root().join("templates")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, templates.join(path.file_name().unwrap())).unwrap();
        }
        let mut page = default.replace(
            "</body>",
            &format!("<img src=\"http://127.0.0.1:{port}/{name}\" alt=\"\"></body>"),
        );
        if !keep_policy {
            page = page.replace(csp, "");
        }
        std::fs::write(templates.join("paper.html"), page).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        crate::redact_in(dir.path())
            .arg("build")
            .arg("notice.md")
            .arg("--out")
            .arg(&out)
            .arg("--templates")
            .arg(&templates)
            .assert()
            .success();
        open_in_browser(&tools, &out.join("public/notice.html"));
    }
    let seen = requests.lock().unwrap().clone();
    assert!(
        seen.iter().any(|r| r.contains("/without-policy")),
        "the page without its policy did not load the image either, so this proves nothing: {seen:?}"
    );
    assert!(
        !seen.iter().any(|r| r.contains("/with-policy")),
        "the Content-Security-Policy let a remote image load: {seen:?}"
    );
}

/// A solid-colour PNG, `size` pixels square.
fn solid_png(rgb: [u8; 3], size: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&rgb.repeat((size * size) as usize))
            .unwrap();
    }
    out
}

/// How many pixels of the PDF's pages, rendered in colour at 72 dpi, are (nearly) `rgb`.
fn pixels_of_colour(pdf: &Path, rgb: [u8; 3]) -> usize {
    let dir = TempDir::new().unwrap();
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "72".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let mut count = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        // A binary PPM: `P6`, width, height, 255, then RGB triples.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
        }
        assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"));
        count += bytes[at + 1..]
            .chunks_exact(3)
            .filter(|p| p.iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) < 8))
            .count();
    }
    count
}

#[test]
fn the_pdf_shows_the_images_its_audience_may_see() {
    let Some(_tools) = tools() else { return };
    const CHART: [u8; 3] = [230, 20, 200];
    const PLAN: [u8; 3] = [20, 200, 90];
    let dir = TempDir::new().unwrap();
    let papers = dir.path().join("papers");
    std::fs::create_dir_all(papers.join("img")).unwrap();
    std::fs::write(
        papers.join("p.md"),
        "---\ntitle: Estates\nclassification: OFFICIAL-SENSITIVE\n---\n\n\
         The chart:\n\n![Chart](img/chart.png)\n\n\
         ::: S31\nThe plan:\n\n![Plan](img/plan.png)\n:::\n",
    )
    .unwrap();
    std::fs::write(papers.join("img/chart.png"), solid_png(CHART, 120)).unwrap();
    std::fs::write(papers.join("img/plan.png"), solid_png(PLAN, 120)).unwrap();
    crate::redact_in(dir.path())
        .args(["build", "-q", "papers", "--out", "out", "--pdf"])
        .assert()
        .success();
    let public = dir.path().join("out/public/p.pdf");
    let council = dir.path().join("out/council/p.pdf");
    // 120 px at 96 px per inch print as 90 pt: about 8,100 pixels at 72 dpi.
    let area = 90 * 90 / 2;
    assert!(
        pixels_of_colour(&public, CHART) > area,
        "the public PDF does not show the chart"
    );
    assert_eq!(
        pixels_of_colour(&public, PLAN),
        0,
        "the withheld plan reached the public PDF"
    );
    // The council sees both: the count above is not blind to the plan's colour.
    assert!(pixels_of_colour(&council, PLAN) > area);
    assert!(pixels_of_colour(&council, CHART) > area);
}
