//! `redact serve`: a local preview while a paper is written. Builds every paper in memory with
//! the same pipeline as `build` ([`build_paper`]), serves the files `build` would write at the
//! same relative paths, and rebuilds when anything under an input folder, a rule or a template
//! changes, so the open page reloads itself.
//!
//! It must never: listen beyond 127.0.0.1; answer a request naming another Host (a page on
//! another site, its name rebound to 127.0.0.1, could otherwise read the council copies); serve a
//! file `build` would not write (the audit only with `--audit`); show a paper's last good copies
//! once it has an error; write anything. Files are looked up in memory by exact path, so `../`
//! or an absolute path names nothing and is 404 by construction.
//!
//! Copies are served byte for byte as `build` writes them. The reload script is a file of its
//! own, `/_redact/reload.js`, loaded only by serve's own pages (the index, and the page that
//! frames a paper's copies side by side); `_redact` can never be an audience folder, since
//! audience names are lower-case letters, digits and `-`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rayon::prelude::*;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::error::{Error, Exit};
use crate::manifest::{self, Inputs};
use crate::pipeline::{AUDIT_FOLDER, build_paper, output_paths};
use crate::render::escape_html;
use crate::rules::Marking;
use crate::schedule::Release;
use crate::source::{PaperPath, load_rules, load_templates, read_paper, walk};

/// The port `serve` listens on unless `--port` says otherwise.
pub const DEFAULT_PORT: u16 = 4117;

/// How long a page's wait for a change is held open before it asks again.
const WAIT: Duration = Duration::from_secs(25);

/// Quiet time after the last change before a rebuild: an editor's save is often several writes.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// serve's own files, outside any audience folder.
const RELOAD_JS: &str = include_str!("serve/reload.js");
const SERVE_CSS: &str = include_str!("serve/serve.css");

/// Bytes left as they are in a path written into a link: the rest are percent-encoded.
const PATH_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What `redact serve` was asked for.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub paths: Vec<PathBuf>,
    pub rules: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    /// 0 picks a free port (the address is printed).
    pub port: u16,
    pub open: bool,
    pub audit: bool,
    pub quiet: bool,
}

/// One build of every paper, as served. Replaced whole on each rebuild, never patched, so a
/// request sees one build or the next, never a mix.
#[derive(Debug, Default)]
struct Site {
    /// Counts the builds that changed what is served; pages reload when it moves.
    generation: u64,
    /// Rules, templates or the walk failed: no copy is served, this is shown instead.
    fatal: Option<String>,
    /// Paths that could not be taken as papers; the rest are served.
    skipped: Vec<String>,
    /// Each audience's name and marking, in the order of the rules.
    audiences: Vec<(String, Marking)>,
    papers: Vec<Served>,
}

impl Site {
    /// Whether `other` serves exactly what this one does.
    fn same_as(&self, other: &Site) -> bool {
        self.fatal == other.fatal
            && self.skipped == other.skipped
            && self.audiences == other.audiences
            && self.papers == other.papers
    }

    fn paper(&self, name: &str) -> Option<&Served> {
        self.papers.iter().find(|p| p.name == name)
    }
}

/// One paper's build.
#[derive(Debug, Clone, PartialEq)]
struct Served {
    name: String,
    /// Hash of everything its copies depend on; equal keys give identical copies.
    key: Option<String>,
    state: PaperState,
}

#[derive(Debug, Clone, PartialEq)]
enum PaperState {
    Built {
        /// By URL path (`/public/x.html`).
        files: BTreeMap<String, Arc<Vec<u8>>>,
        classification: String,
        /// As printed on stderr.
        warnings: String,
    },
    Failed {
        /// As printed on stderr: the located error, or the proof's findings.
        message: String,
        /// The URL paths its copies would have: each answers with the error.
        paths: Vec<String>,
    },
}

/// What every request handler and the rebuilder share.
struct Shared {
    site: Mutex<Arc<Site>>,
    changed: Condvar,
    port: u16,
    stopping: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Arc<Site>> {
        self.site.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self) -> Arc<Site> {
        Arc::clone(&self.lock())
    }
}

/// Runs the preview until Ctrl-C.
pub fn serve(options: &ServeOptions) -> Exit {
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)) {
        Ok(listener) => listener,
        Err(e) => return report(&Error::Usage(bind_message(options.port, &e))),
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(options.port);
    let server = match Server::from_listener(listener, None) {
        Ok(server) => Arc::new(server),
        Err(e) => {
            return report(&Error::Usage(format!(
                "cannot serve on 127.0.0.1:{port}: {e}"
            )));
        }
    };
    let started = Instant::now();
    let (mut site, log) = build_site(options, &Site::default());
    site.generation = 1;
    eprint!("{log}");
    let shared = Arc::new(Shared {
        site: Mutex::new(Arc::new(site)),
        changed: Condvar::new(),
        port,
        stopping: AtomicBool::new(false),
    });

    let (events, changes) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = match new_debouncer(DEBOUNCE, events) {
        Ok(d) => d,
        Err(e) => {
            return report(&Error::Usage(format!(
                "cannot watch the papers for changes: {e}"
            )));
        }
    };
    for (path, mode) in watched(options) {
        if let Err(e) = debouncer.watcher().watch(&path, mode) {
            eprintln!(
                "warning: cannot watch {} for changes ({e}); restart serve after changing it",
                path.display()
            );
        }
    }
    let rebuilder = {
        let shared = Arc::clone(&shared);
        let options = options.clone();
        std::thread::spawn(move || rebuild_on_change(&changes, &shared, &options))
    };

    {
        let shared = Arc::clone(&shared);
        let server = Arc::clone(&server);
        if let Err(e) = ctrlc::set_handler(move || {
            shared.stopping.store(true, Ordering::SeqCst);
            shared.changed.notify_all();
            server.unblock();
        }) {
            eprintln!("warning: cannot catch Ctrl-C ({e}); stop serve by ending the process");
        }
    }

    let url = format!("http://127.0.0.1:{port}/");
    if !options.quiet {
        let site = shared.current();
        let n = site.papers.len();
        eprintln!(
            "serving {n} paper{} at {url}{} (Ctrl-C stops)",
            if n == 1 { "" } else { "s" },
            crate::cli::elapsed(started)
        );
    }
    if options.open {
        open_browser(&url);
    }
    for request in server.incoming_requests() {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || answer(request, &shared));
    }
    // Dropping the watcher closes the channel, which ends the rebuilder.
    drop(debouncer);
    let _ = rebuilder.join();
    if !options.quiet {
        eprintln!("stopped");
    }
    Exit::Clean
}

/// One line naming the port, for a bind that failed.
fn bind_message(port: u16, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "port {port} on 127.0.0.1 is already in use: stop what is using it, or choose another with --port N"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "not allowed to listen on port {port} of 127.0.0.1: choose a port above 1023 with --port N"
        ),
        _ => format!("cannot listen on 127.0.0.1:{port}: {e}"),
    }
}

fn report(error: &Error) -> Exit {
    eprint!("{}", error.render());
    error.exit()
}

/// Folders to watch: each input folder, the folder of each single paper (editors save by
/// writing a new file and renaming it over the old, which a watch on the file itself misses),
/// and the rules and templates folders in use.
fn watched(options: &ServeOptions) -> Vec<(PathBuf, RecursiveMode)> {
    let mut out: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for path in &options.paths {
        if path.is_dir() {
            out.push((path.clone(), RecursiveMode::Recursive));
        } else {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            out.push((parent, RecursiveMode::NonRecursive));
        }
    }
    for (given, default) in [(&options.rules, "rules"), (&options.templates, "templates")] {
        let folder = given
            .clone()
            .or_else(|| Some(PathBuf::from(default)).filter(|d| d.is_dir()));
        if let Some(folder) = folder {
            out.push((folder, RecursiveMode::Recursive));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Rebuilds after each burst of changes until the watcher is dropped.
fn rebuild_on_change(
    changes: &mpsc::Receiver<DebounceEventResult>,
    shared: &Shared,
    options: &ServeOptions,
) {
    while let Ok(first) = changes.recv() {
        // Changes that came in while the last build ran are one more build, not several.
        let mut batch = vec![first];
        batch.extend(changes.try_iter());
        for result in &batch {
            if let Err(e) = result {
                eprintln!("warning: watching for changes: {e}");
            }
        }
        if !batch
            .iter()
            .any(|r| r.as_ref().is_ok_and(|e| !e.is_empty()))
        {
            continue;
        }
        let started = Instant::now();
        let previous = shared.current();
        let (mut site, log) = build_site(options, &previous);
        eprint!("{log}");
        if site.same_as(&previous) {
            continue;
        }
        site.generation = previous.generation + 1;
        let changed = site
            .papers
            .iter()
            .filter(|p| previous.paper(&p.name) != Some(p))
            .count()
            + previous
                .papers
                .iter()
                .filter(|p| site.paper(&p.name).is_none())
                .count();
        *shared.lock() = Arc::new(site);
        shared.changed.notify_all();
        if !options.quiet {
            eprintln!(
                "updated {changed} paper{}{}",
                if changed == 1 { "" } else { "s" },
                crate::cli::elapsed(started)
            );
        }
    }
}

/// Builds every paper found, reusing `previous`'s build of any whose key is unchanged. Also
/// returns what `build` would print on stderr for the papers built afresh.
fn build_site(options: &ServeOptions, previous: &Site) -> (Site, String) {
    let mut site = Site::default();
    let setup = load_rules(options.rules.as_deref()).and_then(|rules| {
        let templates = load_templates(options.templates.as_deref())?;
        let found = walk(&options.paths, None)?;
        Ok((rules, templates, found))
    });
    let (rules, templates, found) = match setup {
        Ok(setup) => setup,
        Err(e) => {
            let message = e.render();
            // Printed once, not again on every save while it stays broken.
            let log = if previous.fatal.as_ref() == Some(&message) {
                String::new()
            } else {
                message.clone()
            };
            site.fatal = Some(message);
            return (site, log);
        }
    };
    let mut log = String::new();
    for e in &found.errors {
        let message = e.render();
        if !previous.skipped.contains(&message) {
            log.push_str(&message);
        }
        site.skipped.push(message);
    }
    site.audiences = rules
        .audiences
        .iter()
        .map(|a| (a.name.clone(), a.marking.clone()))
        .collect();
    let release = Release::default();
    let inputs = Inputs {
        rules_hash: &rules.hash,
        templates_hash: &templates.hash,
        release: &release,
        pdf: false,
    };
    let built: Vec<(Served, String)> = found
        .papers
        .par_iter()
        .map(|paper| {
            let text = match read_paper(&paper.path) {
                Ok(text) => text,
                Err(e) => return failed(paper, None, e.render(), &rules, options),
            };
            let key = manifest::key(&text, &inputs);
            if let Some(before) = previous.paper(&paper.name)
                && before.key.as_deref() == Some(key.as_str())
            {
                return (before.clone(), String::new());
            }
            let built = match build_paper(
                &paper.path,
                &paper.name,
                &text,
                &rules,
                &templates,
                &release,
            ) {
                Ok(built) => built,
                Err(e) => return failed(paper, Some(key), e.render(), &rules, options),
            };
            let mut warnings = String::new();
            for line in &built.warnings {
                warnings.push_str(line);
                warnings.push('\n');
            }
            if !built.findings.is_empty() {
                let mut message = warnings;
                for line in &built.findings {
                    message.push_str(line);
                    message.push('\n');
                }
                return failed(paper, Some(key), message, &rules, options);
            }
            let files = built
                .outputs
                .into_iter()
                .filter(|o| options.audit || !is_audit(&o.relative))
                .map(|o| (url_path(&o.relative), Arc::new(o.bytes)))
                .collect();
            let served = Served {
                name: paper.name.clone(),
                key: Some(key),
                state: PaperState::Built {
                    files,
                    classification: built.paper.front_matter.classification.clone(),
                    warnings: warnings.clone(),
                },
            };
            (served, warnings)
        })
        .collect();
    for (served, messages) in built {
        log.push_str(&messages);
        site.papers.push(served);
    }
    (site, log)
}

/// A paper that failed, with the message `build` prints for it.
fn failed(
    paper: &PaperPath,
    key: Option<String>,
    message: String,
    rules: &crate::rules::Rules,
    options: &ServeOptions,
) -> (Served, String) {
    let paths = output_paths(&paper.name, rules)
        .iter()
        .filter(|p| options.audit || !is_audit(p))
        .map(|p| url_path(p))
        .collect();
    let served = Served {
        name: paper.name.clone(),
        key,
        state: PaperState::Failed {
            message: message.clone(),
            paths,
        },
    };
    (served, message)
}

fn is_audit(relative: &Path) -> bool {
    relative.components().next() == Some(Component::Normal(AUDIT_FOLDER.as_ref()))
}

/// `/public/sub/x.html` for `public/sub/x.html`.
fn url_path(relative: &Path) -> String {
    let mut out = String::new();
    for part in relative.components() {
        out.push('/');
        out.push_str(&part.as_os_str().to_string_lossy());
    }
    out
}

/// A reply before it becomes a tiny_http response.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    /// One of serve's own pages or files: it gets a policy that runs only serve's script.
    own: bool,
}

impl Reply {
    fn page(status: u16, html: String) -> Reply {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: html.into_bytes(),
            own: true,
        }
    }

    fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec(),
            own: true,
        }
    }
}

fn answer(request: Request, shared: &Shared) {
    let host = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_string());
    let reply = reply(request.method(), request.url(), host.as_deref(), shared);
    let mut response = Response::from_data(reply.body).with_status_code(reply.status);
    let mut headers = vec![
        ("Content-Type", reply.content_type),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ];
    headers.push(if reply.own {
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        )
    } else {
        // A copy's own policy is its template's; this only keeps other sites from framing it.
        ("Content-Security-Policy", "frame-ancestors 'self'")
    });
    for (name, value) in headers {
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    let _ = request.respond(response);
}

/// Whether `host` (the Host header) names this server: a DNS-rebound name does not.
fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    ["127.0.0.1", "localhost"]
        .iter()
        .any(|name| host == format!("{name}:{port}") || (port == 80 && host == *name))
}

fn reply(method: &Method, url: &str, host: Option<&str>, shared: &Shared) -> Reply {
    if !matches!(method, Method::Get | Method::Head) {
        return Reply::text(405, "only GET and HEAD are answered\n");
    }
    if !host_allowed(host, shared.port) {
        return Reply::text(
            403,
            &format!(
                "refused: this preview answers only to http://127.0.0.1:{}/\n",
                shared.port
            ),
        );
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    match path {
        "/_redact/reload.js" => {
            return Reply {
                status: 200,
                content_type: "text/javascript; charset=utf-8",
                body: RELOAD_JS.as_bytes().to_vec(),
                own: true,
            };
        }
        "/_redact/serve.css" => {
            return Reply {
                status: 200,
                content_type: "text/css; charset=utf-8",
                body: SERVE_CSS.as_bytes().to_vec(),
                own: true,
            };
        }
        "/_redact/wait" => {
            let since = query_value(query, "since")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Reply::text(200, &wait_for_change(shared, since).to_string());
        }
        _ => {}
    }
    let site = shared.current();
    let Some(path) = decoded(path) else {
        return Reply::page(404, not_found(&site));
    };
    if path == "/" {
        return Reply::page(200, index_page(&site));
    }
    // Rules or templates that do not load: every copy and paper page shows why.
    if let Some(message) = &site.fatal {
        return Reply::page(500, error_page(&site, None, message));
    }
    if let Some(name) = path.strip_prefix("/_redact/paper/") {
        let view = query_value(query, "view");
        return match site.paper(name) {
            Some(paper) => Reply::page(200, paper_page(&site, paper, view.as_deref())),
            None => Reply::page(404, not_found(&site)),
        };
    }
    for paper in &site.papers {
        match &paper.state {
            PaperState::Built { files, .. } => {
                if let Some(bytes) = files.get(&path) {
                    return Reply {
                        status: 200,
                        content_type: content_type(&path),
                        body: bytes.as_ref().clone(),
                        own: false,
                    };
                }
            }
            PaperState::Failed { message, paths } => {
                if paths.contains(&path) {
                    return Reply::page(500, error_page(&site, Some(&paper.name), message));
                }
            }
        }
    }
    Reply::page(404, not_found(&site))
}

/// The path percent-decoded; `None` for one that is not UTF-8 or holds an empty, `.` or `..`
/// segment (nothing is served under such a name anyway: files are looked up by exact path).
fn decoded(path: &str) -> Option<String> {
    let path = percent_decode_str(path).decode_utf8().ok()?.into_owned();
    let rest = path.strip_prefix('/')?;
    if !rest.is_empty()
        && rest
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\\'))
    {
        return None;
    }
    Some(path)
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

/// Blocks until the site's generation differs from `since`, for at most [`WAIT`].
fn wait_for_change(shared: &Shared, since: u64) -> u64 {
    let deadline = Instant::now() + WAIT;
    let mut site = shared.lock();
    while site.generation == since && !shared.stopping.load(Ordering::SeqCst) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        site = shared
            .changed
            .wait_timeout(site, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    site.generation
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        // Markdown as text, so a browser shows it rather than saving it.
        "md" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn href(path: &str) -> String {
    utf8_percent_encode(path, PATH_SET).to_string()
}

/// The top and tail of serve's own pages; the script reloads the page on a rebuild.
fn page(site: &Site, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{} – redact serve</title>\n\
         <link rel=\"stylesheet\" href=\"/_redact/serve.css\">\n</head>\n<body>\n{body}\n\
         <script src=\"/_redact/reload.js\" data-generation=\"{}\"></script>\n</body>\n</html>\n",
        escape_html(title),
        site.generation
    )
}

fn marking_text(marking: &Marking, classification: &str) -> String {
    match marking {
        Marking::Source => classification.to_string(),
        Marking::Fixed(m) => m.clone(),
    }
}

fn index_page(site: &Site) -> String {
    let mut body = String::from("<header class=\"bar\"><h1>Papers</h1></header>\n<main>\n");
    if let Some(message) = &site.fatal {
        error_block(&mut body, "Nothing can be built", message);
    }
    for message in &site.skipped {
        error_block(&mut body, "Not served", message);
    }
    if site.fatal.is_none() && site.papers.is_empty() {
        body.push_str("<p>No paper (<code>*.md</code>) found.</p>\n");
    }
    body.push_str("<ul class=\"papers\">\n");
    for paper in &site.papers {
        let link = href(&format!("/_redact/paper/{}", paper.name));
        let _ = write!(
            body,
            "<li><a href=\"{}\">{}</a>",
            escape_html(&link),
            escape_html(&paper.name)
        );
        match &paper.state {
            PaperState::Failed { .. } => body.push_str(" <strong class=\"failed\">error</strong>"),
            PaperState::Built { files, .. } => {
                for (audience, _) in &site.audiences {
                    let path = format!("/{audience}/{}.html", paper.name);
                    if files.contains_key(&path) {
                        let _ = write!(
                            body,
                            " · <a href=\"{}\">{}</a>",
                            escape_html(&href(&path)),
                            escape_html(audience)
                        );
                    }
                }
            }
        }
        body.push_str("</li>\n");
    }
    body.push_str("</ul>\n</main>");
    page(site, "Papers", &body)
}

fn error_block(body: &mut String, heading: &str, message: &str) {
    let _ = write!(
        body,
        "<section class=\"error\" role=\"alert\"><h2>{}</h2>\n<pre>{}</pre></section>\n",
        escape_html(heading),
        escape_html(message)
    );
}

/// The page around one paper: every audience's copy side by side, or one of them.
fn paper_page(site: &Site, paper: &Served, view: Option<&str>) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<header class=\"bar\"><a href=\"/\">Papers</a> / <h1>{}</h1>\n<nav>",
        escape_html(&paper.name)
    );
    let own = href(&format!("/_redact/paper/{}", paper.name));
    let mut views: Vec<String> = site.audiences.iter().map(|(a, _)| a.clone()).collect();
    let shows_audit = matches!(&paper.state, PaperState::Built { files, .. }
        if files.contains_key(&format!("/{AUDIT_FOLDER}/{}.html", paper.name)));
    if shows_audit {
        views.push(AUDIT_FOLDER.to_string());
    }
    let current = view.filter(|v| views.iter().any(|a| a == v));
    let _ = write!(
        body,
        "<a href=\"{}\"{}>side by side</a>",
        escape_html(&own),
        if current.is_none() {
            " aria-current=\"page\""
        } else {
            ""
        }
    );
    for name in &views {
        let _ = write!(
            body,
            " <a href=\"{}?view={}\"{}>{}</a>",
            escape_html(&own),
            escape_html(&href(name)),
            if current == Some(name.as_str()) {
                " aria-current=\"page\""
            } else {
                ""
            },
            escape_html(name)
        );
    }
    body.push_str("</nav></header>\n");
    match &paper.state {
        PaperState::Failed { message, .. } => {
            error_block(
                &mut body,
                "This paper has an error: no copy is shown until it is fixed",
                message,
            );
        }
        PaperState::Built {
            files,
            classification,
            warnings,
        } => {
            if !warnings.is_empty() {
                let _ = writeln!(
                    body,
                    "<pre class=\"warnings\">{}</pre>",
                    escape_html(warnings)
                );
            }
            body.push_str("<div class=\"copies\">\n");
            let mut panes: Vec<(String, String)> = site
                .audiences
                .iter()
                .map(|(a, m)| (a.clone(), marking_text(m, classification)))
                .collect();
            if shows_audit {
                panes.push((AUDIT_FOLDER.to_string(), "audit".to_string()));
            }
            for (name, marking) in panes {
                if current.is_some_and(|v| v != name) {
                    continue;
                }
                let path = format!("/{name}/{}.html", paper.name);
                if !files.contains_key(&path) {
                    continue;
                }
                let markdown = format!("/{name}/{}.md", paper.name);
                let source = if files.contains_key(&markdown) {
                    format!(
                        " · <a href=\"{}\">Markdown</a>",
                        escape_html(&href(&markdown))
                    )
                } else {
                    String::new()
                };
                let label = if name == AUDIT_FOLDER {
                    "audit".to_string()
                } else {
                    format!("{name} copy · {marking}")
                };
                let _ = write!(
                    body,
                    "<section class=\"copy\"><h2>{} <small><a href=\"{}\">alone</a>{source}</small></h2>\n\
                     <iframe data-audience=\"{}\" src=\"{}\" title=\"{}\"></iframe></section>\n",
                    escape_html(&label),
                    escape_html(&href(&path)),
                    escape_html(&name),
                    escape_html(&href(&path)),
                    escape_html(&label)
                );
            }
            body.push_str("</div>");
        }
    }
    page(site, &paper.name, &body)
}

fn error_page(site: &Site, name: Option<&str>, message: &str) -> String {
    let mut body = String::from("<header class=\"bar\"><a href=\"/\">Papers</a></header>\n");
    let heading = match name {
        Some(name) => format!("{name} has an error: no copy is shown until it is fixed"),
        None => "Nothing can be built".to_string(),
    };
    error_block(&mut body, &heading, message);
    page(site, name.unwrap_or("error"), &body)
}

fn not_found(site: &Site) -> String {
    page(
        site,
        "Not found",
        "<header class=\"bar\"><a href=\"/\">Papers</a></header>\n<p>Nothing is served at this address.</p>",
    )
}

/// Opens `url` in the desktop's browser; a failure is a warning, the preview runs on.
fn open_browser(url: &str) {
    let command = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(command)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("warning: cannot open a browser with `{command}` ({e}); open {url} yourself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_servers_own_names_are_answered() {
        assert!(host_allowed(Some("127.0.0.1:4117"), 4117));
        assert!(host_allowed(Some("LOCALHOST:4117"), 4117));
        assert!(!host_allowed(Some("127.0.0.1:4118"), 4117));
        assert!(!host_allowed(Some("attacker.example:4117"), 4117));
        assert!(!host_allowed(Some("127.0.0.1.attacker.example:4117"), 4117));
        assert!(!host_allowed(None, 4117));
    }

    #[test]
    fn dot_segments_and_bad_encoding_name_nothing() {
        assert_eq!(decoded("/public/x.html").as_deref(), Some("/public/x.html"));
        assert_eq!(
            decoded("/public/a%20b.html").as_deref(),
            Some("/public/a b.html")
        );
        for bad in [
            "/public/../audit/x.json",
            "/public/%2e%2e/audit/x.json",
            "//etc/passwd",
            "/public/./x.html",
            "/public/%ff.html",
            "relative",
        ] {
            assert_eq!(decoded(bad), None, "{bad}");
        }
    }
}
