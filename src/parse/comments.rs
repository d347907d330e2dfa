//! HTML comments as CommonMark reads them: the comments inside an HTML block (a type 2 block
//! is one), found as an HTML reader finds them, and a `<!--` left open at the end. Inline
//! comments are pulldown-cmark's inline HTML events; nothing here searches text for `<!--`
//! to decide what is a comment. How each comment then leaves a copy is decided in `cuts.rs`.

use super::Body;
use crate::error::Diagnostic;
use crate::span::Span;

/// The HTML comments in an HTML block, as an HTML reader finds them: `<!--` outside a tag
/// (a quoted attribute value holding `<!--` is part of the value) up to the first `-->`.
pub(super) fn block_comments(
    text: &str,
    block: Span,
    out: &mut Vec<Span>,
) -> Result<(), Diagnostic> {
    let bytes = text.as_bytes();
    let end = block.end.min(text.len());
    let mut i = block.start;
    while i < end {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        if text[i..end].starts_with("<!--") {
            // `<!-->` and `<!--->` are comments too: look for `-->` from the second `-`.
            let Some(n) = text[i + 2..end].find("-->") else {
                return Err(never_closed(i));
            };
            let close = i + 2 + n + 3;
            out.push(Span::new(i, close));
            i = close;
            continue;
        }
        if bytes
            .get(i + 1)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/')
        {
            // A tag: its quoted values are read whole, so a `<!--` in one is not a comment.
            i += 1;
            let mut quote = None;
            while i < end {
                let c = bytes[i];
                i += 1;
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    None if c == b'>' => break,
                    None => {}
                }
            }
            continue;
        }
        i += 1;
    }
    Ok(())
}

fn never_closed(at: usize) -> Diagnostic {
    Diagnostic::new(Span::new(at, at + 4), "HTML comment is never closed")
        .hint("close it with `-->`; everything after an open comment would be hidden")
}

/// A `<!--` that nothing closes, outside code and comments and not escaped: an error, since
/// another reader of the copy could take it for a comment hiding the rest of the paper.
pub(super) fn unclosed_comment(
    text: &str,
    body_start: usize,
    body: &Body,
) -> Result<(), Diagnostic> {
    // Only what follows the last `-->` can be left open.
    let from = last_comment_end(&text[body_start..]).map_or(body_start, |n| body_start + n);
    // In a link (its destination) or raw HTML (a quoted value) it is text, not a comment.
    let in_link = |at: usize| {
        body.links
            .range(..=at)
            .next_back()
            .is_some_and(|(_, (end, _))| at < *end)
    };
    let open = comment_opens(text, from).find(|&at| {
        !escaped(text, at)
            && !Body::in_any(&body.code, at)
            && !Body::in_any(&body.html, at)
            && !in_link(at)
    });
    match open {
        Some(at) => Err(never_closed(at)),
        None => Ok(()),
    }
}

/// Where each `<!--` in `text[from..]` starts (memmem, not `<` to `<`: raw HTML after the
/// last comment has many `<`). `<!--` holds one `<`, its first byte, so no two overlap and
/// none is missed.
pub(super) fn comment_opens(text: &str, from: usize) -> impl Iterator<Item = usize> + '_ {
    memchr::memmem::find_iter(&text.as_bytes()[from..], b"<!--").map(move |n| from + n)
}

/// Where the last `-->` in `text` ends: the last of a forward memmem search (SIMD), since
/// jumping from `>` to `>` backwards stopped at every blockquote marker and memmem's backward
/// search is no SIMD search. `-->` cannot overlap itself (no proper prefix of it is also a
/// suffix), so the forward search finds every one, the last included.
pub(super) fn last_comment_end(text: &str) -> Option<usize> {
    memchr::memmem::find_iter(text.as_bytes(), b"-->")
        .last()
        .map(|n| n + 3)
}

/// Whether the byte at `at` is escaped by an odd run of backslashes before it.
pub(super) fn escaped(text: &str, at: usize) -> bool {
    text.as_bytes()[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}
