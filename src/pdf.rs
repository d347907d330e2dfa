//! Print-ready PDF of one copy: the copy's own HTML page, printed by headless Chromium, then its
//! metadata rewritten so it holds only public values and the same input gives the same bytes.
//!
//! The PDF is printed from the audience's HTML, which never held the withheld text, so nothing
//! withheld can reach its text layer, bookmarks or links. The page template's print CSS carries
//! the marking at the top and bottom of every page and "Page n of N" (`@page` margin boxes), and
//! keeps each marker box on one page.
//!
//! - [`find_chromium`] resolves the browser: the path given (`--chromium PATH`), else
//!   `chromium`, `chromium-browser` or `google-chrome` on the `PATH`; the error is one line
//!   saying how to install it. [`find_chromium_in`] does the same with a given `PATH`.
//! - [`print()`] prints one page to PDF bytes; [`PdfMeta::for_copy`] gives the metadata of a copy.
//! - [`screenshot`] renders one page to PNG bytes (a check that the page is not blank).
//!
//! Printing runs Chromium in a fresh temporary folder with its own profile, no network (every
//! host name resolves to nothing, so a remote image is never fetched while printing) and no
//! header or footer of its own (Chromium's default ones print the date and the file's path).
//! Chromium tags the PDF (structure tree, `/Lang`, `/MarkInfo`) and writes bookmarks from the
//! headings (`--generate-pdf-document-outline`). Because the page is printed from that folder,
//! an image with a relative or remote source does not load (Chromium shows at most its alt text).
//!
//! After printing, [`normalise`] rewrites what Chromium makes vary or leak:
//! - the Info dictionary: `Title` the paper's title, `Author` its organisation (absent when it
//!   has none), `Subject` the copy's marking, `Creator` and `Producer` `redact`, `CreationDate`
//!   and `ModDate` the paper's `date` (`D:YYYYMMDD000000Z`, absent unless it is `YYYY-MM-DD`);
//!   no `Keywords` and nothing else (Chromium's browser string and `Skia/PDF` go);
//! - the XMP metadata stream, if any, is removed;
//! - the trailer `/ID` is the first 16 bytes of a SHA-256 of the HTML and the metadata, twice;
//! - a relative link in the HTML, which Chromium turns into a `file://` URL of the temporary
//!   folder, is written back as it was in the HTML.
//!
//! The same HTML printed by the same Chromium with the same fonts gives the same bytes; another
//! Chromium version or font set lays the page out differently.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use sha2::{Digest, Sha256};

use crate::redact::Copy;

/// Names looked for on the `PATH`, in order.
pub const CHROMIUM_NAMES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// How long one print or screenshot may take before Chromium is stopped.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// What the PDF's Info dictionary says: public values only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfMeta {
    /// The paper's title (front matter `title`).
    pub title: String,
    /// The paper's organisation, if it has one.
    pub author: Option<String>,
    /// The marking the copy carries.
    pub subject: String,
    /// The paper's date; used only when it is `YYYY-MM-DD`.
    pub date: Option<String>,
}

impl PdfMeta {
    /// The metadata of `copy`'s PDF.
    pub fn for_copy(copy: &Copy) -> PdfMeta {
        let fm = copy.front_matter;
        PdfMeta {
            title: fm.title.clone(),
            author: fm.organisation.clone(),
            subject: copy.marking.clone(),
            date: fm.date.clone(),
        }
    }
}

/// The browser to print with: `explicit` if given (it must be an executable file), else the
/// first of [`CHROMIUM_NAMES`] on the `PATH`.
pub fn find_chromium(explicit: Option<&Path>) -> Result<PathBuf, String> {
    find_chromium_in(explicit, &std::env::var_os("PATH").unwrap_or_default())
}

/// [`find_chromium`] with `path` (a `PATH`-style list of folders) in place of the `PATH`.
pub fn find_chromium_in(explicit: Option<&Path>, path: &OsStr) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else {
            Err(format!(
                "Chromium not found at `{}`: give the path of the browser's executable, or install it with `apt-get install chromium`",
                path.display()
            ))
        };
    }
    for name in CHROMIUM_NAMES {
        for dir in std::env::split_paths(path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(
        "--pdf needs Chromium, not found on the PATH (chromium, chromium-browser, google-chrome): install it with `apt-get install chromium`, or give its path with --chromium PATH"
            .to_string(),
    )
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Prints `html` (a whole page) to PDF with `chromium`, then [`normalise`]s it with `meta`.
pub fn print(chromium: &Path, html: &str, meta: &PdfMeta) -> Result<Vec<u8>, String> {
    let work = Workspace::new(html)?;
    let pdf = work.dir.path().join("paper.pdf");
    let mut print_arg = OsString::from("--print-to-pdf=");
    print_arg.push(&pdf);
    work.run(
        chromium,
        &[
            print_arg,
            "--no-pdf-header-footer".into(),
            "--generate-pdf-document-outline".into(),
        ],
    )?;
    let bytes = std::fs::read(&pdf).map_err(|e| format!("Chromium wrote no PDF: {e}"))?;
    normalise(&bytes, meta, html, &work.name)
}

/// Renders `html` (a whole page) in a `width` × `height` window with `chromium`; PNG bytes.
pub fn screenshot(chromium: &Path, html: &str, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let work = Workspace::new(html)?;
    let png = work.dir.path().join("paper.png");
    let mut shot_arg = OsString::from("--screenshot=");
    shot_arg.push(&png);
    work.run(
        chromium,
        &[
            shot_arg,
            format!("--window-size={width},{height}").into(),
            "--hide-scrollbars".into(),
        ],
    )?;
    std::fs::read(&png).map_err(|e| format!("Chromium wrote no screenshot: {e}"))
}

/// A fresh temporary folder holding the page and the browser profile.
struct Workspace {
    dir: tempfile::TempDir,
    /// The folder's own name: unique, and only `[A-Za-z0-9._-]`, so it reads the same in a URL.
    name: String,
    page: PathBuf,
}

impl Workspace {
    fn new(html: &str) -> Result<Workspace, String> {
        let dir = tempfile::Builder::new()
            .prefix("redact-pdf-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder to print in: {e}"))?;
        let name = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let page = dir.path().join("paper.html");
        std::fs::write(&page, html).map_err(|e| format!("cannot write the page to print: {e}"))?;
        Ok(Workspace { dir, name, page })
    }

    /// Runs headless Chromium on the page with `extra` arguments, within [`TIMEOUT`].
    fn run(&self, chromium: &Path, extra: &[OsString]) -> Result<(), String> {
        let profile = self.dir.path().join("profile");
        let log = self.dir.path().join("chromium.log");
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("cannot create a log file: {e}"))?;
        let mut profile_arg = OsString::from("--user-data-dir=");
        profile_arg.push(&profile);
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--run-all-compositor-stages-before-draw",
                "--virtual-time-budget=10000",
            ])
            .arg(profile_arg)
            .args(extra)
            .arg(file_url(&self.page))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot run Chromium `{}`: {e}", chromium.display()))?;
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "Chromium did not finish within {} seconds",
                        TIMEOUT.as_secs()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(format!("cannot wait for Chromium: {e}")),
            }
        };
        if status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let last = log
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.contains("dbus"))
            .unwrap_or("no message");
        Err(format!("Chromium failed ({status}): {}", last.trim()))
    }
}

/// `path` as a `file://` URL, each byte outside the URL-safe set percent-encoded.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    let text = path.to_string_lossy();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// `D:YYYYMMDD000000Z` for a `YYYY-MM-DD` date, else `None`.
pub fn pdf_date(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return None;
    }
    let month: u32 = date[5..7].parse().ok()?;
    let day: u32 = date[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(format!(
        "D:{}{}{}000000Z",
        &date[0..4],
        &date[5..7],
        &date[8..10]
    ))
}

/// A PDF text string: literal when plain ASCII, else UTF-16BE with its byte order mark.
fn text_string(text: &str) -> Object {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// The stable document id: the first 16 bytes of a SHA-256 of the page and the metadata.
pub fn document_id(html: &str, meta: &PdfMeta) -> [u8; 16] {
    let mut hasher = Sha256::new();
    for part in [
        html,
        &meta.title,
        meta.author.as_deref().unwrap_or(""),
        &meta.subject,
        meta.date.as_deref().unwrap_or(""),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

/// Rewrites a printed PDF's metadata, id and temporary-folder links (see the module doc).
/// `folder` is the temporary folder's own name, as it appears in `file://` links.
pub fn normalise(pdf: &[u8], meta: &PdfMeta, html: &str, folder: &str) -> Result<Vec<u8>, String> {
    let mut doc =
        Document::load_mem(pdf).map_err(|e| format!("cannot read the PDF Chromium wrote: {e}"))?;

    let mut info = Dictionary::new();
    info.set("Title", text_string(&meta.title));
    if let Some(author) = meta.author.as_deref().filter(|a| !a.is_empty()) {
        info.set("Author", text_string(author));
    }
    info.set("Subject", text_string(&meta.subject));
    info.set("Creator", text_string("redact"));
    info.set("Producer", text_string("redact"));
    if let Some(date) = meta.date.as_deref().and_then(pdf_date) {
        info.set("CreationDate", text_string(&date));
        info.set("ModDate", text_string(&date));
    }
    match doc.trailer.get(b"Info").and_then(Object::as_reference) {
        Ok(id) => {
            doc.objects.insert(id, Object::Dictionary(info));
        }
        Err(_) => {
            let id = doc.add_object(Object::Dictionary(info));
            doc.trailer.set("Info", Object::Reference(id));
        }
    }

    let metadata: Option<ObjectId> = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Metadata").ok())
        .and_then(|m| m.as_reference().ok());
    if let Ok(catalog) = doc.catalog_mut() {
        catalog.remove(b"Metadata");
    }
    if let Some(id) = metadata {
        doc.objects.remove(&id);
    }

    let id = document_id(html, meta).to_vec();
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );

    if !folder.is_empty() {
        let marker = format!("/{folder}/");
        for object in doc.objects.values_mut() {
            relativise_links(object, &marker);
        }
    }

    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| format!("cannot write the PDF: {e}"))?;
    Ok(out)
}

/// Turns every `/URI` action pointing into the temporary folder back into the relative link
/// the HTML had.
fn relativise_links(object: &mut Object, marker: &str) {
    match object {
        Object::Dictionary(dict) => relativise_dict(dict, marker),
        Object::Stream(stream) => relativise_dict(&mut stream.dict, marker),
        Object::Array(items) => {
            for item in items {
                relativise_links(item, marker);
            }
        }
        _ => {}
    }
}

fn relativise_dict(dict: &mut Dictionary, marker: &str) {
    for (key, value) in dict.iter_mut() {
        if key == b"URI"
            && let Object::String(bytes, _) = value
            && bytes.starts_with(b"file://")
            && let Some(at) = find(bytes, marker.as_bytes())
        {
            *bytes = bytes[at + marker.len()..].to_vec();
            continue;
        }
        relativise_links(value, marker);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_iso_date_becomes_a_pdf_date() {
        assert_eq!(pdf_date("2023-07-12").as_deref(), Some("D:20230712000000Z"));
        assert_eq!(pdf_date("July 2023"), None);
        assert_eq!(pdf_date("2023-13-01"), None);
        assert_eq!(pdf_date("2023-7-12"), None);
        assert_eq!(pdf_date("2023-07-12T10:00"), None);
    }

    #[test]
    fn non_ascii_metadata_is_utf16_with_bom() {
        assert_eq!(
            text_string("Café"),
            Object::String(
                vec![0xfe, 0xff, 0, b'C', 0, b'a', 0, b'f', 0, 0xe9],
                StringFormat::Hexadecimal
            )
        );
        assert_eq!(
            text_string("OFFICIAL"),
            Object::String(b"OFFICIAL".to_vec(), StringFormat::Literal)
        );
    }

    #[test]
    fn file_url_percent_encodes_spaces() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/p.html")),
            "file:///tmp/a%20b/p.html"
        );
    }
}
