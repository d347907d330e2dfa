//! `redact serve` as an author uses it: started on a free port, asked over HTTP as a browser
//! asks, and in a real browser (headless Chromium over the DevTools protocol) while the paper
//! is edited on disk. Browser tests print "skipped: chromium not installed" and pass where
//! Chromium is absent.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{fixtures, redact_in, tree};

/// A word that appears nowhere but in the passage a test withholds.
const CANARY: &str = "quokkamere";

fn paper(body: &str) -> String {
    format!(
        "---\ntitle: Serve test paper\nclassification: OFFICIAL-SENSITIVE\n---\n\n## Plan\n\n{body}\n"
    )
}

/// `redact serve` running in `dir`; stopped with Ctrl-C (SIGINT) when dropped.
struct Serving {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Serving {
    fn start(dir: &Path, args: &[&str]) -> Serving {
        Serving::start_with(dir, args, None)
    }

    /// As [`Serving::start`], with `path` as the `PATH` when given.
    fn start_with(dir: &Path, args: &[&str], path: Option<&std::ffi::OsStr>) -> Serving {
        let mut command = Command::new(env!("CARGO_BIN_EXE_redact"));
        if let Some(path) = path {
            command.env("PATH", path);
        }
        let mut child = command
            .current_dir(dir)
            .arg("serve")
            .args(args)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("at http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port.parse::<u16>().unwrap());
                }
                let mut all = collected.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let Ok(port) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not start: {}", stderr.lock().unwrap());
        };
        Serving {
            child,
            port,
            stderr,
        }
    }

    fn get(&self, path: &str) -> Reply {
        get(self.port, path, &format!("127.0.0.1:{}", self.port))
    }

    /// Asks for `path` until `done` holds, for at most `limit`.
    fn get_until(&self, path: &str, limit: Duration, done: impl Fn(&Reply) -> bool) -> Reply {
        let start = Instant::now();
        loop {
            let reply = self.get(path);
            if done(&reply) || start.elapsed() > limit {
                return reply;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ctrl-C, then the exit status and everything printed on stderr.
    fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let status = interrupt(&mut self.child);
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        (status, stderr)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "serve did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 GET with the given Host header, as a browser sends it.
fn get(port: u16, path: &str, host: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // Read the headers, then the body by its length: not every server closes the connection.
    let mut reader = BufReader::new(stream);
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        headers.push_str(&line);
    }
    let status = headers
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let length = headers.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).unwrap();
        }
        None => {
            reader.read_to_end(&mut body).unwrap();
        }
    }
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}

/// What `redact build` writes and prints for the papers in `dir`, built as serve builds them.
fn built(dir: &Path, paper: &str) -> (Vec<(String, Vec<u8>)>, String) {
    let out = tempfile::tempdir().unwrap();
    let assert = redact_in(dir)
        .args(["build", "--quiet", paper, "--out"])
        .arg(out.path())
        .assert();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    (tree(out.path()), stderr)
}

fn with_paper(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("p.md"), paper(body)).unwrap();
    dir
}

#[test]
fn serve_answers_only_to_its_own_name_against_dns_rebinding() {
    let dir = with_paper(&format!(
        "Work led by [{CANARY} the lead]{{.S31}} continues."
    ));
    let serving = Serving::start(dir.path(), &["p.md"]);
    let port = serving.port;
    let ok = get(port, "/council/p.html", &format!("127.0.0.1:{port}"));
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains(CANARY));
    assert_eq!(
        get(port, "/council/p.html", &format!("localhost:{port}")).status,
        200
    );
    // A page on another site whose name now resolves to 127.0.0.1 sends its own name.
    for host in [
        format!("attacker.example:{port}"),
        format!("127.0.0.1.attacker.example:{port}"),
        "attacker.example".to_string(),
    ] {
        let refused = get(port, "/council/p.html", &host);
        assert_eq!(refused.status, 403, "{host}");
        assert!(!refused.text().contains(CANARY), "{host}");
    }
}

/// The copies are served byte for byte as `build` writes them, and nothing else: no audit
/// without `--audit`, no source, nothing reached by `..` or an absolute path.
#[test]
fn serve_serves_what_build_writes_and_nothing_else() {
    let dir = with_paper(&format!(
        "Work led by [{CANARY} the lead]{{.S31}} continues."
    ));
    let (files, _) = built(dir.path(), "p.md");
    let serving = Serving::start(dir.path(), &["p.md"]);
    let mut audits = 0;
    // The manifest is build's own record of what it wrote, not a copy.
    // Each audience's index is build's listing of a folder; serve has its own index page.
    let copies = files
        .iter()
        .filter(|(r, _)| r != ".redact-manifest.json" && !r.ends_with("/index.md"))
        .filter(|(r, _)| !r.ends_with("/index.html"));
    for (relative, bytes) in copies {
        let reply = serving.get(&format!("/{relative}"));
        if relative.starts_with("audit/") {
            audits += 1;
            assert_eq!(reply.status, 404, "{relative} is served without --audit");
            assert!(!reply.text().contains(CANARY));
        } else {
            assert_eq!(reply.status, 200, "{relative}");
            assert_eq!(&reply.body, bytes, "{relative} differs from build's");
        }
    }
    assert_eq!(audits, 2);
    for path in [
        "/p.md",
        "/public/../p.md",
        "/public/%2e%2e/p.md",
        "/public/..%2fp.md",
        "/public/../audit/p.json",
        "/../../../../etc/passwd",
        "//etc/passwd",
        "/etc/passwd",
        "/public/p.html/../../council/p.html",
        &format!("/{}", dir.path().join("p.md").display()),
    ] {
        let reply = serving.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.text().contains(CANARY), "{path}");
    }
    // The preview writes nothing.
    let names: Vec<String> = tree(dir.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, vec!["p.md".to_string()]);
}

#[test]
fn serve_with_audit_serves_the_audit_too() {
    let dir = with_paper(&format!(
        "Work led by [{CANARY} the lead]{{.S31}} continues."
    ));
    let (files, _) = built(dir.path(), "p.md");
    let serving = Serving::start(dir.path(), &["p.md", "--audit"]);
    for (relative, bytes) in files.iter().filter(|(r, _)| r.starts_with("audit/")) {
        let reply = serving.get(&format!("/{relative}"));
        assert_eq!(reply.status, 200, "{relative}");
        assert_eq!(&reply.body, bytes, "{relative}");
    }
    let page = serving.get("/_redact/paper/p").text();
    assert!(page.contains("src=\"/audit/p.html\""), "{page}");
}

/// The index and the page around a paper are serve's own: no withheld word in them, every
/// audience's copy framed with its marking, and the reload script loaded from a file.
#[test]
fn serve_index_and_paper_page_frame_every_audience() {
    let dir = with_paper(&format!(
        "Work led by [{CANARY} the lead]{{.S31}} continues."
    ));
    let serving = Serving::start(dir.path(), &["p.md"]);
    let index = serving.get("/");
    assert_eq!(index.status, 200);
    assert!(index.text().contains("href=\"/_redact/paper/p\""));
    let page = serving.get("/_redact/paper/p");
    assert_eq!(page.status, 200);
    let text = page.text();
    for needle in [
        "<iframe data-audience=\"council\" src=\"/council/p.html\"",
        "<iframe data-audience=\"public\" src=\"/public/p.html\"",
        "council copy · OFFICIAL-SENSITIVE",
        "public copy · OFFICIAL",
        "<script src=\"/_redact/reload.js\"",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let one = serving.get("/_redact/paper/p?view=public").text();
    assert!(one.contains("src=\"/public/p.html\""));
    assert!(!one.contains("src=\"/council/p.html\""));
    for reply in [&index, &page] {
        assert!(!reply.text().contains(CANARY));
        assert!(
            reply
                .headers
                .contains("Content-Security-Policy: default-src 'none'; script-src 'self'"),
            "{}",
            reply.headers
        );
        // No inline script: a copy's policy may allow only its own origin's files.
        assert!(!reply.text().contains("<script>"));
    }
    let script = serving.get("/_redact/reload.js");
    assert_eq!(script.status, 200);
    assert!(script.headers.contains("text/javascript"));
    // The copy itself is served as build wrote it: no reload script in it.
    assert!(!serving.get("/public/p.html").text().contains("reload.js"));
}

#[test]
fn serve_on_a_busy_port_is_one_line_naming_it() {
    let dir = with_paper("Nothing withheld.");
    let holder = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    let assert = redact_in(dir.path())
        .args(["serve", "p.md", "--port", &port])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("port {port}")), "{stderr}");
    assert!(stderr.contains("--port"), "{stderr}");
}

#[test]
fn serve_default_port_is_documented() {
    let assert = super::redact().args(["serve", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let port = redact::serve::DEFAULT_PORT.to_string();
    assert!(help.contains(&format!("[default: {port}]")), "{help}");
    let readme = fs::read_to_string(super::project_root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("127.0.0.1:{port}")), "README");
}

/// A paper with an error answers every request for its copies with the error, located, as
/// stderr shows it: never its last good copies. Fixed, its copies come back.
#[test]
fn serve_shows_a_papers_error_in_place_of_its_last_good_copies() {
    let good = format!("Work led by [{CANARY} the lead]{{.S31}} continues.");
    let dir = with_paper(&good);
    let serving = Serving::start(dir.path(), &["p.md"]);
    assert_eq!(serving.get("/public/p.html").status, 200);
    let bad = "Work led by [the lead]{.S99} continues.";
    fs::write(dir.path().join("p.md"), paper(bad)).unwrap();
    let reply = serving.get_until("/public/p.html", Duration::from_secs(20), |r| {
        r.status != 200
    });
    assert_eq!(reply.status, 500, "{}", reply.text());
    let (_, stderr) = built(dir.path(), "p.md");
    let header = stderr.lines().next().unwrap();
    assert!(
        header.starts_with("p.md:8:25: error: unknown exemption code"),
        "{stderr}"
    );
    let text = reply.text();
    assert!(text.contains(header), "{text}");
    assert!(!text.contains(CANARY));
    let page = serving.get("/_redact/paper/p").text();
    assert!(page.contains(header), "{page}");
    assert!(!page.contains("<iframe"), "{page}");
    assert!(serving.stderr.lock().unwrap().contains(header));

    fs::write(dir.path().join("p.md"), paper(&good)).unwrap();
    let reply = serving.get_until("/public/p.html", Duration::from_secs(20), |r| {
        r.status == 200
    });
    assert_eq!(reply.status, 200);
}

/// A rule or a template changed on disk is a rebuild like a paper changed; a rules file that
/// no longer loads shows its error on every page until it is fixed. A paper added to a folder
/// appears, and one removed goes.
#[test]
fn serve_rebuilds_on_rules_templates_and_papers_added_or_removed() {
    let dir = tempfile::tempdir().unwrap();
    for folder in ["rules", "templates", "papers"] {
        fs::create_dir(dir.path().join(folder)).unwrap();
    }
    for folder in ["rules", "templates"] {
        for entry in fs::read_dir(super::project_root().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(
                &path,
                dir.path().join(folder).join(path.file_name().unwrap()),
            )
            .unwrap();
        }
    }
    fs::write(
        dir.path().join("papers/p.md"),
        paper("Work led by [the lead]{.S31} continues."),
    )
    .unwrap();
    let serving = Serving::start(dir.path(), &["papers"]);
    let limit = Duration::from_secs(20);
    assert!(
        serving
            .get("/public/p.md")
            .text()
            .contains("| 31 | Law enforcement | 1 |")
    );

    let exemptions = dir.path().join("rules/exemptions.yaml");
    let rules = fs::read_to_string(&exemptions).unwrap();
    fs::write(
        &exemptions,
        rules.replace("title: \"Law enforcement\"", "title: \"Policing\""),
    )
    .unwrap();
    let reply = serving.get_until("/public/p.md", limit, |r| r.text().contains("Policing"));
    assert!(
        reply.text().contains("| 31 | Policing | 1 |"),
        "{}",
        reply.text()
    );

    let template = dir.path().join("templates/paper.html");
    let page = fs::read_to_string(&template).unwrap();
    fs::write(
        &template,
        page.replace("<main>", "<main class=\"restyled\">"),
    )
    .unwrap();
    let reply = serving.get_until("/public/p.html", limit, |r| r.text().contains("restyled"));
    assert!(reply.text().contains("<main class=\"restyled\">"));

    fs::write(&exemptions, "exemptions: [").unwrap();
    let reply = serving.get_until("/public/p.html", limit, |r| r.status == 500);
    assert_eq!(reply.status, 500);
    assert!(
        reply.text().contains("rules/exemptions.yaml:1:"),
        "{}",
        reply.text()
    );
    assert_eq!(serving.get("/_redact/paper/p").status, 500);
    fs::write(&exemptions, &rules).unwrap();
    let reply = serving.get_until("/public/p.html", limit, |r| r.status == 200);
    assert_eq!(reply.status, 200);

    fs::write(dir.path().join("papers/q.md"), paper("Second paper.")).unwrap();
    let reply = serving.get_until("/public/q.html", limit, |r| r.status == 200);
    assert_eq!(reply.status, 200);
    assert!(serving.get("/").text().contains("/_redact/paper/q"));
    fs::remove_file(dir.path().join("papers/p.md")).unwrap();
    let reply = serving.get_until("/public/p.html", limit, |r| r.status == 404);
    assert_eq!(reply.status, 404);
    assert!(!serving.get("/").text().contains("/_redact/paper/p\""));
}

/// `--open` hands the index's address to the desktop's opener (here a stand-in that notes it).
#[test]
fn serve_open_hands_the_address_to_the_desktop() {
    use std::os::unix::fs::PermissionsExt;
    let dir = with_paper("Nothing withheld.");
    let bin = tempfile::tempdir().unwrap();
    let noted = bin.path().join("opened");
    let opener = bin.path().join("xdg-open");
    fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", noted.display()),
    )
    .unwrap();
    fs::set_permissions(&opener, fs::Permissions::from_mode(0o755)).unwrap();
    let mut path = std::ffi::OsString::from(bin.path());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let serving = Serving::start_with(dir.path(), &["p.md", "--open"], Some(&path));
    let start = Instant::now();
    while !noted.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        fs::read_to_string(&noted).unwrap(),
        format!("http://127.0.0.1:{}/", serving.port)
    );
}

#[test]
fn serve_stops_cleanly_on_ctrl_c() {
    let dir = with_paper("Nothing withheld.");
    let serving = Serving::start(dir.path(), &["p.md"]);
    assert_eq!(serving.get("/").status, 200);
    let (status, stderr) = serving.interrupt();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.ends_with("stopped\n"), "{stderr}");
    let names: Vec<String> = tree(dir.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, vec!["p.md".to_string()]);
}

/// A child process stopped when dropped, so a failed assertion leaves no browser running.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Headless Chromium driven over the DevTools protocol (a WebSocket), in its own profile.
struct Browser {
    _child: Stopped,
    socket: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `None`, with the reason printed, where Chromium is not installed.
    fn start() -> Option<Browser> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let Ok(chromium) = redact::pdf::find_chromium_in(None, &path) else {
            eprintln!("skipped: chromium not installed");
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = Stopped(child);
        // Chromium writes the port it chose, then the browser's path, to this file.
        let active = profile.path().join("DevToolsActivePort");
        let start = Instant::now();
        let port: u16 = loop {
            if let Some(port) = fs::read_to_string(&active)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.parse().ok()))
            {
                break port;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no DevTools port"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let targets = get(port, "/json/list", &format!("127.0.0.1:{port}"));
        let targets: serde_json::Value = serde_json::from_slice(&targets.body).unwrap();
        let url = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (socket, _) = tungstenite::client(url.as_str(), stream).unwrap();
        Some(Browser {
            _child: child,
            socket,
            next_id: 1,
            _profile: profile,
        })
    }

    /// Sends one DevTools command and returns its result, skipping events.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = serde_json::json!({ "id": id, "method": method, "params": params });
        self.socket
            .send(tungstenite::Message::text(message.to_string()))
            .unwrap();
        loop {
            let reply = self.socket.read().unwrap();
            let Ok(text) = reply.to_text() else { continue };
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            if value["id"] == id {
                return value["result"].clone();
            }
        }
    }

    fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", serde_json::json!({ "url": url }));
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> serde_json::Value {
        let result = self.call(
            "Runtime.evaluate",
            serde_json::json!({ "expression": expression, "returnByValue": true }),
        );
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it gives a string for which `done` holds.
    fn wait_for(
        &mut self,
        expression: &str,
        limit: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Option<(String, Duration)> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(text) = self.eval(expression).as_str()
                && done(text)
            {
                return Some((text.to_string(), start.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// The text of one audience's framed copy, once it has loaded; null before.
fn framed_text(audience: &str) -> String {
    format!(
        "(() => {{ const f = document.querySelector('iframe[data-audience=\"{audience}\"]'); \
         const d = f && f.contentDocument; \
         return d && d.readyState === 'complete' && d.body ? d.body.innerText : null; }})()"
    )
}

/// The error shown in place of the copies; null while there is none.
const SHOWN_ERROR: &str = "(() => { const e = document.querySelector('.error pre'); \
     return e && document.querySelectorAll('iframe').length === 0 ? e.innerText : null; })()";

/// In a real browser, the open page follows the paper on disk by itself: a passage newly
/// withheld leaves the public view within seconds, and an error replaces the copies.
#[test]
fn serve_public_view_follows_edits_in_a_real_browser() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let sentence = format!("The {CANARY} site leads the regional work.");
    let dir = with_paper(&sentence);
    let serving = Serving::start(dir.path(), &["p.md"]);
    browser.navigate(&format!(
        "http://127.0.0.1:{}/_redact/paper/p",
        serving.port
    ));
    let public = framed_text("public");
    let (before, _) = browser
        .wait_for(&public, Duration::from_secs(30), |t| t.contains(CANARY))
        .expect("the public copy shows the passage before it is withheld");
    assert!(before.contains("OFFICIAL"));

    // Withhold the passage; the test never reloads the page itself.
    fs::write(
        dir.path().join("p.md"),
        paper(&format!("[{sentence}]{{.S31}} Work continues.")),
    )
    .unwrap();
    let (after, took) = browser
        .wait_for(&public, Duration::from_secs(10), |t| {
            !t.contains(CANARY) && t.contains("Work continues")
        })
        .expect("the public view did not change within 10 seconds");
    assert!(after.contains("S31"), "{after}");
    eprintln!("public view changed {} ms after the save", took.as_millis());
    // Both frames reload after a save; the council one may still be loading when the public
    // one has changed, so wait for it too.
    browser
        .wait_for(&framed_text("council"), Duration::from_secs(10), |t| {
            t.contains(CANARY)
        })
        .expect("the council view still shows the passage after the save");

    // An error: shown in place of the copies, exactly as stderr shows it.
    let broken = "[the lead]{.S99} continues.";
    fs::write(dir.path().join("p.md"), paper(broken)).unwrap();
    let (shown, _) = browser
        .wait_for(SHOWN_ERROR, Duration::from_secs(10), |t| !t.is_empty())
        .expect("the error was not shown within 10 seconds");
    let (_, stderr) = built(dir.path(), "p.md");
    assert_eq!(shown.trim_end(), stderr.trim_end());
    assert!(!shown.contains(CANARY));

    let (status, log) = serving.interrupt();
    assert!(status.success(), "{log}");
}

/// Figures for the README: the time from saving the largest fixture to the reloaded page
/// (median of 10 edits) and the serve process's memory on the fixtures. Off by default:
/// `REDACT_SERVE_MEASURE=1 cargo test --release --test cli serve_measure -- --nocapture`.
#[test]
fn serve_measure_reload_time_and_memory() {
    if std::env::var_os("REDACT_SERVE_MEASURE").is_none() {
        return;
    }
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut largest: (u64, PathBuf) = (0, PathBuf::new());
    for entry in fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        let size = fs::metadata(&path).unwrap().len();
        if size > largest.0 {
            largest = (size, path);
        }
    }
    let name = largest
        .1
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let file = dir.path().join(largest.1.file_name().unwrap());
    let source = fs::read_to_string(&file).unwrap();
    let serving = Serving::start(dir.path(), &["."]);
    browser.navigate(&format!(
        "http://127.0.0.1:{}/_redact/paper/{name}",
        serving.port
    ));
    let public = framed_text("public");
    browser
        .wait_for(&public, Duration::from_secs(30), |t| t.contains("OFFICIAL"))
        .unwrap();
    let mut times = Vec::new();
    for n in 0..10 {
        let word = format!("editmark{n}");
        fs::write(&file, format!("{source}\n{word}\n")).unwrap();
        let (_, took) = browser
            .wait_for(&public, Duration::from_secs(20), |t| t.contains(&word))
            .unwrap();
        times.push(took);
    }
    times.sort();
    let status =
        fs::read_to_string(format!("/proc/{}/status", serving.child.id())).unwrap_or_default();
    let memory: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        .collect();
    eprintln!(
        "{} ({} bytes): save to reloaded page, median of 10: {} ms (min {} ms, max {} ms); serve on {} fixtures: {}",
        name,
        largest.0,
        ((times[4] + times[5]) / 2).as_millis(),
        times[0].as_millis(),
        times[9].as_millis(),
        fs::read_dir(fixtures()).unwrap().count(),
        memory.join(", ")
    );
}
