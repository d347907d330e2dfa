//! [`Copy`] → Markdown and HTML. Markdown is the copy's pieces written out (markers as
//! `**S31 & S24**`); HTML is rendered by pulldown-cmark from the copy's own HTML-flavoured
//! Markdown (markers as fixed-width boxes), never from the source, then put in the page
//! template. Every value this module writes into HTML is escaped here, explicitly.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd, html};
use sha2::{Digest, Sha256};
use tera::{Context, Tera, Value};

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
/// The audit template with each streamed loop (see [`audit_split`]) replaced by its sentinel.
const AUDIT_FRAME_TEMPLATE: &str = "audit (frame).html";
/// The lists of the audit page that grow with the paper. Where the template loops over one of
/// them only at its top level, that loop is rendered a chunk of the list at a time, straight
/// into the page, so a paper with a million redactions never has its page, or a tera value for
/// every row of it, in memory at once.
pub const AUDIT_STREAMED_LISTS: [&str; 3] = ["entries", "comments", "hunks"];
/// Rows rendered at once by a streamed loop.
pub(crate) const AUDIT_CHUNK: usize = 128;

/// One list of the audit page's values, made a chunk at a time: `insert(range, context)`
/// inserts rows `range` under `name`.
pub struct AuditList<'a> {
    pub name: &'static str,
    pub len: usize,
    pub insert: &'a dyn Fn(std::ops::Range<usize>, &mut Context),
}

/// The page templates, loaded once per run.
pub struct Templates {
    tera: Tera,
    pub origin: Option<std::path::PathBuf>,
    pub hash: String,
    /// The lists of [`AUDIT_STREAMED_LISTS`] the audit template loops over in a way that can
    /// be rendered in chunks, in template order, each with its loop's registered name; empty
    /// when the template must be rendered whole.
    audit_loops: Vec<(&'static str, String)>,
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
        tera.register_filter("safe", safe_in_place);
        let mut hasher = Sha256::new();
        let mut audit_loops = Vec::new();
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
                && let Some((frame, loops)) = audit_split(text)
                && tera.add_raw_template(AUDIT_FRAME_TEMPLATE, &frame).is_ok()
            {
                for (list, text) in loops {
                    let name = format!("audit (loop over {list}).html");
                    if tera.add_raw_template(&name, &text).is_err() {
                        audit_loops.clear();
                        break;
                    }
                    audit_loops.push((list, name));
                }
            }
        }
        Ok(Templates {
            tera,
            origin,
            hash: hex(&hasher.finalize()),
            audit_loops,
            page_body_streams,
        })
    }

    /// Whether the audit page is rendered a chunk of each long list at a time.
    pub fn audit_streams(&self) -> bool {
        !self.audit_loops.is_empty()
    }

    /// Renders the audit template into `out` with `context` and `lists`. The loops over the
    /// lists the template lets stream are rendered, by tera from the template's own text, a
    /// chunk at a time in their place in the rest of the page, which is rendered first with
    /// each such list given as a bool (whether it has rows: all the rest may ask of it).
    /// Otherwise, or if the page does not hold each loop's place exactly once, the whole
    /// template is rendered with every list whole: the same bytes, in memory.
    pub fn write_audit(
        &self,
        mut context: Context,
        lists: &[AuditList],
        out: &mut dyn Write,
    ) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("cannot write the audit page: {e}");
        let streamed = |name: &str| self.audit_loops.iter().any(|(l, _)| *l == name);
        // The frame's values: each streamed list as a bool, every other list whole.
        for list in lists {
            if streamed(list.name) {
                context.insert(list.name, &(list.len > 0));
            } else {
                (list.insert)(0..list.len, &mut context);
            }
        }
        if self.audit_streams() {
            let frame = self.render(AUDIT_FRAME_TEMPLATE, &context)?;
            if let Some(places) = loop_places(&frame, &self.audit_loops, lists) {
                let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
                // One context for every chunk, the frame's: each chunk's rows replace the last's.
                let mut chunk = context;
                let mut at = 0;
                for ((list_name, template), place) in self.audit_loops.iter().zip(places) {
                    let Some(place) = place else { continue };
                    out.write_all(&frame.as_bytes()[at..place]).map_err(fail)?;
                    at = place + loop_sentinel(list_name).len();
                    let Some(list) = lists.iter().find(|l| l.name == *list_name) else {
                        continue;
                    };
                    for start in (0..list.len).step_by(AUDIT_CHUNK) {
                        (list.insert)(start..(start + AUDIT_CHUNK).min(list.len), &mut chunk);
                        self.tera
                            .render_to(template, &chunk, &mut out)
                            .map_err(|e| error_message(&e))?;
                    }
                    // As the frame had it, for the loops after this one.
                    chunk.insert(list.name, &(list.len > 0));
                }
                out.write_all(&frame.as_bytes()[at..]).map_err(fail)?;
                return out.flush().map_err(fail);
            }
        }
        // Every list whole: those not streamed are already.
        for list in lists.iter().filter(|l| streamed(l.name)) {
            (list.insert)(0..list.len, &mut context);
        }
        let page = self.render(AUDIT_TEMPLATE, &context)?;
        out.write_all(page.as_bytes()).map_err(fail)
    }

    /// Renders the template registered as `name` (an `.html` name, so autoescaped).
    pub fn render(&self, name: &str, context: &Context) -> Result<String, String> {
        self.tera
            .render(name, context)
            .map_err(|e| error_message(&e))
    }

    pub fn embedded() -> Result<Templates, String> {
        let files: Vec<(&str, String)> = DEFAULT_TEMPLATES
            .iter()
            .map(|(n, t)| (*n, t.to_string()))
            .collect();
        Templates::from_files(&files, None)
    }
}

/// tera's `safe` filter, without its copy: a string is marked safe where it is (tera's own
/// copies it into a new one, which for the audit page's HTML values is a copy of most of the
/// page); anything else is printed and marked, as tera's does. The same value either way.
fn safe_in_place(value: Value, _: tera::Kwargs, _: &tera::State) -> Value {
    if value.is_string() {
        value.mark_safe()
    } else {
        Value::safe_string(&value.to_string())
    }
}

/// The message of a tera error with its causes.
fn error_message(e: &tera::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// Stands for a streamed loop's output in the rendered frame: a comment, which no autoescaped
/// value can produce (a value printed `safe` might: the page then holds it more than once, and
/// is rendered whole).
fn loop_sentinel(list: &str) -> String {
    format!("<!--redact:loop:{list}-->")
}

/// Where each streamed loop's output goes in the rendered frame, in order: none for a loop
/// whose place is not rendered (inside an `if` not taken) over an empty list. `None` when a
/// place is missing for a list with rows, repeated, or out of order.
fn loop_places(
    frame: &str,
    loops: &[(&'static str, String)],
    lists: &[AuditList],
) -> Option<Vec<Option<usize>>> {
    // Every sentinel in the frame, found in one pass.
    let prefix = "<!--redact:loop:";
    let found: Vec<usize> = memchr::memmem::find_iter(frame.as_bytes(), prefix).collect();
    let mut places = Vec::with_capacity(loops.len());
    let mut after = 0;
    for (list, _) in loops {
        let sentinel = loop_sentinel(list);
        let mut mine = found
            .iter()
            .copied()
            .filter(|&at| frame[at..].starts_with(&sentinel));
        match (mine.next(), mine.next()) {
            (Some(at), None) if at >= after => {
                after = at + sentinel.len();
                places.push(Some(at));
            }
            (None, _) if lists.iter().all(|l| l.name != *list || l.len == 0) => places.push(None),
            _ => return None,
        }
    }
    Some(places)
}

/// A tag of a template (`{{ }}`, `{% %}` or `{# #}`): where it is, and its code with string
/// literals emptied, trim dashes dropped and white space squeezed.
struct TemplateTag {
    start: usize,
    end: usize,
    /// `{`, `%` or `#`.
    kind: u8,
    code: String,
    trim_before: bool,
    trim_after: bool,
}

impl TemplateTag {
    fn words(&self) -> impl Iterator<Item = &str> {
        self.code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
    }

    fn keyword(&self) -> Option<&str> {
        (self.kind == b'%').then(|| self.words().next()).flatten()
    }
}

/// Every tag of `template`, in order; `None` if one is not closed.
fn template_tags(template: &str) -> Option<Vec<TemplateTag>> {
    let mut tags = Vec::new();
    let mut at = 0;
    while let Some(found) = template[at..].find('{') {
        let open = at + found;
        let (kind, close) = match template.as_bytes().get(open + 1) {
            Some(b'{') => (b'{', "}}"),
            Some(b'%') => (b'%', "%}"),
            Some(b'#') => (b'#', "#}"),
            _ => {
                at = open + 1;
                continue;
            }
        };
        let len = template[open + 2..].find(close)?;
        let inner = &template[open + 2..open + 2 + len];
        let end = open + 2 + len + 2;
        let code = without_strings(inner.trim_matches('-'));
        tags.push(TemplateTag {
            start: open,
            end,
            kind,
            code: code.split_whitespace().collect::<Vec<_>>().join(" "),
            trim_before: inner.starts_with('-'),
            trim_after: inner.ends_with('-'),
        });
        at = end;
    }
    Some(tags)
}

/// The audit template cut for streaming: the frame, with each loop over a list of
/// [`AUDIT_STREAMED_LISTS`] that can be rendered in chunks replaced by its sentinel, and each
/// such loop's own text. A loop can when it is `{% for x in list %}` at the template's top
/// level (in no other loop), its body asks nothing of the loop itself (`loop.index`,
/// `loop.first`, a `for … else`) and the rest of the template asks of the list only whether
/// it has rows (`if list`, `if not list`): then rendering it over the rows in chunks, one after
/// the other, writes what rendering it over all of them writes. A template that uses anything
/// but `for`, `if` and `set` inside loops (an include, a macro, a block, a set outside a loop,
/// which the loop's own template would not see) is rendered whole.
fn audit_split(template: &str) -> Option<(String, Vec<(&'static str, String)>)> {
    let tags = template_tags(template)?;
    let mut depth = 0usize;
    // (list, open tag, endfor tag) of each top-level loop over a streamed list.
    let mut candidates: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut open = None;
    for (k, tag) in tags.iter().enumerate() {
        match tag.keyword() {
            None => {}
            Some("if" | "elif" | "else" | "endif") => {}
            Some("set") if depth > 0 => {}
            Some("for") => {
                if depth == 0 {
                    open = AUDIT_STREAMED_LISTS
                        .iter()
                        .find(|list| {
                            let words: Vec<&str> = tag.words().collect();
                            words.len() == 4
                                && words[2] == "in"
                                && words[3] == **list
                                && tag.code == format!("for {} in {list}", words[1])
                        })
                        .map(|list| (*list, k));
                }
                depth += 1;
            }
            Some("endfor") => {
                depth = depth.checked_sub(1)?;
                if depth == 0
                    && let Some((list, start)) = open.take()
                {
                    candidates.push((list, start, k));
                }
            }
            Some(_) => return None,
        }
    }
    let mut loops: Vec<(&'static str, usize, usize)> = Vec::new();
    for list in AUDIT_STREAMED_LISTS {
        let mine: Vec<_> = candidates.iter().filter(|c| c.0 == list).collect();
        let [&(_, start, end)] = mine[..] else {
            continue;
        };
        if loop_body_streams(&tags[start + 1..end]) && list_only_tested(&tags, list, start, end) {
            loops.push((list, start, end));
        }
    }
    if loops.is_empty() {
        return None;
    }
    loops.sort_by_key(|l| l.1);
    let mut frame = String::with_capacity(template.len());
    let mut texts = Vec::new();
    let mut at = 0;
    for (list, start, end) in loops {
        let (open, close) = (&tags[start], &tags[end]);
        let before = &template[at..open.start];
        frame.push_str(if open.trim_before {
            before.trim_end()
        } else {
            before
        });
        frame.push_str(&loop_sentinel(list));
        texts.push((list, template[open.start..close.end].to_string()));
        at = close.end;
        if close.trim_after {
            at += template[at..].len() - template[at..].trim_start().len();
        }
    }
    frame.push_str(&template[at..]);
    Some((frame, texts))
}

/// The body of a streamed loop asks nothing of the loop itself at its own level.
fn loop_body_streams(body: &[TemplateTag]) -> bool {
    let (mut fors, mut ifs) = (0usize, 0usize);
    for tag in body {
        match tag.keyword() {
            Some("for") => fors += 1,
            Some("endfor") => fors = fors.saturating_sub(1),
            Some("if") => ifs += 1,
            Some("endif") => ifs = ifs.saturating_sub(1),
            // `for … else` at the loop's own level.
            Some("else") if fors == 0 && ifs == 0 => return false,
            _ => {}
        }
        if fors == 0 && tag.kind != b'#' && tag.words().any(|w| w == "loop") {
            return false;
        }
    }
    true
}

/// `list` appears nowhere but in its loop's opening tag and in `if list` / `if not list`
/// tests outside that loop.
fn list_only_tested(tags: &[TemplateTag], list: &str, start: usize, end: usize) -> bool {
    tags.iter().enumerate().all(|(k, tag)| {
        if k == start || tag.kind == b'#' || !tag.words().any(|w| w == list) {
            return true;
        }
        let test = matches!(tag.code.strip_prefix("if ").or(tag.code.strip_prefix("elif ")),
            Some(t) if t == list || t.strip_prefix("not ") == Some(list));
        tag.kind == b'%' && test && !(start..=end).contains(&k)
    })
}

/// Escapes text for HTML content and double-quoted attributes. `|` is escaped too, because
/// generated HTML can land inside a GFM table row, and line breaks so an attribute stays on
/// one line.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped_html(&mut out, text);
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
    place_block_with(out, placement, placement.blank_after, |out| {
        out.push_str(block)
    });
}

/// [`place_block`], with `blank_after` in place of the placement's and the block written by
/// `write` straight into `out` (no string of its own per marker or tag).
fn place_block_with(
    out: &mut String,
    placement: &BlockPlacement,
    blank_after: bool,
    write: impl FnOnce(&mut String),
) {
    if placement.blank_before {
        out.push_str(placement.newline);
        out.push_str(&placement.prefix);
    }
    write(out);
    if blank_after {
        out.push_str(placement.newline);
        out.push_str(placement.prefix.trim_end());
    }
}

/// Appends `text` escaped as [`escape_html`] escapes it. Escaping goes character by
/// character, so escaping two strings one after the other writes what escaping them joined
/// would: the tags below are written piece by piece.
fn push_escaped_html(out: &mut String, text: &str) {
    let mut done = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            b'|' => "&#124;",
            b'\n' => "&#10;",
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&text[done..at]);
        out.push_str(entity);
        done = at + 1;
    }
    out.push_str(&text[done..]);
}

/// Appends `items` escaped and joined with spaces.
fn push_escaped_joined<S: AsRef<str>>(out: &mut String, items: &[S]) {
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        push_escaped_html(out, item.as_ref());
    }
}

fn push_marker_html(out: &mut String, label: &str, block: bool) {
    let (tag, class) = if block {
        ("div", "redact-marker redact-marker-block")
    } else {
        ("span", "redact-marker")
    };
    out.push('<');
    out.push_str(tag);
    out.push_str(" class=\"");
    out.push_str(class);
    out.push_str("\" role=\"img\" aria-label=\"Withheld under ");
    push_escaped_html(out, label);
    out.push_str("\">");
    push_escaped_html(out, label);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn push_id_attr(out: &mut String, id: Option<&str>) {
    if let Some(id) = id {
        out.push_str(" id=\"");
        push_escaped_html(out, id);
        out.push('"');
    }
}

fn push_open_html(out: &mut String, p: &Passage) {
    let block = p.form != Form::Span;
    if !p.highlight {
        out.push_str(if block { "<div" } else { "<span" });
        if !p.classes.is_empty() {
            out.push_str(" class=\"");
            push_escaped_joined(out, p.classes);
            out.push('"');
        }
        push_id_attr(out, p.id);
        out.push('>');
        return;
    }
    out.push_str(if block {
        "<div class=\"redact-exempt redact-exempt-block"
    } else {
        "<mark class=\"redact-exempt"
    });
    if !p.classes.is_empty() {
        out.push(' ');
        push_escaped_joined(out, p.classes);
    }
    out.push_str("\" data-codes=\"");
    push_escaped_joined(out, &p.codes);
    out.push('"');
    if block {
        push_id_attr(out, p.id);
        out.push_str("><p class=\"redact-label\"><span class=\"redact-codes\">");
        push_escaped_html(out, &p.label);
        out.push_str("</span>");
        if let Some(r) = p.reason {
            out.push_str(" <span class=\"redact-reason\">");
            push_escaped_html(out, r);
            out.push_str("</span>");
        }
        out.push_str("</p>");
    } else {
        out.push_str(" title=\"");
        push_escaped_html(out, &p.label);
        if let Some(r) = p.reason {
            push_escaped_html(out, ": ");
            push_escaped_html(out, r);
        }
        out.push('"');
        // A hover title does not print: the page's print CSS shows `data-reason` after the
        // passage, so the printed council copy carries every reason too.
        if let Some(r) = p.reason {
            out.push_str(" data-reason=\"");
            push_escaped_html(out, r);
            out.push('"');
        }
        push_id_attr(out, p.id);
        out.push('>');
    }
}

fn push_close_html(out: &mut String, p: &Passage) {
    match (p.form != Form::Span, p.highlight) {
        (true, _) => out.push_str("</div>"),
        (false, true) => {
            out.push_str("<sup class=\"redact-codes\">");
            push_escaped_html(out, &p.label);
            out.push_str("</sup></mark>");
        }
        (false, false) => out.push_str("</span>"),
    }
}

/// The copy's body as Markdown for the HTML renderer, and where headings with ids start.
fn html_markdown(copy: &Copy) -> (String, Vec<(usize, String)>) {
    // The source text plus the tags written in: room for the text at least.
    let text_len: usize = copy
        .pieces
        .iter()
        .map(|p| match p {
            Piece::Text(text) => text.len(),
            _ => 0,
        })
        .sum();
    let mut out = String::with_capacity(text_len + text_len / 8);
    let mut heading_ids = Vec::new();
    for piece in &copy.pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::HeadingAttrs(_) => {}
            Piece::HeadingStart(id) => heading_ids.push((out.len(), id.to_string())),
            // An HTML block runs until a blank line, so one must follow it unless its
            // container ends.
            Piece::Marker { label, placement } => match placement {
                Some(p) => place_block_with(&mut out, p, p.html_blank_after, |out| {
                    push_marker_html(out, label, true)
                }),
                None => push_marker_html(&mut out, label, false),
            },
            Piece::Open(p) => match (p.form, p.placement) {
                (Form::Span, _) | (_, None) => push_open_html(&mut out, p),
                (Form::Div, Some(place)) => {
                    place_block_with(&mut out, place, false, |out| push_open_html(out, p));
                    out.push('\n');
                    out.push_str(place.prefix.trim_end());
                }
                (Form::Heading, Some(place)) => {
                    place_block_with(&mut out, place, false, |out| push_open_html(out, p));
                    out.push('\n');
                    out.push_str(place.prefix.trim_end());
                    out.push('\n');
                    out.push_str(&place.prefix);
                }
            },
            Piece::Close(p) => match (p.form, p.placement) {
                (Form::Span, _) | (_, None) => push_close_html(&mut out, p),
                (Form::Div, Some(place)) => {
                    out.push('\n');
                    out.push_str(&place.prefix);
                    push_close_html(&mut out, p);
                    out.push('\n');
                    out.push_str(place.prefix.trim_end());
                }
                (Form::Heading, Some(place)) => {
                    out.push('\n');
                    out.push_str(place.prefix.trim_end());
                    out.push('\n');
                    out.push_str(&place.prefix);
                    push_close_html(&mut out, p);
                    out.push('\n');
                    out.push_str(place.prefix.trim_end());
                }
            },
        }
    }
    (out, heading_ids)
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
            // Only a destination holding `.md` can name a paper (`html_link` needs it).
            dest_url: dest_url
                .contains(".md")
                .then(|| crate::assets::html_link(&dest_url))
                .flatten()
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

    /// The Markdown the page's body is rendered from (the copy with its highlighting and
    /// markers written as HTML): what a raw render of this page would read, for the bench.
    #[doc(hidden)]
    pub fn markdown(&self) -> &str {
        &self.markdown
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
    use super::{Templates, audit_split, body_streams};

    #[test]
    fn the_default_audit_template_streams_entries_comments_and_hunks() {
        let (frame, loops) = audit_split(include_str!("../templates/audit.html")).expect("streams");
        let lists: Vec<&str> = loops.iter().map(|l| l.0).collect();
        assert_eq!(lists, ["entries", "comments", "hunks"]);
        assert!(!frame.contains("{%- for e in entries"));
    }

    /// A loop whose output depends on where a row falls in the whole list, or a list used
    /// other than as a test of whether it has rows, is rendered with the whole template.
    #[test]
    fn an_audit_loop_that_cannot_be_chunked_is_rendered_whole() {
        let streams = |t: &str| audit_split(t).map(|(_, l)| l.len()).unwrap_or(0);
        assert_eq!(streams("{% for e in entries %}{{ e }}{% endfor %}"), 1);
        assert_eq!(
            streams(
                "{% if not entries %}none{% endif %}{% for e in entries %}{% for c in e.codes %}{{ loop.index }}{% endfor %}{% endfor %}"
            ),
            1
        );
        for template in [
            "{% for e in entries %}{{ loop.index }}{% endfor %}",
            "{% for e in entries %}{% if loop.last %}.{% endif %}{% endfor %}",
            "{% for e in entries %}{{ e }}{% else %}none{% endfor %}",
            "{{ entries | length }}{% for e in entries %}{{ e }}{% endfor %}",
            "{% for e in entries %}{{ entries | length }}{% endfor %}",
            "{% for e in entries %}{{ e }}{% endfor %}{% for e in entries %}{{ e }}{% endfor %}",
            "{% for e in entries | reverse %}{{ e }}{% endfor %}",
            "{% for p in proofs %}{% for e in entries %}{{ e }}{% endfor %}{% endfor %}",
            "{% set x = 1 %}{% for e in entries %}{{ x }}{% endfor %}",
            "{% include \"x.html\" %}{% for e in entries %}{{ e }}{% endfor %}",
            "{% for e in entries %}{{ e }}",
        ] {
            assert_eq!(streams(template), 0, "{template}");
        }
    }

    /// `safe` is registered again to mark a string without copying it: every kind of value
    /// prints as tera's own `safe` prints it, and a value that is not there fails as it does.
    #[test]
    fn safe_prints_what_tera_s_own_safe_prints() {
        use tera::{Context, Tera};
        let template = "{{ s | safe }}|{{ e | safe }}|{{ n | safe }}|{{ f | safe }}|\
                        {{ b | safe }}|{{ l | safe }}|{{ m | safe }}|{{ z | safe }}|{{ s }}";
        let mut context = Context::new();
        context.insert("s", "<b>Q&A</b> 'x' \"y\" and a longer tail of text");
        context.insert("e", "");
        context.insert("n", &42);
        context.insert("f", &1.5);
        context.insert("b", &true);
        context.insert("l", &["<i>", "&"]);
        context.insert("m", &std::collections::BTreeMap::from([("k", "<v>")]));
        context.insert("z", &None::<u8>);
        let mut own = Tera::new();
        own.autoescape_on([".html"]);
        let ours = Templates::from_files(
            &[
                ("t.html", template.to_string()),
                ("u.html", "{{ missing | safe }}".to_string()),
            ],
            None,
        )
        .expect("templates");
        own.add_raw_template("t.html", template).expect("template");
        own.add_raw_template("u.html", "{{ missing | safe }}")
            .expect("template");
        let page = ours.render("t.html", &context).expect("renders");
        assert!(page.starts_with("<b>Q&A</b> 'x'"), "{page}");
        assert_eq!(page, own.render("t.html", &context).expect("renders"));
        assert_eq!(
            ours.render("u.html", &context).is_ok(),
            own.render("u.html", &context).is_ok()
        );
    }

    /// A frame holding the body's stand-in twice (a template printing it literally) is
    /// rendered whole, the body in the template's own place: the search for the stand-in
    /// must see every copy of it.
    #[test]
    fn a_frame_holding_the_body_stand_in_twice_is_rendered_whole() {
        use super::{BODY_SENTINEL, DEFAULT_TEMPLATES, PAGE_TEMPLATE, Templates, write_html_page};
        let rules = crate::rules::Rules::embedded().expect("rules");
        let text = "---\ntitle: T\nclassification: OFFICIAL\n---\nBody words.\n";
        let paper = crate::parse::parse_paper(text, &rules).expect("parse");
        let copy = crate::redact::copy_for(&paper, text, &rules.audiences[0]);
        for page in [
            format!("<a>{BODY_SENTINEL}<b><{{{{ body | safe }}}}<c>"),
            format!("<{{{{ body | safe }}}}{BODY_SENTINEL}"),
        ] {
            let files: Vec<(&str, String)> = DEFAULT_TEMPLATES
                .iter()
                .map(|(n, t)| {
                    (
                        *n,
                        if *n == PAGE_TEMPLATE {
                            page.clone()
                        } else {
                            t.to_string()
                        },
                    )
                })
                .collect();
            let templates = Templates::from_files(&files, None).expect("templates");
            assert!(templates.page_body_streams, "{page}");
            let mut out = Vec::new();
            write_html_page(&copy, &templates, None, &mut out).expect("page");
            let want = page.replace("{{ body | safe }}", "<p>Body words.</p>\n");
            assert_eq!(String::from_utf8(out).expect("UTF-8"), want);
        }
    }

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
