//! Raw HTML in a paper, held to an allowlist: takes a parsed paper's raw HTML spans and its
//! text, gives the first element, attribute or URL in them that could load or run something,
//! as a [`Diagnostic`] located in the source. It changes nothing: a paper passes whole or is
//! refused, for every audience, the council's included.
//!
//! What displays text and tables is decided by ammonia's default allowlist, tightened (no image
//! maps), with `class`, `style` and `data-*` attributes added because they only change how
//! text looks (no copy runs scripts, and a `style` may not load anything). Everything else is
//! an error at its position: `<script>`, `<iframe>`, `<object>`, `<embed>`, `<link>`, `<meta>`,
//! `<base>`, `<form>`, `<style>`, SVG and MathML, event attributes, a `style` naming `url(`,
//! any `javascript:`, `file:` or `data:` URL, and an `src` that is not a relative path to a
//! file in the paper's folder (no scheme, no leading `/`, no `..` leaving the folder).
//!
//! Elements are found by lol_html, which reads HTML as a browser's tokenizer does and gives
//! each tag and attribute its byte range; comments are notes and hold no elements. Every raw
//! span must also end outside any tag: one left open would swallow the HTML rendered after it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use lol_html::{RewriteStrSettings, element, rewrite_str};

use crate::error::Diagnostic;
use crate::model::Paper;
use crate::span::Span;

/// The elements and attributes raw HTML may use.
struct Allowlist {
    tags: HashSet<&'static str>,
    tag_attributes: HashMap<&'static str, HashSet<&'static str>>,
    generic_attributes: HashSet<&'static str>,
    generic_prefixes: HashSet<&'static str>,
}

static ALLOWLIST: LazyLock<Allowlist> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    // An image map turns an image into links placed over it: not text or a table.
    builder.rm_tags(["area", "map"]);
    builder.add_generic_attributes(["class", "style"]);
    builder.add_generic_attribute_prefixes(["data-"]);
    Allowlist {
        tags: builder.clone_tags(),
        tag_attributes: builder.clone_tag_attributes(),
        generic_attributes: builder.clone_generic_attributes(),
        generic_prefixes: builder
            .clone_generic_attribute_prefixes()
            .unwrap_or_default(),
    }
});

impl Allowlist {
    fn allows_attribute(&self, tag: &str, attribute: &str) -> bool {
        self.generic_attributes.contains(attribute)
            || self
                .tag_attributes
                .get(tag)
                .is_some_and(|a| a.contains(attribute))
            || self
                .generic_prefixes
                .iter()
                .any(|p| attribute.len() > p.len() && attribute.starts_with(p))
    }
}

/// Attributes holding a URL that a browser fetches to show the page.
const LOAD_ATTRIBUTES: [&str; 1] = ["src"];
/// Attributes holding a URL a reader may follow.
const LINK_ATTRIBUTES: [&str; 2] = ["href", "cite"];
/// URL schemes no copy may hold, whether loaded or linked.
const REFUSED_SCHEMES: [&str; 4] = ["javascript", "vbscript", "file", "data"];

/// Ends every raw span while reading, so a span left inside a tag shows: a browser would read
/// the rest of the page into that tag.
const END: &str = "<redact-end-of-raw-html>";
const END_NAME: &str = "redact-end-of-raw-html";

/// The first piece of raw HTML in `paper` that is not allowed, if any.
pub fn check(paper: &Paper, text: &str) -> Result<(), Diagnostic> {
    // The Markdown parser reads `<b>` inside a tag's attribute block (`reason='<b>'`) as raw
    // HTML, but a tag's attributes never reach a copy as HTML: they are removed or escaped.
    let mut tag_attrs: Vec<Span> = paper
        .redactions
        .iter()
        .map(|r| r.attrs)
        .chain(paper.heading_attrs.iter().map(|h| h.span))
        .filter(|s| !s.is_empty())
        .collect();
    tag_attrs.sort();
    let in_tag_attrs = |span: &Span| {
        let n = tag_attrs.partition_point(|a| a.start <= span.start);
        n > 0 && tag_attrs[n - 1].encloses(*span)
    };
    // Every other span, each followed by the end marker, read in one pass. `pieces` maps each
    // span's place in `joined` back to the source.
    let mut joined = String::new();
    let mut pieces: Vec<(usize, Span)> = Vec::with_capacity(paper.raw_html.len());
    let raw = paper.raw_html.iter().filter(|s| !in_tag_attrs(s));
    for span in raw.filter(|s| !comments_only(paper, text, **s)) {
        pieces.push((joined.len(), *span));
        joined.push_str(&text[span.start..span.end]);
        joined.push_str(END);
    }
    if pieces.is_empty() {
        return Ok(());
    }
    let source = |at: usize| -> usize {
        let n = pieces.partition_point(|(start, _)| *start <= at).max(1) - 1;
        let (start, span) = pieces[n];
        (span.start + (at - start)).min(span.end)
    };
    let ends: HashSet<usize> = pieces
        .iter()
        .map(|(start, span)| start + span.len())
        .collect();
    let problems: RefCell<Vec<(usize, usize, Problem)>> = RefCell::new(Vec::new());
    let ends_seen: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
    let settings = RewriteStrSettings::new().append_element_content_handler(element!("*", |el| {
        let tag = el.tag_name();
        let at = el.source_location().bytes();
        if tag == END_NAME && ends.contains(&at.start) {
            ends_seen.borrow_mut().insert(at.start);
            return Ok(());
        }
        let mut found = problems.borrow_mut();
        if !ALLOWLIST.tags.contains(tag.as_str()) {
            let name_end = at.start + 1 + tag.len();
            found.push((at.start, name_end.min(at.end), Problem::Element(tag)));
            return Ok(());
        }
        for attribute in el.attributes() {
            let name = attribute.name();
            let (start, end) = attribute
                .name_source_location()
                .map(|l| (l.bytes().start, l.bytes().end))
                .unwrap_or((at.start, at.end));
            let (value_start, value_end) = attribute
                .value_source_location()
                .map(|l| (l.bytes().start, l.bytes().end))
                .unwrap_or((start, end));
            if !ALLOWLIST.allows_attribute(&tag, &name) {
                found.push((start, end, Problem::Attribute(tag.clone(), name)));
                continue;
            }
            let value = html_escape::decode_html_entities(&attribute.value()).into_owned();
            if let Some(problem) = value_problem(&name, &value, &attribute.value()) {
                found.push((value_start, value_end.max(value_start + 1), problem));
            }
        }
        Ok(())
    }));
    if let Err(e) = rewrite_str(&joined, settings) {
        let span = pieces[0].1;
        return Err(
            Diagnostic::new(span, format!("raw HTML cannot be read: {e}"))
                .hint("write the HTML as plain, well-formed tags, or use Markdown"),
        );
    }
    let mut problems = problems.into_inner();
    // A span whose end marker was swallowed (inside an open attribute value, a comment the
    // parser did not see): its last `<` opened a tag that never closes.
    let ends_seen = ends_seen.into_inner();
    for (start, span) in &pieces {
        if !ends_seen.contains(&(start + span.len())) {
            let last = text[span.start..span.end].rfind('<').unwrap_or(0);
            problems.push((start + last, start + last + 1, Problem::OpenTag));
        }
    }
    let Some((start, end, problem)) = problems.into_iter().min_by_key(|(s, _, _)| *s) else {
        return Ok(());
    };
    let span = Span::new(source(start), source(end).max(source(start)));
    Err(problem.diagnostic(span))
}

/// Whether `span` holds nothing but whitespace and comments that an HTML reader ends where
/// CommonMark does. Such a span holds no element and cannot leave a tag open, so reading it
/// would find nothing: most papers' only raw HTML is notes to authors, and they skip the
/// tokenizer. A browser also ends a comment at `--!>`, which CommonMark does not (what follows
/// would be live HTML to a reader of the council Markdown): a comment holding one is read.
fn comments_only(paper: &Paper, text: &str, span: Span) -> bool {
    let bytes = text.as_bytes();
    let mut at = span.start;
    loop {
        while at < span.end && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at >= span.end {
            return true;
        }
        let k = paper.comments.partition_point(|c| c.start < at);
        match paper.comments.get(k) {
            Some(c)
                if c.start == at
                    && c.end <= span.end
                    && memchr::memmem::find(&bytes[c.start..c.end], b"--!>").is_none() =>
            {
                at = c.end;
            }
            _ => return false,
        }
    }
}

/// What is wrong with an allowed attribute's `value` (entities decoded; `raw` as written).
fn value_problem(name: &str, value: &str, raw: &str) -> Option<Problem> {
    let loads = LOAD_ATTRIBUTES.contains(&name);
    if loads || LINK_ATTRIBUTES.contains(&name) {
        for written in [value, raw] {
            if let Some(scheme) = scheme(written).filter(|s| REFUSED_SCHEMES.contains(&s.as_str()))
            {
                return Some(Problem::Scheme(name.to_string(), scheme));
            }
        }
        if loads && !is_relative_inside(value) {
            return Some(Problem::NotRelative(name.to_string()));
        }
    }
    if name == "style" {
        let lower = value.to_ascii_lowercase();
        // CSS reads `u\72l(` as `url(`: an escape in a style is refused with the loads.
        if lower.contains("url(") || lower.contains("image-set(") || lower.contains('\\') {
            return Some(Problem::StyleLoads);
        }
    }
    None
}

/// A URL as a browser reads it: tabs and newlines anywhere dropped, leading and trailing
/// controls and spaces trimmed.
fn url_as_read(url: &str) -> String {
    url.chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .trim_matches(|c: char| c <= ' ')
        .to_string()
}

/// The scheme a URL names (lower-cased), if any.
fn scheme(url: &str) -> Option<String> {
    let url = url_as_read(url);
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| scheme.to_ascii_lowercase())
}

/// A relative path to a file in the paper's folder or below: no scheme, not from the root or
/// another host, no `\`, and no `..` (or its percent-encoded forms) climbing out.
fn is_relative_inside(url: &str) -> bool {
    let url = url_as_read(url);
    let path = url.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() || path.starts_with('/') || path.contains('\\') || path.contains(':') {
        return false;
    }
    let mut depth: usize = 0;
    for segment in path.split('/') {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        match segment.as_str() {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    depth > 0
}

enum Problem {
    Element(String),
    Attribute(String, String),
    Scheme(String, String),
    NotRelative(String),
    StyleLoads,
    OpenTag,
}

impl Problem {
    fn diagnostic(self, span: Span) -> Diagnostic {
        match self {
            Problem::Element(tag) => {
                Diagnostic::new(span, format!("`<{tag}>` is not allowed in raw HTML")).hint(
                    "raw HTML may hold only elements that display text and tables (such as \
                     `<b>`, `<span>`, `<table>`); a copy loads nothing but its own assets and \
                     runs nothing: write this in Markdown or remove it",
                )
            }
            Problem::Attribute(tag, name) => Diagnostic::new(
                span,
                format!("attribute `{name}` is not allowed on `<{tag}>` in raw HTML"),
            )
            .hint(
                "raw HTML keeps only attributes that display text (such as `title`, `lang`, \
                 `class`); no event handlers, and nothing that loads or runs",
            ),
            Problem::Scheme(name, scheme) => Diagnostic::new(
                span,
                format!("`{scheme}:` URL in the `{name}` attribute of raw HTML"),
            )
            .hint("no copy holds a `javascript:`, `file:` or `data:` URL; link to a web page or a file in the paper's folder"),
            Problem::NotRelative(name) => Diagnostic::new(
                span,
                format!("`{name}` in raw HTML must be a relative path to a file in the paper's folder"),
            )
            .hint("a copy loads only its own assets: give the file's path from the paper's folder (`img/chart.png`), with no scheme, no leading `/` and no `..` leaving the folder"),
            Problem::StyleLoads => Diagnostic::new(
                span,
                "`style` attribute in raw HTML loads something (`url(`, `image-set(` or an escape)",
            )
            .hint("a style may set colours and spacing but load nothing; remove the `url(…)`"),
            Problem::OpenTag => Diagnostic::new(span, "raw HTML ends inside a tag")
                .hint("close the tag (and any quoted attribute value) before the blank line or the end of the HTML"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_inside_the_folder_may_be_loaded() {
        for ok in [
            "a.png",
            "img/c.png",
            "./img/c.png",
            "img/../c.png",
            "c%20d.png?x#y",
        ] {
            assert!(is_relative_inside(ok), "{ok}");
        }
        for refused in [
            "",
            "/etc/passwd",
            "//example.org/a.png",
            "../a.png",
            "img/../../a.png",
            "%2e%2e/a.png",
            ".%2E/a.png",
            "file:///etc/passwd",
            "https://example.org/a.png",
            "C:/x.png",
            "img\\..\\..\\a.png",
            " \t/x.png",
            ".",
        ] {
            assert!(!is_relative_inside(refused), "{refused:?}");
        }
    }

    #[test]
    fn schemes_are_read_as_a_browser_reads_them() {
        assert_eq!(
            scheme(" java\tscript:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(scheme("FILE:///x").as_deref(), Some("file"));
        assert_eq!(scheme("img/a.png"), None);
        assert_eq!(scheme("a b:c"), None);
    }

    fn problem(body: &str) -> Option<(String, String)> {
        let rules = crate::rules::Rules::embedded().expect("embedded rules");
        let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n\n{body}");
        let paper = crate::parse::parse_paper(&text, &rules).expect("parses");
        check(&paper, &text).err().map(|d| {
            let (line, col) = crate::span::LineIndex::new(&text).line_col(&text, d.span.start);
            (
                format!("{}:{line}:{col}", &text[d.span.start..d.span.end]),
                d.message,
            )
        })
    }

    #[test]
    fn text_and_tables_pass() {
        for body in [
            "A <b>bold</b> and <em class=\"x\">em</em> and <span style=\"color:red\" data-x=\"1\">s</span>.\n",
            "<table>\n<tr><th scope=\"col\">A</th></tr>\n<tr><td colspan=\"2\">1</td></tr>\n</table>\n",
            "<details><summary>More</summary>\n\nText.\n\n</details>\n",
            "An <img src=\"img/chart.png\" alt=\"chart\"> and <a href=\"https://example.org/?a=1&amp;b=2\">a link</a>.\n",
            "A <a href=\"mailto:x@example.org\">mail</a>, <a href=\"#finance\">here</a>, <a href=\"../other.html\">there</a>.\n",
            "<!-- <iframe src=\"file:///etc/passwd\"></iframe> a note, not a load -->\n\nText <!-- <script> --> here.\n",
            "Text with a literal \\<iframe> and `<script>` in code.\n\n```\n<object data=x>\n```\n",
            "A [span]{.S31 reason='<script>alert(1)</script>'} and\n\n::: {.S24 reason=\"<iframe>\"}\nx\n:::\n\n## H {.S31 reason='<object>'}\n",
        ] {
            assert_eq!(problem(body), None, "{body}");
        }
    }

    #[test]
    fn loads_and_scripts_are_errors_at_their_position() {
        for (body, at, message) in [
            (
                "Text <iframe src=\"a.html\"></iframe>.\n",
                "<iframe:6:6",
                "`<iframe>` is not allowed",
            ),
            (
                "<div>\n<object data=\"x\">\n</div>\n",
                "<object:7:1",
                "`<object>`",
            ),
            ("x <embed src=\"a\">\n", "<embed:6:3", "`<embed>`"),
            (
                "<link rel=\"stylesheet\" href=\"a.css\">\n",
                "<link:6:1",
                "`<link>`",
            ),
            (
                "<meta http-equiv=\"refresh\" content=\"0\">\n",
                "<meta:6:1",
                "`<meta>`",
            ),
            ("<base href=\"file:///\">\n", "<base:6:1", "`<base>`"),
            (
                "<form action=\"x\"><input></form>\n",
                "<form:6:1",
                "`<form>`",
            ),
            ("<style>p{}</style>\n", "<style:6:1", "`<style>`"),
            ("<script>alert(1)</script>\n", "<script:6:1", "`<script>`"),
            ("A <SVG><image href=\"x\"/></SVG>.\n", "<SVG:6:3", "`<svg>`"),
            (
                "A <b onclick=\"x()\">b</b>.\n",
                "onclick:6:6",
                "attribute `onclick`",
            ),
            (
                "A <b\nonmouseover=x>b</b>.\n",
                "onmouseover:7:1",
                "attribute `onmouseover`",
            ),
            (
                "A <span style=\"background:url(x.png)\">s</span>.\n",
                "background:url(x.png):6:16",
                "`style`",
            ),
            (
                "A <span style=\"background:u\\72l(x)\">s</span>.\n",
                "background:u\\72l(x):6:16",
                "`style`",
            ),
            (
                "A <a href=\"javascript:alert(1)\">x</a>.\n",
                "javascript:alert(1):6:12",
                "`javascript:` URL",
            ),
            (
                "A <a href=\"java&#115;cript:x\">x</a>.\n",
                "java&#115;cript:x:6:12",
                "`javascript:` URL",
            ),
            (
                "A <a href=\" FILE:///etc\">x</a>.\n",
                " FILE:///etc:6:12",
                "`file:` URL",
            ),
            (
                "A <a href=\"data:text/html,x\">x</a>.\n",
                "data:text/html,x:6:12",
                "`data:` URL",
            ),
            (
                "A <img src=\"https://example.org/a.png\">.\n",
                "https://example.org/a.png:6:13",
                "relative path",
            ),
            (
                "A <img src=\"/etc/a.png\">.\n",
                "/etc/a.png:6:13",
                "relative path",
            ),
            (
                "A <img src=\"../a.png\">.\n",
                "../a.png:6:13",
                "relative path",
            ),
            (
                "A <img src=\"file:///a.png\">.\n",
                "file:///a.png:6:13",
                "`file:` URL",
            ),
            (
                "A <img id=\"x\" src=\"a.png\">.\n",
                "id:6:8",
                "attribute `id`",
            ),
            (
                "<div title=\"open\n\nText <b>x</b>\n",
                "<:6:1",
                "ends inside a tag",
            ),
        ] {
            let found = problem(body);
            let Some((where_, text)) = &found else {
                panic!("{body:?}: no error");
            };
            assert_eq!(where_, at, "{body:?}: {text}");
            assert!(text.contains(message), "{body:?}: {text}");
        }
    }

    #[test]
    fn a_user_tag_named_like_the_end_marker_is_still_refused() {
        let (_, message) = problem("A <redact-end-of-raw-html> b.\n").expect("refused");
        assert!(message.contains("not allowed"), "{message}");
    }
}
