//! Byte spans into a paper as read, and the line index that turns an offset into the
//! `line:col` a person reads. Lines end at LF, CRLF or a lone CR; columns count Unicode
//! scalar values from 1, and a leading byte order mark is not counted.

use serde::Serialize;

/// A half-open byte range into the original file, front matter included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn empty(at: usize) -> Self {
        Span { start: at, end: at }
    }

    pub fn contains(&self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }

    pub fn encloses(&self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Start offsets of every line, so that `line_col` is a binary search rather than a scan.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    bom: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(line_ends(text));
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        LineIndex { starts, bom }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let mut start = self.starts[line];
        if line == 0 {
            start = start.max(self.bom).min(offset);
        }
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its terminator (and without a BOM).
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let start = if line <= 1 {
            start.max(self.bom)
        } else {
            start
        };
        let end = self.starts.get(line).copied().unwrap_or(text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset where the 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(usize::MAX)
    }
}

/// The offset just after each line ending (LF, CRLF as one, or a lone CR), in order. memchr
/// finds the breaks: lines are long next to the bytes a scan of each byte would read.
pub fn line_ends(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        // A CR followed by LF ends its line at the LF.
        .filter(move |&i| !(bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n')))
        .map(|i| i + 1)
}

/// `span` without the parts covered by `holes`.
pub fn subtract(span: Span, holes: &[Span]) -> Vec<Span> {
    let mut holes: Vec<Span> = holes
        .iter()
        .filter(|h| h.end > span.start && h.start < span.end && !h.is_empty())
        .copied()
        .collect();
    holes.sort();
    let mut out = Vec::new();
    let mut at = span.start;
    for h in holes {
        if h.start > at {
            out.push(Span::new(at, h.start));
        }
        at = at.max(h.end);
    }
    if at < span.end {
        out.push(Span::new(at, span.end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_cr_and_crlf_end_lines() {
        let text = "a\r\nb\rc\nd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 3), (2, 1));
        assert_eq!(index.line_col(text, 5), (3, 1));
        assert_eq!(index.line_col(text, 7), (4, 1));
        assert_eq!(index.line_text(text, 2), "b");
    }

    /// The line starts found by memchr are those a scan of every byte finds.
    #[test]
    fn line_starts_are_those_a_byte_scan_finds() {
        let scan = |text: &str| {
            let bytes = text.as_bytes();
            let mut starts = vec![0];
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'\n' => starts.push(i + 1),
                    b'\r' => {
                        if bytes.get(i + 1) == Some(&b'\n') {
                            i += 1;
                        }
                        starts.push(i + 1);
                    }
                    _ => {}
                }
                i += 1;
            }
            starts
        };
        let pieces = ["a", "\n", "\r", "\r\n", "é", "\n\r", "bc", "\r\r"];
        let mut rng = crate::test_rng::Lcg::new(11);
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..rng.below(12) {
                text.push_str(pieces[rng.below(pieces.len())]);
            }
            assert_eq!(LineIndex::new(&text).starts, scan(&text), "{text:?}");
        }
    }

    #[test]
    fn columns_count_scalar_values_and_skip_bom() {
        let text = "\u{feff}é\t[x";
        let index = LineIndex::new(text);
        let bracket = text.find('[').unwrap_or(0);
        assert_eq!(index.line_col(text, bracket), (1, 3));
        assert_eq!(index.line_text(text, 1), "é\t[x");
    }
}
