//! Positions in the text: lines (LF, CRLF and a lone CR each end one), container prefixes
//! (blockquote markers, list markers, indentation), blank lines and sorted span lists. Pure
//! arithmetic on bytes: nothing here knows what a tag is.

use crate::span::Span;

pub(super) fn line_end_of(text: &str, from: usize) -> usize {
    first_break(&text[from..]).map_or(text.len(), |n| from + n)
}

/// Where the first line break (`\n` or `\r`) in `text` is: the first `\n`, unless a `\r`
/// comes before it. Each is a `find` of one ASCII byte (memchr), and the `\r` is looked for
/// only before the `\n`, so a paper without any `\r` is not read to its end each time.
pub(super) fn first_break(text: &str) -> Option<usize> {
    let newline = text.find('\n');
    let before = &text[..newline.unwrap_or(text.len())];
    before.find('\r').or(newline)
}

/// Where the last line break (`\n` or `\r`) in `text` is: the last `\n`, unless a `\r`
/// comes after it (memrchr both ways, the `\r` only after the `\n`).
pub(super) fn last_break(text: &str) -> Option<usize> {
    let newline = text.rfind('\n');
    let after = newline.map_or(0, |n| n + 1);
    text[after..].rfind('\r').map(|n| after + n).or(newline)
}

/// Sorts and merges overlapping spans.
pub(super) fn merge(spans: impl IntoIterator<Item = Span>) -> Vec<Span> {
    let mut spans: Vec<Span> = spans.into_iter().collect();
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// Length of a line's container prefix: blockquote markers, indentation and list markers.
pub(super) fn prefix_len(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        let before = i;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'>' {
            i += 1;
            continue;
        }
        let marker_end = if i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'*') {
            Some(i + 1)
        } else {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if (1..=9).contains(&digits)
                && i + digits < bytes.len()
                && matches!(bytes[i + digits], b'.' | b')')
            {
                Some(i + digits + 1)
            } else {
                None
            }
        };
        if let Some(end) = marker_end
            && end < bytes.len()
            && (bytes[end] == b' ' || bytes[end] == b'\t')
        {
            i = end;
            continue;
        }
        if i == before {
            return i;
        }
        if i >= bytes.len() || !(bytes[i] == b' ' || bytes[i] == b'\t') {
            return i;
        }
    }
}

/// The prefix that continues a container on later lines: list markers become spaces.
pub(super) fn continuation(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| if c == '>' || c == '\t' { c } else { ' ' })
        .collect::<String>()
        .replace(|c: char| c != '>' && c != '\t', " ")
}

/// Indentation after any blockquote markers.
pub(super) fn indent_after_quotes(line: &str) -> usize {
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        match trimmed.strip_prefix('>') {
            Some(after) => rest = after.strip_prefix(' ').unwrap_or(after),
            None => break,
        }
    }
    rest.len() - rest.trim_start_matches([' ', '\t']).len()
}

pub(super) fn has_list_marker(prefix: &str) -> bool {
    prefix.chars().any(|c| c != '>' && c != ' ' && c != '\t')
}

/// Iterates the lines of `text[from..]` as (start, end-without-terminator, next-line-start).
pub(super) fn lines(text: &str, from: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'\n' && bytes[end] != b'\r' {
            end += 1;
        }
        let mut next = end;
        if next < bytes.len() {
            next += if bytes[next] == b'\r' && bytes.get(next + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
        }
        at = next;
        Some((start, end, next))
    })
}

pub(super) fn line_start_of(text: &str, offset: usize) -> usize {
    last_break(&text[..offset]).map_or(0, |n| n + 1)
}

pub(super) fn is_blank(line: &str) -> bool {
    line.chars().all(|c| c == '>' || c == ' ' || c == '\t')
}

/// The first word of `text` (up to the first `separator`), or, if that word is longer than
/// `chars`, its first `chars + 1` characters: enough to tell it is no code, without reading a
/// word as long as the line.
pub(super) fn word_prefix(text: &str, separator: impl Fn(char) -> bool, chars: usize) -> &str {
    let end = text
        .char_indices()
        .enumerate()
        .find(|&(n, (_, c))| n > chars || separator(c))
        .map_or(text.len(), |(_, (k, _))| k);
    &text[..end]
}

/// The line ending a paper uses: the first one in it.
pub fn newline_of(text: &str) -> &'static str {
    match first_break(text) {
        Some(i) if text[i..].starts_with("\r\n") => "\r\n",
        Some(i) if text[i..].starts_with('\r') => "\r",
        _ => "\n",
    }
}

pub(super) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{202a}'..='\u{202e}'
    )
}

/// Moves `end` back over blank lines so a section stops at its last line of content, never
/// before `floor`.
pub(super) fn trim_back(text: &str, mut end: usize, floor: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        if end <= floor {
            return floor;
        }
        let prev = bytes[end - 1];
        if prev != b'\n' && prev != b'\r' {
            // Mid-line: drop trailing container markers and spaces on this line.
            let line_start = line_start_of(text, end);
            if is_blank(&text[line_start..end]) && line_start > floor {
                end = line_start;
                continue;
            }
            return end;
        }
        let mut line_end = end - 1;
        if prev == b'\n' && line_end > 0 && bytes[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line_start = line_start_of(text, line_end);
        if line_start > floor && is_blank(&text[line_start..line_end]) {
            end = line_start;
            continue;
        }
        return line_end.max(floor);
    }
}

/// The first byte of `bytes` for which `byte` holds, read eight bytes at a time: most of a
/// paper is ASCII prose holding none, so only a word that `word` says may hold one (it must
/// never miss one; read as a little-endian `u64`) is read byte by byte.
pub(super) fn find_by_word(
    bytes: &[u8],
    word: impl Fn(u64) -> bool,
    byte: impl Fn(u8) -> bool,
) -> Option<usize> {
    let (words, rest) = bytes.as_chunks::<8>();
    for (n, chunk) in words.iter().enumerate() {
        if word(u64::from_le_bytes(*chunk))
            && let Some(k) = chunk.iter().position(|&b| byte(b))
        {
            return Some(n * 8 + k);
        }
    }
    rest.iter()
        .position(|&b| byte(b))
        .map(|k| words.len() * 8 + k)
}
