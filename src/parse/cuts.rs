//! How each HTML comment leaves a copy. Removing one must change nothing else, so where a
//! bare cut would (a space left trailing, a line left blank, two lists joined, a link or tag
//! made of the characters either side) the cut takes the space or line with it or leaves a
//! stand-in; where nothing can, the paper is refused at the comment.

use super::Body;
use super::body::BlockKind;
use super::comments::escaped;
use crate::error::Diagnostic;
use crate::model::CommentCut;
use crate::span::Span;

/// How each of `body.comments` leaves a copy, in the same order. The copy must read as the
/// source does with the comment gone, so the cut is the comment alone unless that would change
/// something around it:
/// - inline, between text and the end of its line or cell: the space before it would be
///   stripped (or, with another, make a hard break), so it becomes `&#32;` (a tab `&#9;`);
///   likewise the space after one that opens a line or cell;
/// - inline, alone on its line: the line would be blank and end the paragraph, so the line goes
///   and its break stays as `&#10;`;
/// - alone on its line inside an HTML block it does not open: the blank line left would end the
///   block, so the line goes with it;
/// - a block of comments only, after a list, footnote or indented code that what follows would
///   continue once the block is blank: `[//]: #`, a link definition nothing uses, which renders
///   nothing yet ends what came before as the comment did.
///
/// Refused: text after a comment that opens an HTML block (the text is raw HTML there and
/// would become Markdown), and the cases above where the stand-in cannot sit.
pub(super) fn cuts(text: &str, body: &Body) -> Result<Vec<CommentCut>, Diagnostic> {
    let mut out = Vec::with_capacity(body.comments.len());
    for &comment in &body.comments {
        let n = body
            .html_blocks
            .partition_point(|b| b.start <= comment.start);
        let block = n
            .checked_sub(1)
            .map(|k| body.html_blocks[k])
            .filter(|b| b.encloses(comment));
        out.push(match block {
            None => inline_cut(text, &body.comments, comment)?,
            Some(block) => block_cut(text, body, block, comment)?,
        });
    }
    Ok(out)
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_eol(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

fn line_start(text: &str, at: usize) -> usize {
    text.as_bytes()[..at]
        .iter()
        .rposition(|&b| is_eol(b))
        .map_or(0, |i| i + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text.as_bytes()[at..]
        .iter()
        .position(|&b| is_eol(b))
        .map_or(text.len(), |i| at + i)
}

/// Where the line break before the line holding `at` starts (a CRLF whole), if there is one.
fn previous_break(text: &str, at: usize) -> Option<usize> {
    let start = line_start(text, at).checked_sub(1)?;
    let bytes = text.as_bytes();
    Some(
        if bytes[start] == b'\n' && start > 0 && bytes[start - 1] == b'\r' {
            start - 1
        } else {
            start
        },
    )
}

/// Where the line after the one holding `at` starts, if there is one.
fn next_line(text: &str, at: usize) -> Option<usize> {
    let end = line_end(text, at);
    let bytes = text.as_bytes();
    match bytes.get(end)? {
        b'\r' if bytes.get(end + 1) == Some(&b'\n') => Some(end + 2),
        _ => Some(end + 1),
    }
}

/// Whether the line starting at `start` holds nothing but blockquote markers and whitespace.
fn blank_line(text: &str, start: usize) -> bool {
    text[start..line_end(text, start)]
        .bytes()
        .all(|b| is_space(b) || b == b'>')
}

fn entity(b: u8) -> &'static str {
    if b == b'\t' { "&#9;" } else { "&#32;" }
}

fn comment_ending_at(comments: &[Span], at: usize) -> Option<Span> {
    let k = comments.partition_point(|c| c.end < at);
    comments.get(k).copied().filter(|c| c.end == at)
}

fn comment_starting_at(comments: &[Span], at: usize) -> Option<Span> {
    let k = comments.partition_point(|c| c.start < at);
    comments.get(k).copied().filter(|c| c.start == at)
}

/// What lies beside a comment once whitespace and other comments are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Text on the same line: whitespace next to the comment stays inside the line.
    Text,
    /// The line's start or end: whitespace there is stripped.
    Line,
    /// A table cell's edge or a heading's `#`s: whitespace there is stripped too.
    Edge,
}

fn inline_cut(text: &str, comments: &[Span], c: Span) -> Result<CommentCut, Diagnostic> {
    let bytes = text.as_bytes();
    let mut i = c.start;
    let mut first_on_line = true;
    loop {
        while i > 0 && is_space(bytes[i - 1]) {
            i -= 1;
        }
        match comment_ending_at(comments, i) {
            Some(p) if p.start < i => {
                i = p.start;
                first_on_line = false;
            }
            _ => break,
        }
    }
    let before = if i == 0 || is_eol(bytes[i - 1]) {
        Side::Line
    } else if (bytes[i - 1] == b'|' && !escaped(text, i - 1)) || atx_opening(text, i) {
        Side::Edge
    } else {
        Side::Text
    };
    let mut j = c.end;
    loop {
        while j < bytes.len() && is_space(bytes[j]) {
            j += 1;
        }
        match comment_starting_at(comments, j) {
            Some(n) if n.end > j => j = n.end,
            _ => break,
        }
    }
    let after = if j == bytes.len() || is_eol(bytes[j]) {
        Side::Line
    } else if (bytes[j] == b'|' && !escaped(text, j)) || atx_closing(text, j) {
        Side::Edge
    } else {
        Side::Text
    };
    let prev = c
        .start
        .checked_sub(1)
        .map(|k| bytes[k])
        .filter(|&b| is_space(b));
    let next = bytes.get(c.end).copied().filter(|&b| is_space(b));
    let plain = CommentCut {
        span: c,
        replacement: "",
    };
    // The characters the cut brings together, past any comments that abut this one.
    let mut from = c.start;
    while let Some(p) = comment_ending_at(comments, from).filter(|p| p.start < from) {
        from = p.start;
    }
    let mut to = c.end;
    while let Some(n) = comment_starting_at(comments, to).filter(|n| n.end > to) {
        to = n.end;
    }
    if from > 0
        && let Some(&next) = bytes.get(to)
        && joins(&text[..from], next)
    {
        return Err(Diagnostic::new(
            Span::new(c.start, c.start + 4),
            format!(
                "removing this comment would join `{}` and `{}`, which could make Markdown or \
                 HTML the source does not have",
                text[..from].chars().next_back().unwrap_or_default(),
                text[to..].chars().next().unwrap_or_default()
            ),
        )
        .hint("put a space between the comment and the text on one side of it"));
    }
    Ok(match (before, after) {
        (Side::Text, Side::Line | Side::Edge) => match prev {
            Some(b) => CommentCut {
                span: Span::new(c.start - 1, c.end),
                replacement: entity(b),
            },
            None => plain,
        },
        (Side::Line | Side::Edge, Side::Text) => match next {
            Some(b) => CommentCut {
                span: Span::new(c.start, c.end + 1),
                replacement: entity(b),
            },
            None => plain,
        },
        (Side::Line, Side::Line) if first_on_line => {
            // Inside a paragraph (a line indented too far to start a block): the line goes,
            // its break kept as text so the paragraph reads the same.
            let Some(from) = previous_break(text, c.start) else {
                return Ok(plain);
            };
            let line_before = &text[line_start(text, from)..from];
            if line_before.ends_with("  ") || line_before.ends_with('\\') {
                return Err(Diagnostic::new(
                    Span::new(c.start, c.start + 4),
                    "removing this comment would undo the line break before it",
                )
                .hint("move the comment to the end of the line before, after its text"));
            }
            CommentCut {
                span: Span::new(from, j),
                replacement: "&#10;",
            }
        }
        _ => plain,
    })
}

/// Whether a comment cut from between `before` and `after`, with no space on either side,
/// could let them form syntax the source does not have: a link (`]` `(`), an image, an escape,
/// an entity (`&amp` `;`), raw HTML or an autolink (`<` `b>`), an attribute block, a longer
/// backtick run, a delimiter run whose flanking changes, a thematic break (`-` `--`). Any ASCII
/// punctuation but the few that start nothing counts: a space beside the comment costs the
/// author nothing, and a cut that made new syntax would publish what nobody wrote.
fn joins(before_text: &str, after: u8) -> bool {
    let Some(&before) = before_text.as_bytes().last() else {
        return false;
    };
    let blank = |b: u8| is_space(b) || is_eol(b);
    let syntax = |b: u8| b.is_ascii_punctuation() && !matches!(b, b',' | b'?' | b'"' | b'\'');
    if blank(before) || blank(after) || !(syntax(before) || syntax(after)) {
        return false;
    }
    // A word's end then `.`, `)` or `!` (`the annex<!-- todo -->.`) starts nothing: only an
    // autolink or tag opened earlier in the word could take them in, so those still count.
    let word = before_text
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default();
    let ends_in_letter =
        (before.is_ascii_alphabetic() || !before.is_ascii()) && !word.contains('<');
    !(ends_in_letter && matches!(after, b'.' | b')' | b'!'))
}

/// Whether `at` follows an ATX heading's opening `#`s (and nothing but indentation before).
fn atx_opening(text: &str, at: usize) -> bool {
    let line = &text[line_start(text, at)..at];
    let rest = line.trim_start_matches([' ', '\t', '>']);
    !rest.is_empty() && rest.len() <= 6 && rest.bytes().all(|b| b == b'#')
}

/// Whether `at` starts a run of `#`s that ends its line (a heading's closing sequence).
fn atx_closing(text: &str, at: usize) -> bool {
    let end = line_end(text, at);
    let rest = &text[at..end];
    rest.starts_with('#') && rest.trim_start_matches('#').bytes().all(is_space)
}

fn block_cut(text: &str, body: &Body, block: Span, c: Span) -> Result<CommentCut, Diagnostic> {
    let plain = CommentCut {
        span: c,
        replacement: "",
    };
    if text[block.start..c.start].bytes().all(is_space) {
        return opening_cut(text, body, block, c);
    }
    // Inside a block an opening tag started, which runs to a blank line: a line the comment
    // leaves blank would end it early, so a comment alone on its line takes the line with it.
    let start = line_start(text, c.start);
    if start <= block.start {
        return Ok(plain);
    }
    let quoted = text[line_start(text, block.start)..block.start].contains('>');
    let alone_before = text[start..c.start]
        .bytes()
        .all(|b| is_space(b) || (quoted && b == b'>'));
    let bytes = text.as_bytes();
    let mut j = c.end;
    loop {
        while j < block.end && is_space(bytes[j]) {
            j += 1;
        }
        match comment_starting_at(&body.comments, j) {
            Some(n) if n.end > j => j = n.end,
            _ => break,
        }
    }
    // At the end of the file a blank last line ends nothing: the comment alone goes.
    let alone_after = j < bytes.len() && is_eol(bytes[j]);
    match previous_break(text, c.start) {
        Some(from) if alone_before && alone_after && from >= block.start => Ok(CommentCut {
            span: Span::new(from, j),
            replacement: "",
        }),
        _ => Ok(plain),
    }
}

/// A comment that opens an HTML block (CommonMark's type 2, which ends on the line where the
/// first comment closes).
fn opening_cut(text: &str, body: &Body, block: Span, c: Span) -> Result<CommentCut, Diagnostic> {
    let plain = CommentCut {
        span: c,
        replacement: "",
    };
    let bytes = text.as_bytes();
    let mut j = c.end;
    loop {
        while j < bytes.len() && is_space(bytes[j]) {
            j += 1;
        }
        match comment_starting_at(&body.comments, j) {
            Some(n) if n.end > j => j = n.end,
            _ => break,
        }
    }
    let at = Span::new(c.start, c.start + 4);
    if j < bytes.len() && !is_eol(bytes[j]) {
        return Err(Diagnostic::new(
            at,
            "text after a comment that starts a line is read as raw HTML, and as Markdown once the comment is removed",
        )
        .hint("put the comment after the text (`text <!-- note -->`), or on a line of its own"));
    }
    // A block of comments only, which the copies leave as a blank line.
    let Some(me) = block_index(body, block) else {
        return Ok(plain);
    };
    let parent = body.blocks[me].parent;
    // Siblings around it, past other blocks of comments only (the copies leave those blank too).
    let vanishes = |k: usize| comments_only(text, body, body.blocks[k].span);
    let previous = (0..me)
        .rev()
        .take_while(|&k| Some(k) != parent)
        .find(|&k| body.blocks[k].parent == parent && !vanishes(k));
    let end_of_parent = parent.map_or(usize::MAX, |p| body.blocks[p].span.end);
    let next = (me + 1..body.blocks.len())
        .take_while(|&k| body.blocks[k].span.start < end_of_parent)
        .find(|&k| body.blocks[k].parent == parent && !vanishes(k));
    let blank_before =
        previous_break(text, c.start).is_some_and(|b| blank_line(text, line_start(text, b)));
    let after = next_line(text, j);
    let blank_after = after.is_none_or(|n| blank_line(text, n));
    let column = c.start - line_start(text, c.start);
    let indented_at = |start: usize| {
        text.as_bytes()[start..line_end(text, start)]
            .get(column)
            .is_some_and(|&b| is_space(b))
    };
    // In a tight list item (pulldown-cmark reads a comment line under an item's text as a block
    // of the item), the blank line left would make the list loose.
    let item = parent.filter(|&p| {
        body.blocks[p].kind == BlockKind::Container
            && list_marker(text, body.blocks[p].span.start).is_some()
            && line_start(text, c.start) > body.blocks[p].span.start
    });
    if item.is_some() && !blank_before && !blank_after {
        // The next line goes on in the item (indented as far as the comment) or the list.
        let continues_item = after.is_some_and(|n| {
            text[n..line_end(text, n)]
                .bytes()
                .take(column + 1)
                .position(|b| !is_space(b) && b != b'>')
                .is_none_or(|k| k >= column)
                || list_marker(text, n).is_some()
        });
        if continues_item {
            return Err(Diagnostic::new(
                at,
                "removing this comment would leave a blank line that makes its list loose",
            )
            .hint("put a blank line before and after the comment, or move it to the end of a line of text"));
        }
    }
    // In a list item, a blank line between this block and the item's only other block is what
    // makes the list loose: without a block here the list would read tight. The stand-in is a
    // block of its own and keeps it loose.
    let in_item = parent.filter(|&p| {
        body.blocks[p].kind == BlockKind::Container
            && list_marker(text, body.blocks[p].span.start).is_some()
    });
    let at_item_start =
        in_item.is_some_and(|p| line_start(text, c.start) <= body.blocks[p].span.start);
    let loosens = in_item.is_some()
        && ((blank_before && previous.is_some() && next.is_none())
            || (blank_after && next.is_some() && previous.is_none()));
    if loosens {
        // Not where the line before or after would read as part of it.
        if (blank_before || at_item_start) && blank_after && !uses_stand_in(text) {
            return Ok(CommentCut {
                span: c,
                replacement: STAND_IN,
            });
        }
        return Err(Diagnostic::new(
            at,
            "removing this comment would change whether its list reads loose or tight",
        )
        .hint("put a blank line before and after the comment, or move it to the end of a line of text"));
    }
    let (Some(previous), Some(next)) = (previous, next) else {
        return Ok(plain);
    };
    let indented = indented_at(line_start(text, body.blocks[next].span.start));
    let prev_block = &body.blocks[previous];
    let list = is_list(body, previous);
    let continues = if list {
        indented || {
            let ours = list_marker(text, prev_block.span.start);
            ours.is_some() && ours == list_marker(text, body.blocks[next].span.start)
        }
    } else {
        indented
            && ((prev_block.kind == BlockKind::Container
                && text[prev_block.span.start..].starts_with("[^"))
                || is_indented_code(body, prev_block.span))
    };
    if continues {
        // What came before would run on past the blank line into what follows.
        if blank_before && blank_after && !uses_stand_in(text) {
            return Ok(CommentCut {
                span: c,
                replacement: STAND_IN,
            });
        }
        return Err(Diagnostic::new(
            at,
            "removing this comment would join what comes before it to what follows (a list, footnote or indented code)",
        )
        .hint("put a blank line before and after the comment; or start the second list with another bullet (`*` for `-`, `)` for `.`), or fence the code that follows"));
    }
    Ok(plain)
}

/// Whether `span` is an HTML block holding only comments and whitespace.
fn comments_only(text: &str, body: &Body, span: Span) -> bool {
    if !Body::in_any(&body.html_blocks, span.start) {
        return false;
    }
    let bytes = text.as_bytes();
    let end = span.end.min(bytes.len());
    let mut j = span.start;
    let mut any = false;
    loop {
        while j < end && (is_space(bytes[j]) || is_eol(bytes[j])) {
            j += 1;
        }
        match comment_starting_at(&body.comments, j) {
            Some(n) if n.end > j => {
                j = n.end;
                any = true;
            }
            _ => break,
        }
    }
    any && j >= end
}

/// What stands for a block of comments that ends a list, footnote or indented code: a link
/// reference definition, which renders nothing and, like the comment, is not a lazy line.
const STAND_IN: &str = "[//]: #";

/// Whether the paper cites the label `//` (which the stand-in would then define).
fn uses_stand_in(text: &str) -> bool {
    text.match_indices('[').any(|(at, _)| {
        let rest = text[at + 1..].trim_start();
        rest.starts_with("//") && rest[2..].trim_start().starts_with(']')
    })
}

fn block_index(body: &Body, span: Span) -> Option<usize> {
    let from = body.blocks.partition_point(|b| b.span.start < span.start);
    (from..body.blocks.len())
        .take_while(|&k| body.blocks[k].span.start == span.start)
        .find(|&k| body.blocks[k].span == span)
}

/// A list's first child is an item (a container that starts where the list does).
fn is_list(body: &Body, k: usize) -> bool {
    body.blocks[k].kind == BlockKind::Other
        && body
            .blocks
            .get(k + 1)
            .is_some_and(|b| b.parent == Some(k) && b.kind == BlockKind::Container)
}

fn is_indented_code(body: &Body, span: Span) -> bool {
    Body::in_any(&body.code, span.start) && !body.fenced_code.iter().any(|f| f.encloses(span))
}

/// The kind of list marker the line from `at` opens with: its bullet, or an ordered list's
/// delimiter.
fn list_marker(text: &str, at: usize) -> Option<u8> {
    let line = text[at..line_end(text, at)].trim_start_matches([' ', '\t']);
    let bytes = line.as_bytes();
    let marker = match bytes.first()? {
        b @ (b'-' | b'+' | b'*') => *b,
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            match bytes.get(digits)? {
                b @ (b'.' | b')') if digits <= 9 => *b,
                _ => return None,
            }
        }
        _ => return None,
    };
    let width = if marker.is_ascii_punctuation() && !bytes[0].is_ascii_digit() {
        1
    } else {
        bytes.iter().take_while(|b| b.is_ascii_digit()).count() + 1
    };
    match bytes.get(width) {
        None => Some(marker),
        Some(b) if is_space(*b) => Some(marker),
        _ => None,
    }
}
