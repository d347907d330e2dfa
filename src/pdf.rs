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
//! - [`print()`] prints one page to PDF bytes; [`print_with_assets`] serves files beside it
//!   (images, stylesheets the page names by relative path); [`PdfMeta::for_copy`] gives the
//!   metadata of a copy.
//! - [`screenshot`] renders one page to PNG bytes (a check that the page is not blank).
//!
//! Printing never shows Chromium a file. `redact` serves the page (and any assets given with
//! it) from memory over HTTP on 127.0.0.1, on a port of its own, for that one print, and
//! answers 404 to anything else; Chromium opens the page from there, and an `http:` page
//! cannot load `file:` URLs, so no file on this machine (a council copy, an audit) can reach a
//! printed page whatever the HTML or a custom template asks for. Every other address is
//! unreachable: no host name resolves (only the address 127.0.0.1 is left), and every request,
//! loopback included, goes through a proxy that is the same server, which refuses all but the
//! page's own origin. Chromium runs in a fresh temporary folder with its own profile, no
//! background networking and no header or footer of its own (Chromium's default ones print the
//! date and the page's address). Chromium tags the PDF (structure tree, `/Lang`, `/MarkInfo`)
//! and writes bookmarks from the headings (`--generate-pdf-document-outline`).
//!
//! After printing, [`normalise`] rewrites what Chromium makes vary or leak:
//! - the Info dictionary: `Title` the paper's title, `Author` its organisation (absent when it
//!   has none), `Subject` the copy's marking, `Creator` and `Producer` `redact`, `CreationDate`
//!   and `ModDate` the paper's `date` (`D:YYYYMMDD000000Z`, absent unless it is `YYYY-MM-DD`);
//!   no `Keywords` and nothing else (Chromium's browser string and `Skia/PDF` go);
//! - the XMP metadata stream, if any, is removed;
//! - the trailer `/ID` is the first 16 bytes of a SHA-256 of the HTML and the metadata, twice;
//! - the structure tree's element ids (Chromium's DOM node numbers, which can differ by one
//!   from one print to the next) are renumbered from 1 in their order;
//! - a relative link in the HTML, which Chromium turns into an `http://127.0.0.1:…` URL of the
//!   print's own server, is written back as a path relative to the page.
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

/// A file served beside the page while it prints: an image or stylesheet the page names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Its path relative to the page's folder, `/`-separated, as the page names it (`img/c.png`,
    /// `../shared/logo.png`); no scheme, no leading `/`.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Prints `html` (a whole page) to PDF with `chromium`, then [`normalise`]s it with `meta`.
pub fn print(chromium: &Path, html: &str, meta: &PdfMeta) -> Result<Vec<u8>, String> {
    print_with_assets(chromium, html, &[], meta)
}

/// As [`print()`], serving `assets` beside the page: the only files the print can load.
pub fn print_with_assets(
    chromium: &Path,
    html: &str,
    assets: &[Asset],
    meta: &PdfMeta,
) -> Result<Vec<u8>, String> {
    let work = Workspace::new()?;
    let server = PageServer::start(html, assets)?;
    let pdf = work.dir.path().join("paper.pdf");
    let mut print_arg = OsString::from("--print-to-pdf=");
    print_arg.push(&pdf);
    work.run(
        chromium,
        &server,
        &[
            print_arg,
            "--no-pdf-header-footer".into(),
            "--generate-pdf-document-outline".into(),
        ],
    )?;
    let folder = server.folder_url();
    drop(server);
    let bytes = std::fs::read(&pdf).map_err(|e| format!("Chromium wrote no PDF: {e}"))?;
    normalise(&bytes, meta, html, &folder)
}

/// Renders `html` (a whole page) in a `width` × `height` window with `chromium`; PNG bytes.
pub fn screenshot(chromium: &Path, html: &str, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let work = Workspace::new()?;
    let server = PageServer::start(html, &[])?;
    let png = work.dir.path().join("paper.png");
    let mut shot_arg = OsString::from("--screenshot=");
    shot_arg.push(&png);
    work.run(
        chromium,
        &server,
        &[
            shot_arg,
            format!("--window-size={width},{height}").into(),
            "--hide-scrollbars".into(),
        ],
    )?;
    drop(server);
    std::fs::read(&png).map_err(|e| format!("Chromium wrote no screenshot: {e}"))
}

/// Folders between the served root and the page, so a relative link that climbs (`../x.html`)
/// still resolves below the root and can be written back as it was.
const PAGE_DEPTH: usize = 8;

/// Where the page is served: `/p/p/…/paper.html`, [`PAGE_DEPTH`] folders (or more, if an
/// asset climbs further) below the root. Returns the page's folder (`/p/…/p/`).
fn page_folder(assets: &[Asset]) -> String {
    let climb = assets
        .iter()
        .map(|a| {
            a.path
                .split('/')
                .take_while(|s| *s == ".." || *s == ".")
                .count()
        })
        .max()
        .unwrap_or(0);
    let mut folder = String::from("/");
    for _ in 0..PAGE_DEPTH.max(climb) {
        folder.push_str("p/");
    }
    folder
}

/// `relative` resolved against the folder `base` (which starts and ends with `/`), as a path
/// from the root; None if it is absolute, names a scheme, or climbs above the root.
fn resolve(base: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.contains(':') || relative.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The page and its assets, served from memory on 127.0.0.1 for one print. It is also the
/// browser's proxy, so every request Chromium makes reaches it; it answers only requests for
/// its own origin and the paths it holds, and 404 to everything else (another host, another
/// port, `CONNECT`, a path it does not hold). Stopped when dropped.
struct PageServer {
    server: std::sync::Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// `http://127.0.0.1:PORT`
    origin: String,
    /// The page's path on the server.
    page: String,
}

/// The content type a served file is sent with, from its extension.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

impl PageServer {
    fn start(html: &str, assets: &[Asset]) -> Result<PageServer, String> {
        let folder = page_folder(assets);
        let page = format!("{folder}paper.html");
        let mut files: std::collections::BTreeMap<String, (Vec<u8>, &'static str)> =
            std::collections::BTreeMap::new();
        files.insert(
            page.clone(),
            (html.as_bytes().to_vec(), content_type(&page)),
        );
        for asset in assets {
            let Some(at) = resolve(&folder, &asset.path).filter(|at| *at != page) else {
                return Err(format!(
                    "cannot serve `{}` to print: an asset's path must be relative to the page",
                    asset.path
                ));
            };
            files.insert(at, (asset.bytes.clone(), content_type(&asset.path)));
        }
        let server = tiny_http::Server::http("127.0.0.1:0")
            .map_err(|e| format!("cannot serve the page to print on 127.0.0.1: {e}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or("cannot serve the page to print: no port on 127.0.0.1")?;
        let origin = format!("http://127.0.0.1:{port}");
        let server = std::sync::Arc::new(server);
        let thread = {
            let server = server.clone();
            let origin = origin.clone();
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let found = matches!(
                        request.method(),
                        tiny_http::Method::Get | tiny_http::Method::Head
                    )
                    .then(|| served_path(&request, &origin))
                    .flatten()
                    .and_then(|path| files.get(&path));
                    // A failed answer (Chromium gone) concerns nobody: the print reports itself.
                    let _ = match found {
                        Some((bytes, kind)) => request.respond(
                            tiny_http::Response::from_data(bytes.clone())
                                .with_header(header("Content-Type", kind))
                                .with_header(header("X-Content-Type-Options", "nosniff"))
                                .with_header(header("Cache-Control", "no-store")),
                        ),
                        None => request.respond(tiny_http::Response::empty(404)),
                    };
                }
            })
        };
        Ok(PageServer {
            server,
            thread: Some(thread),
            origin,
            page,
        })
    }

    fn page_url(&self) -> String {
        format!("{}{}", self.origin, self.page)
    }

    /// The URL of the page's folder, ending in `/`.
    fn folder_url(&self) -> String {
        let folder = self.page.rsplit_once('/').map_or("", |(f, _)| f);
        format!("{}{folder}/", self.origin)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    // Both are fixed ASCII strings of ours, always a valid header.
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|()| unreachable!("invalid header {name}"))
}

/// The path a request asks this server for, percent-decoded, if it is for this server's own
/// origin: `GET /path` with `Host: 127.0.0.1:PORT`, or, through the proxy, `GET
/// http://127.0.0.1:PORT/path`. The query and fragment are dropped.
fn served_path(request: &tiny_http::Request, origin: &str) -> Option<String> {
    let url = request.url();
    let path = if let Some(path) = url.strip_prefix(origin) {
        path
    } else {
        let host = origin.strip_prefix("http://")?;
        let named = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .map(|h| h.value.as_str());
        if named != Some(host) {
            return None;
        }
        url
    };
    let path = path.split(['?', '#']).next()?;
    if !path.starts_with('/') {
        return None;
    }
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()
        .map(|p| p.into_owned())
}

/// A fresh temporary folder holding the browser profile and what it writes.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Result<Workspace, String> {
        let dir = tempfile::Builder::new()
            .prefix("redact-pdf-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder to print in: {e}"))?;
        Ok(Workspace { dir })
    }

    /// Runs headless Chromium on the page `server` serves with `extra` arguments, within
    /// [`TIMEOUT`].
    fn run(&self, chromium: &Path, server: &PageServer, extra: &[OsString]) -> Result<(), String> {
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
                // No name resolves; only the print's own server, by address, is reachable.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                // Loopback included: another server on this machine is another address.
                "--proxy-bypass-list=<-loopback>",
                "--run-all-compositor-stages-before-draw",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--proxy-server={}", server.origin))
            .arg(profile_arg)
            .args(extra)
            .arg(server.page_url())
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
/// `folder` is the URL of the page's folder on the print server, ending in `/`.
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

    renumber_structure_ids(&mut doc);

    if let Some((origin, folder)) = folder
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|at| folder.split_at(at + 7)))
    {
        for object in doc.objects.values_mut() {
            relativise_links(object, origin, folder);
        }
    }

    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| format!("cannot write the PDF: {e}"))?;
    Ok(out)
}

/// Renames the ids of the structure tree's elements (`/ID(node00000074)`, which Chromium takes
/// from the page's DOM node numbers and which can start one higher from one print to the
/// next) by their rank, keeping their order (the `/IDTree` is sorted by them), and every
/// string that cites one (table `/Headers`, the `/IDTree`'s names and limits) with them, so
/// the same page prints the same bytes.
fn renumber_structure_ids(doc: &mut Document) {
    let mut ids = std::collections::BTreeSet::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        let is_element = dict
            .get(b"Type")
            .and_then(Object::as_name)
            .is_ok_and(|t| t == b"StructElem");
        if let (true, Ok(Object::String(id, _))) = (is_element, dict.get(b"ID")) {
            // Shorter first: `node9` before `node10`, were they not padded alike.
            ids.insert((id.len(), id.clone()));
        }
    }
    if ids.is_empty() {
        return;
    }
    let renamed: std::collections::HashMap<Vec<u8>, Vec<u8>> = (ids.into_iter().enumerate())
        .map(|(k, (_, id))| (id, format!("node{:08}", k + 1).into_bytes()))
        .collect();
    fn rename(object: &mut Object, renamed: &std::collections::HashMap<Vec<u8>, Vec<u8>>) {
        match object {
            Object::String(bytes, _) => {
                if let Some(new) = renamed.get(bytes.as_slice()) {
                    bytes.clone_from(new);
                }
            }
            Object::Array(items) => items.iter_mut().for_each(|i| rename(i, renamed)),
            Object::Dictionary(dict) => dict.iter_mut().for_each(|(_, v)| rename(v, renamed)),
            Object::Stream(stream) => {
                (stream.dict.iter_mut()).for_each(|(_, v)| rename(v, renamed));
            }
            _ => {}
        }
    }
    for object in doc.objects.values_mut() {
        rename(object, &renamed);
    }
}

/// Turns every `/URI` action pointing at the print server (`origin`) back into a link
/// relative to the page's `folder`, as the HTML had it.
fn relativise_links(object: &mut Object, origin: &str, folder: &str) {
    match object {
        Object::Dictionary(dict) => relativise_dict(dict, origin, folder),
        Object::Stream(stream) => relativise_dict(&mut stream.dict, origin, folder),
        Object::Array(items) => {
            for item in items {
                relativise_links(item, origin, folder);
            }
        }
        _ => {}
    }
}

fn relativise_dict(dict: &mut Dictionary, origin: &str, folder: &str) {
    for (key, value) in dict.iter_mut() {
        if key == b"URI"
            && let Object::String(bytes, _) = value
            && let Some(path) = bytes.strip_prefix(origin.as_bytes())
            && path.starts_with(b"/")
        {
            *bytes = relative_link(folder, &String::from_utf8_lossy(path)).into_bytes();
            continue;
        }
        relativise_links(value, origin, folder);
    }
}

/// `target` (a path from the server's root, perhaps with `?query` or `#fragment`) as a link
/// relative to `folder` (which starts and ends with `/`).
fn relative_link(folder: &str, target: &str) -> String {
    let split = target.find(['?', '#']).unwrap_or(target.len());
    let (path, rest) = target.split_at(split);
    let from: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = path.split('/').skip(1).collect();
    let (dirs, file) = to.split_at(to.len().saturating_sub(1));
    let common = from.iter().zip(dirs).take_while(|(a, b)| a == b).count();
    let mut link = "../".repeat(from.len() - common);
    for dir in &dirs[common..] {
        link.push_str(dir);
        link.push('/');
    }
    link.push_str(file.first().copied().unwrap_or(""));
    link.push_str(rest);
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tagged document as Chromium writes one: three table header cells with ids from
    /// `first` on, a cell citing them, and the id tree.
    fn tagged(first: u32) -> Document {
        let id = |k: u32| Object::string_literal(format!("node{:08}", first + k));
        let mut doc = Document::with_version("1.7");
        let mut names = Vec::new();
        for k in 0..3 {
            let mut th = Dictionary::new();
            th.set("Type", Object::Name(b"StructElem".to_vec()));
            th.set("S", Object::Name(b"TH".to_vec()));
            th.set("ID", id(k));
            names.push(id(k));
            names.push(Object::Reference(doc.add_object(th)));
        }
        let mut td = Dictionary::new();
        td.set("Type", Object::Name(b"StructElem".to_vec()));
        let mut attributes = Dictionary::new();
        attributes.set("Headers", Object::Array(vec![id(0), id(2)]));
        td.set("A", Object::Dictionary(attributes));
        doc.add_object(td);
        let mut tree = Dictionary::new();
        tree.set("Limits", Object::Array(vec![id(0), id(2)]));
        tree.set("Names", Object::Array(names));
        doc.add_object(tree);
        doc
    }

    fn saved(mut doc: Document) -> Vec<u8> {
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn structure_ids_that_start_elsewhere_print_the_same_bytes() {
        let (mut one, mut other) = (tagged(74), tagged(75));
        assert_ne!(saved(tagged(74)), saved(tagged(75)));
        renumber_structure_ids(&mut one);
        renumber_structure_ids(&mut other);
        let (one, other) = (saved(one), saved(other));
        assert_eq!(one, other);
        let text = String::from_utf8_lossy(&one);
        assert!(
            text.contains("/Limits[(node00000001)(node00000003)]"),
            "{text}"
        );
        assert!(
            text.contains("/Headers[(node00000001)(node00000003)]"),
            "{text}"
        );
        assert!(!text.contains("node0000007"), "{text}");
    }

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
    fn links_to_the_print_server_become_relative_to_the_page_again() {
        let folder = "/p/p/p/";
        assert_eq!(
            relative_link(folder, "/p/p/p/annex-a.html#costs"),
            "annex-a.html#costs"
        );
        assert_eq!(
            relative_link(folder, "/p/p/p/img/c.png?x=1"),
            "img/c.png?x=1"
        );
        assert_eq!(
            relative_link(folder, "/p/p/shared/a.pdf"),
            "../shared/a.pdf"
        );
        assert_eq!(relative_link(folder, "/x.html"), "../../../x.html");
    }

    #[test]
    fn assets_resolve_inside_the_served_tree_only() {
        let folder = page_folder(&[]);
        assert_eq!(folder.matches('/').count(), PAGE_DEPTH + 1);
        assert_eq!(
            resolve(&folder, "img/c.png").as_deref(),
            Some(&*format!("{folder}img/c.png"))
        );
        assert_eq!(resolve("/p/p/", "../a.png").as_deref(), Some("/p/a.png"));
        assert_eq!(resolve("/p/", "../../a.png"), None);
        assert_eq!(resolve("/p/", "/etc/passwd"), None);
        assert_eq!(resolve("/p/", "file:///etc/passwd"), None);
        let deep = Asset {
            path: "../".repeat(PAGE_DEPTH + 2) + "a.png",
            bytes: Vec::new(),
        };
        let folder = page_folder(std::slice::from_ref(&deep));
        assert!(resolve(&folder, &deep.path).is_some());
    }
}
