//! [`Copy`] → Markdown and HTML. Markdown is the copy's pieces written out (markers as
//! `**S31 & S24**`); HTML is rendered by pulldown-cmark from the copy's own HTML-flavoured
//! Markdown (markers as fixed-width boxes), never from the source, then put in the page
//! template. Every value this module writes into HTML is escaped here, explicitly.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd, html};
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use crate::model::{BlockPlacement, Form};
use crate::parse::markdown_options;
use crate::redact::{Copy, Passage, Piece};
use crate::rules::hex;
use crate::schedule::{Schedule, append_markdown};

pub const PAGE_TEMPLATE: &str = "paper.html";
/// The diff audit an FOI officer reads (audit.rs fills it).
pub const AUDIT_TEMPLATE: &str = "audit.html";
pub const TEMPLATE_FILES: [&str; 2] = [PAGE_TEMPLATE, AUDIT_TEMPLATE];
pub const DEFAULT_TEMPLATES: [(&str, &str); 2] = [
    (PAGE_TEMPLATE, include_str!("../templates/paper.html")),
    (AUDIT_TEMPLATE, include_str!("../templates/audit.html")),
];
/// The default audit template with its loops cut out: audit.rs writes what each would have
/// written itself (audit/page.rs), byte for byte. Registered only when the audit template is
/// the one page.rs was written for, exactly; any other is rendered by tera as written.
pub const AUDIT_FAST_TEMPLATE: &str = "audit (loops written by redact).html";
/// SHA-256 of the audit template whose loops audit/page.rs writes. Edit templates/audit.html
/// and this no longer matches: tera renders the template as written (slower, never wrong)
/// until page.rs is brought in line and this updated; a test fails meanwhile.
pub const AUDIT_LOOPS_WRITTEN_FOR: &str =
    "e03d930c6b396ccb4e78c8304af175489c78c1e87af188d9f818a881afa557e0";
/// The loops of the default audit template that audit/page.rs writes, in template order, and
/// a name for what each wrote.
pub const AUDIT_LOOPS: [(&str, &str); 7] = [
    ("{%- for c in codes %}", "codes_html"),
    ("{%- for a in audiences %}", "audiences_html"),
    ("{%- for e in entries %}", "entries_html"),
    ("{%- for c in comments %}", "comments_html"),
    ("{%- for p in proofs %}", "proofs_html"),
    ("{%- for p in proofs %}", "hunks_html"),
    ("{%- for w in warnings %}", "warnings_html"),
];

/// The page templates, loaded once per run.
pub struct Templates {
    tera: Tera,
    pub origin: Option<std::path::PathBuf>,
    pub hash: String,
    /// The audit template is the default one: [`AUDIT_FAST_TEMPLATE`] is registered.
    audit_fast: bool,
    /// The page template prints the body once, as it is: [`write_html_page`] streams it.
    page_body_streams: bool,
}

impl Templates {
    /// Registers each template under its `.html` name, so tera autoescapes it.
    pub fn from_files(
        files: &[(&str, String)],
        origin: Option<std::path::PathBuf>,
    ) -> Result<Templates, String> {
        let mut tera = Tera::new();
        tera.autoescape_on([".html"]);
        let mut hasher = Sha256::new();
        let mut audit_fast = false;
        let mut page_body_streams = false;
        for (name, text) in files {
            if *name == PAGE_TEMPLATE {
                page_body_streams = body_streams(text);
            }
            tera.add_raw_template(name, text)
                .map_err(|e| format!("template `{name}`: {e}"))?;
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
            if *name == AUDIT_TEMPLATE
                && hex(&Sha256::digest(text.as_bytes())) == AUDIT_LOOPS_WRITTEN_FOR
                && let Some(fast) = audit_without_loops(text)
            {
                audit_fast = tera.add_raw_template(AUDIT_FAST_TEMPLATE, &fast).is_ok();
            }
        }
        Ok(Templates {
            tera,
            origin,
            hash: hex(&hasher.finalize()),
            audit_fast,
            page_body_streams,
        })
    }

    /// The audit template is the default one, so audit.rs writes its loops itself and
    /// renders [`AUDIT_FAST_TEMPLATE`] with what they wrote.
    pub fn audit_loops_in_rust(&self) -> bool {
        self.audit_fast
    }

    /// Renders [`AUDIT_FAST_TEMPLATE`] into `out` and has `write_loop(k, page)` write what
    /// loop `k` of [`AUDIT_LOOPS`] writes, in place, straight into the page.
    pub fn write_audit_with_loops(
        &self,
        context: &Context,
        out: &mut dyn Write,
        mut write_loop: impl FnMut(usize, &mut PageOut),
    ) -> Result<(), String> {
        let frame = self.render(AUDIT_FAST_TEMPLATE, context)?;
        let mut page = PageOut::new(out);
        let mut at = 0;
        for (k, (_, value)) in AUDIT_LOOPS.iter().enumerate() {
            let mark = sentinel(value);
            // A loop inside an `if` on its own list is not rendered when the list is empty,
            // and writes nothing.
            let Some(found) = frame[at..].find(&mark) else {
                let before = page.len();
                write_loop(k, &mut page);
                if page.len() == before {
                    continue;
                }
                return Err(format!("internal: the audit page lost its `{value}`"));
            };
            page.buf.push_str(&frame[at..at + found]);
            write_loop(k, &mut page);
            page.spill();
            at += found + mark.len();
        }
        page.buf.push_str(&frame[at..]);
        page.finish()
            .map_err(|e| format!("cannot write the audit page: {e}"))
    }

    /// Renders the template registered as `name` (an `.html` name, so autoescaped).
    pub fn render(&self, name: &str, context: &Context) -> Result<String, String> {
        self.tera.render(name, context).map_err(|e| {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            message
        })
    }

    pub fn embedded() -> Result<Templates, String> {
        let files: Vec<(&str, String)> = DEFAULT_TEMPLATES
            .iter()
            .map(|(n, t)| (*n, t.to_string()))
            .collect();
        Templates::from_files(&files, None)
    }
}

/// A page written in pieces: text gathers in `buf` and goes to the writer whenever it grows
/// past a chunk, so a page of any size never sits whole in memory. The first write error is
/// kept and reported by [`PageOut::finish`].
pub struct PageOut<'w> {
    pub buf: String,
    out: &'w mut dyn Write,
    written: usize,
    error: Option<std::io::Error>,
}

impl<'w> PageOut<'w> {
    const CHUNK: usize = 1 << 16;

    pub fn new(out: &'w mut dyn Write) -> PageOut<'w> {
        PageOut {
            buf: String::with_capacity(2 * Self::CHUNK),
            out,
            written: 0,
            error: None,
        }
    }

    /// Bytes of the page so far, written or not.
    pub fn len(&self) -> usize {
        self.written + self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Passes the gathered text on once there is a chunk of it.
    pub fn spill(&mut self) {
        if self.buf.len() >= Self::CHUNK {
            self.flush_buf();
        }
    }

    fn flush_buf(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(self.buf.as_bytes())
        {
            self.error = Some(e);
        }
        self.written += self.buf.len();
        self.buf.clear();
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.flush_buf();
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}

/// Where a loop's output goes in the rendered cut-down audit template: a comment, which no
/// value can produce (every value in the template is escaped, so no `<` comes from one).
fn sentinel(value: &str) -> String {
    format!("<!--redact:{value}-->")
}

/// The audit template with each loop of [`AUDIT_LOOPS`] replaced by its sentinel, and the
/// white space before it trimmed as the loop's opening `{%-` trims it. The loops' output is
/// spliced in after rendering, so tera never copies it.
fn audit_without_loops(template: &str) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut at = 0;
    for (tag, value) in AUDIT_LOOPS {
        let start = at + template[at..].find(tag)?;
        let end = loop_end(template, start)?;
        // The loop's `{%-` trims the white space before it; the sentinel stands where the
        // loop's output would start.
        out.push_str(template[at..start].trim_end());
        out.push_str(&sentinel(value));
        at = end;
    }
    out.push_str(&template[at..]);
    Some(out)
}

/// The end of the `{% endfor %}` tag closing the loop opened at `start`, nested loops skipped.
fn loop_end(template: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = start;
    while let Some(found) = template[at..].find("{%") {
        let open = at + found;
        let close = open + template[open..].find("%}")? + 2;
        let tag =
            template[open + 2..close - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if tag.starts_with("for ") {
            depth += 1;
        } else if tag == "endfor" {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(close);
            }
        }
        at = close;
    }
    None
}

/// Escapes text for HTML content and double-quoted attributes. `|` is escaped too, because
/// generated HTML can land inside a GFM table row, and line breaks so an attribute stays on
/// one line.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '|' => out.push_str("&#124;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text as the inside of a CSS double-quoted string.
pub fn escape_css_string(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' || c == '-' {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:X} ", c as u32));
        }
    }
    out
}

/// The copy's Markdown as written: [`markdown`], then the audience's schedule of exemptions
/// if it has one.
pub fn markdown_with_schedule(copy: &Copy, schedule: Option<&Schedule>) -> String {
    copy_markdown(copy, schedule).into_owned()
}

/// As [`markdown_with_schedule`], borrowing the source where the copy is the source itself
/// (a large paper is then not held twice).
pub fn copy_markdown<'a>(copy: &Copy<'a>, schedule: Option<&Schedule>) -> Cow<'a, str> {
    match (copy.source, schedule) {
        (Some(source), None) => Cow::Borrowed(source),
        _ => {
            let mut out = markdown(copy);
            if let Some(schedule) = schedule {
                append_markdown(&mut out, schedule);
            }
            Cow::Owned(out)
        }
    }
}

/// The copy's Markdown without any schedule: the source itself for an audience that sees
/// everything, else the front matter written afresh and the body with markers in place.
pub fn markdown(copy: &Copy) -> String {
    if let Some(source) = copy.source {
        return source.to_string();
    }
    let mut out = copy.front_matter.to_yaml(&copy.marking);
    for piece in &copy.pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::HeadingAttrs(text) => out.push_str(text),
            Piece::Marker { label, placement } => {
                let marker = format!("**{label}**");
                match placement {
                    Some(p) => place_block(&mut out, p, &marker),
                    None => out.push_str(&marker),
                }
            }
            Piece::Open(p) | Piece::Close(p) => out.push_str(&p.markdown),
            Piece::HeadingStart(_) => {}
        }
    }
    out
}

/// Writes a block so it is its own paragraph inside its container.
fn place_block(out: &mut String, placement: &BlockPlacement, block: &str) {
    if placement.blank_before {
        out.push_str(placement.newline);
        out.push_str(&placement.prefix);
    }
    out.push_str(block);
    if placement.blank_after {
        out.push_str(placement.newline);
        out.push_str(placement.prefix.trim_end());
    }
}

fn marker_html(label: &str, block: bool) -> String {
    let label = escape_html(label);
    if block {
        format!(
            "<div class=\"redact-marker redact-marker-block\" role=\"img\" aria-label=\"Withheld under {label}\">{label}</div>"
        )
    } else {
        format!(
            "<span class=\"redact-marker\" role=\"img\" aria-label=\"Withheld under {label}\">{label}</span>"
        )
    }
}

fn id_attr(id: Option<&str>) -> String {
    id.map(|id| format!(" id=\"{}\"", escape_html(id)))
        .unwrap_or_default()
}

fn open_html(p: &Passage) -> String {
    let block = p.form != Form::Span;
    let classes = p.classes.join(" ");
    if !p.highlight {
        let tag = if block { "div" } else { "span" };
        let class = if classes.is_empty() {
            String::new()
        } else {
            format!(" class=\"{}\"", escape_html(&classes))
        };
        return format!("<{tag}{class}{}>", id_attr(p.id));
    }
    let codes = escape_html(&p.codes.join(" "));
    let label = escape_html(&p.label);
    let extra = if classes.is_empty() {
        String::new()
    } else {
        format!(" {}", escape_html(&classes))
    };
    if block {
        let reason = p
            .reason
            .map(|r| format!(" <span class=\"redact-reason\">{}</span>", escape_html(r)))
            .unwrap_or_default();
        format!(
            "<div class=\"redact-exempt redact-exempt-block{extra}\" data-codes=\"{codes}\"{}><p class=\"redact-label\"><span class=\"redact-codes\">{label}</span>{reason}</p>",
            id_attr(p.id)
        )
    } else {
        let title = match p.reason {
            Some(r) => format!("{}: {}", p.label, r),
            None => p.label.clone(),
        };
        // A hover title does not print: the page's print CSS shows `data-reason` after the
        // passage, so the printed council copy carries every reason too.
        let reason = p
            .reason
            .map(|r| format!(" data-reason=\"{}\"", escape_html(r)))
            .unwrap_or_default();
        format!(
            "<mark class=\"redact-exempt{extra}\" data-codes=\"{codes}\" title=\"{}\"{reason}{}>",
            escape_html(&title),
            id_attr(p.id)
        )
    }
}

fn close_html(p: &Passage) -> String {
    match (p.form != Form::Span, p.highlight) {
        (true, _) => "</div>".to_string(),
        (false, true) => format!(
            "<sup class=\"redact-codes\">{}</sup></mark>",
            escape_html(&p.label)
        ),
        (false, false) => "</span>".to_string(),
    }
}

/// The copy's body as Markdown for the HTML renderer, and where headings with ids start.
fn html_markdown(copy: &Copy) -> (String, Vec<(usize, String)>) {
    let mut out = String::new();
    let mut heading_ids = Vec::new();
    for piece in &copy.pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::HeadingAttrs(_) => {}
            Piece::HeadingStart(id) => heading_ids.push((out.len(), id.to_string())),
            Piece::Marker { label, placement } => match placement {
                Some(p) => place_block(&mut out, &force_blank_after(p), &marker_html(label, true)),
                None => out.push_str(&marker_html(label, false)),
            },
            Piece::Open(p) => {
                let html = open_html(p);
                match (p.form, p.placement) {
                    (Form::Span, _) | (_, None) => out.push_str(&html),
                    (Form::Div, Some(place)) => {
                        let before = BlockPlacement {
                            blank_after: false,
                            ..place.clone()
                        };
                        place_block(&mut out, &before, &html);
                        out.push('\n');
                        out.push_str(place.prefix.trim_end());
                    }
                    (Form::Heading, Some(place)) => {
                        let before = BlockPlacement {
                            blank_after: false,
                            ..place.clone()
                        };
                        place_block(&mut out, &before, &html);
                        out.push('\n');
                        out.push_str(place.prefix.trim_end());
                        out.push('\n');
                        out.push_str(&place.prefix);
                    }
                }
            }
            Piece::Close(p) => {
                let html = close_html(p);
                match (p.form, p.placement) {
                    (Form::Span, _) | (_, None) => out.push_str(&html),
                    (Form::Div, Some(place)) => {
                        out.push('\n');
                        out.push_str(&place.prefix);
                        out.push_str(&html);
                        out.push('\n');
                        out.push_str(place.prefix.trim_end());
                    }
                    (Form::Heading, Some(place)) => {
                        out.push('\n');
                        out.push_str(place.prefix.trim_end());
                        out.push('\n');
                        out.push_str(&place.prefix);
                        out.push_str(&html);
                        out.push('\n');
                        out.push_str(place.prefix.trim_end());
                    }
                }
            }
        }
    }
    (out, heading_ids)
}

/// An HTML block runs until a blank line, so one must follow it unless its container ends.
fn force_blank_after(p: &BlockPlacement) -> BlockPlacement {
    BlockPlacement {
        blank_after: p.html_blank_after,
        ..p.clone()
    }
}

fn shift(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// The copy's body in HTML: headings one level down (the title is the only `<h1>`), each with
/// its explicit id and no other.
pub fn html_body(copy: &Copy) -> String {
    let mut out = Vec::new();
    write_html_body(copy, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("pulldown-cmark writes UTF-8")
}

/// [`html_body`], written to `out` as it is rendered.
pub fn write_html_body(copy: &Copy, out: &mut dyn Write) -> std::io::Result<()> {
    let (markdown, heading_ids) = html_markdown(copy);
    write_body(&markdown, &heading_ids, out)
}

/// Renders a copy's HTML-flavoured Markdown to `out`.
fn write_body(
    markdown: &str,
    heading_ids: &[(usize, String)],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut ids = heading_ids.iter().peekable();
    let parser = Parser::new_ext(markdown, markdown_options());
    let events = parser.into_offset_iter().map(|(event, range)| match event {
        Event::Start(Tag::Heading { level, .. }) => {
            let mut id = None;
            while let Some((at, _)) = ids.peek() {
                if *at < range.start {
                    ids.next();
                } else if *at < range.end {
                    id = ids.next().map(|(_, id)| id.as_str().into());
                    break;
                } else {
                    break;
                }
            }
            Event::Start(Tag::Heading {
                level: shift(level),
                id,
                classes: Vec::new(),
                attrs: Vec::new(),
            })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(shift(level))),
        // A link to another paper of the build points at that paper's HTML copy (the build
        // refuses a local `.md` that is not one).
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: crate::assets::html_link(&dest_url)
                .map(Into::into)
                .unwrap_or(dest_url),
            title,
            id,
        }),
        other => other,
    });
    // pulldown-cmark writes a few bytes at a time: buffer them where the calls are static.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    html::write_html_io(&mut buffered, events)?;
    buffered.flush()
}

/// The whole HTML page for the copy, through the page template, without any schedule.
pub fn html_page(copy: &Copy, templates: &Templates) -> Result<String, String> {
    html_page_with_schedule(copy, templates, None)
}

/// The whole HTML page for the copy as written, with the audience's schedule of exemptions at
/// the end of the body.
pub fn html_page_with_schedule(
    copy: &Copy,
    templates: &Templates,
    schedule: Option<&Schedule>,
) -> Result<String, String> {
    let mut out = Vec::new();
    write_html_page(copy, templates, schedule, &mut out)?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// [`html_page_with_schedule`], written to `out`. When the page template prints the body once
/// as it is and uses it nowhere else (see [`body_streams`]), the template is rendered around
/// a sentinel and the body written in its place as pulldown-cmark renders it; otherwise the
/// body is rendered whole and handed to the template.
pub fn write_html_page(
    copy: &Copy,
    templates: &Templates,
    schedule: Option<&Schedule>,
    out: &mut dyn Write,
) -> Result<(), String> {
    PageSource::new(copy).write(templates, schedule, out)
}

/// What a copy's HTML page is rendered from: the template's values and the body as
/// HTML-flavoured Markdown. It owns them, so the copy can go before the (large) render.
pub struct PageSource {
    context: Context,
    markdown: String,
    heading_ids: Vec<(usize, String)>,
}

impl PageSource {
    pub fn new(copy: &Copy) -> PageSource {
        let (markdown, heading_ids) = html_markdown(copy);
        PageSource {
            context: page_context(copy),
            markdown,
            heading_ids,
        }
    }

    /// Writes the page, with the audience's schedule of exemptions at the end of the body.
    pub fn write(
        &self,
        templates: &Templates,
        schedule: Option<&Schedule>,
        out: &mut dyn Write,
    ) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("cannot write the page: {e}");
        let mut context = self.context.clone();
        if templates.page_body_streams {
            context.insert("body", BODY_SENTINEL);
            let frame = templates.render(PAGE_TEMPLATE, &context)?;
            let mut found = frame.match_indices(BODY_SENTINEL).map(|(at, _)| at);
            if let (Some(at), None) = (found.next(), found.next()) {
                out.write_all(&frame.as_bytes()[..at]).map_err(fail)?;
                write_body(&self.markdown, &self.heading_ids, out).map_err(fail)?;
                if let Some(schedule) = schedule {
                    out.write_all(schedule.html().as_bytes()).map_err(fail)?;
                }
                out.write_all(&frame.as_bytes()[at + BODY_SENTINEL.len()..])
                    .map_err(fail)?;
                return Ok(());
            }
        }
        let mut body = Vec::new();
        write_body(&self.markdown, &self.heading_ids, &mut body).map_err(fail)?;
        if let Some(schedule) = schedule {
            body.extend_from_slice(schedule.html().as_bytes());
        }
        let body = String::from_utf8(body).map_err(|e| e.to_string())?;
        context.insert("body", &body);
        drop(body);
        let page = templates.render(PAGE_TEMPLATE, &context)?;
        out.write_all(page.as_bytes()).map_err(fail)
    }
}

/// Stands for the body while the page template renders: a comment, which no autoescaped value
/// can produce.
const BODY_SENTINEL: &str = "<!--redact:body-->";

/// The page template's values other than the body.
fn page_context(copy: &Copy) -> Context {
    let fm = copy.front_matter;
    let mut context = Context::new();
    let mut values: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    values.insert("title", Some(&fm.title));
    values.insert("classification", Some(&copy.marking));
    values.insert("marking", Some(&copy.marking));
    values.insert("notice", copy.audience.notice.as_deref());
    values.insert("organisation", fm.organisation.as_deref());
    values.insert("date", fm.date.as_deref());
    values.insert("author", fm.author.as_deref());
    values.insert("reference", fm.reference.as_deref());
    values.insert("agenda_item", fm.agenda_item.as_deref());
    values.insert("version", fm.version.as_deref());
    values.insert("status", fm.status.as_deref());
    values.insert("audience", Some(&copy.audience.name));
    for (key, value) in values {
        context.insert(key, &value);
    }
    context.insert("marking_css", &escape_css_string(&copy.marking));
    context.insert("highlight", &copy.audience.highlight);
    context
}

/// Whether a page template uses `body` only as `{{ body | safe }}`, exactly once, and in
/// `body is string` / `body is not string` tests: then its output is the same whatever the
/// body, with the body in that one place, and the body can be streamed in. Anything else
/// (a filter, a length, a `set`, an include that might print it) renders the body whole.
pub fn body_streams(template: &str) -> bool {
    let mut printed = 0;
    let mut at = 0;
    while let Some(found) = template[at..].find('{') {
        let open = at + found;
        let close_tag = match template.as_bytes().get(open + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                at = open + 1;
                continue;
            }
        };
        let Some(len) = template[open + 2..].find(close_tag) else {
            return false;
        };
        let inner = &template[open + 2..open + 2 + len];
        at = open + 2 + len + 2;
        if close_tag == "#}" {
            continue;
        }
        let code = without_strings(inner.trim_matches('-'));
        let words: Vec<&str> = code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        if words
            .iter()
            .any(|w| matches!(*w, "include" | "extends" | "import" | "__tera_context"))
        {
            return false;
        }
        let uses = words.iter().filter(|w| **w == "body").count();
        if uses == 0 {
            continue;
        }
        let squeezed: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
        if close_tag == "}}" && squeezed == "body | safe" {
            printed += 1;
        } else if close_tag == "%}" && uses == 1 {
            // Only a string test, as the default template's guard: `... or body is not string`.
            let test = squeezed
                .find("body is ")
                .map(|i| &squeezed[i + "body is ".len()..]);
            let ok = matches!(test, Some(t) if t == "string" || t == "not string"
                || t.starts_with("string ") || t.starts_with("not string "));
            if !ok {
                return false;
            }
        } else {
            return false;
        }
    }
    printed == 1
}

/// Template code with its string literals emptied, so a word inside one is not a variable.
fn without_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut quote = None;
    for c in code.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {}
            None => {
                if matches!(c, '"' | '\'' | '`') {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::body_streams;

    #[test]
    fn the_default_page_template_streams_its_body() {
        assert!(body_streams(include_str!("../templates/paper.html")));
    }

    #[test]
    fn a_body_used_other_than_printed_once_as_is_is_rendered_whole() {
        for template in [
            "<main>{{ body }}</main>",
            "<main>{{ body | safe }}{{ body | safe }}</main>",
            "<main>{{ body | upper | safe }}</main>",
            "{% if body | length > 3 %}{{ body | safe }}{% endif %}",
            "{% set b = body %}{{ b | safe }}",
            "{% include \"x.html\" %}{{ body | safe }}",
            "{{ __tera_context }}{{ body | safe }}",
            "<main></main>",
            "{{ body | safe }",
        ] {
            assert!(!body_streams(template), "{template}");
        }
    }

    #[test]
    fn words_in_strings_and_comments_are_not_the_body() {
        assert!(body_streams(
            "{# body #}{% if body is not string %}{{ throw(message=\"needs body\") }}{% endif %}<main>{{- body | safe -}}</main>"
        ));
    }
}
