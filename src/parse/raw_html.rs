//! Raw HTML carries no tags: an exemption code in a `class` attribute or a `{.…}` inside
//! HTML would withhold nothing, since raw HTML passes through whole. Comments inside the
//! HTML are skipped (a tag in a comment is text, removed with the comment).

use regex::Regex;

use super::attributes::code_like;
use super::collector::Collector;
use crate::error::Diagnostic;
use crate::span::Span;

/// `class="…"` in raw HTML, compiled once: building a regex costs more than parsing a paper.
pub(super) static CLASS_ATTRIBUTE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(r#"(?i)\bclass\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))"#)
        .unwrap_or_else(|e| unreachable!("the class regex is valid: {e}"))
});

impl Collector<'_> {
    /// Raw HTML may not carry tags or exemption codes: they would not withhold anything.
    pub(super) fn raw_html(&self) -> Result<(), Diagnostic> {
        let class_re = &*CLASS_ATTRIBUTE;
        for span in &self.body.html {
            // The HTML less the comments that overlap it (comments are sorted and disjoint):
            // the stretches between them.
            let first = self.body.comments.partition_point(|c| c.end <= span.start);
            let overlapping = self.body.comments[first..]
                .iter()
                .take_while(|c| c.start < span.end);
            let mut pieces = Vec::new();
            let mut at = span.start;
            for comment in overlapping {
                if comment.start > at {
                    pieces.push(Span::new(at, comment.start));
                }
                at = at.max(comment.end);
            }
            if at < span.end {
                pieces.push(Span::new(at, span.end));
            }
            for piece in pieces {
                let html = &self.text[piece.start..piece.end];
                for caps in class_re.captures_iter(html) {
                    let value = caps.get(2).or(caps.get(3)).or(caps.get(4));
                    let Some(value) = value else { continue };
                    let mut word_at = value.start();
                    for word in value.as_str().split_whitespace() {
                        let offset = html[word_at..]
                            .find(word)
                            .map(|n| word_at + n)
                            .unwrap_or(word_at);
                        word_at = offset + word.len();
                        if self.rules.exemption(word).is_some() || code_like(word) {
                            let at = piece.start + offset;
                            return Err(Diagnostic::new(
                                Span::new(at, at + word.len()),
                                format!("exemption code `{word}` in a class inside raw HTML"),
                            )
                            .hint(
                                "raw HTML is never withheld; use `::: {.S31}` or `[text]{.S31}`",
                            ));
                        }
                    }
                }
                for (k, _) in html.match_indices('{') {
                    let after = html[k + 1..].trim_start();
                    let before = html[..k].chars().next_back();
                    if after.starts_with('.') || after.starts_with('#') || before == Some(']') {
                        let at = piece.start + k;
                        return Err(Diagnostic::new(
                            Span::new(at, at + 1),
                            "redaction tag inside raw HTML",
                        )
                        .hint("raw HTML is passed through whole; put the tag outside the HTML"));
                    }
                }
            }
        }
        Ok(())
    }
}
