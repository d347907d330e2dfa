//! YAML through serde-saphyr (strict: duplicate keys are errors, budgets guard against hostile
//! documents), with its errors turned into [`Diagnostic`]s located in the enclosing file.

use serde::de::DeserializeOwned;

use crate::error::Diagnostic;
use crate::span::{LineIndex, Span};

/// Deserializes `yaml`, which starts at byte `base` of the file it came from.
pub(crate) fn from_yaml<T: DeserializeOwned>(yaml: &str, base: usize) -> Result<T, Diagnostic> {
    serde_saphyr::from_str::<T>(yaml).map_err(|err| {
        let offset = err
            .location()
            .map(|location| {
                location
                    .span()
                    .byte_offset()
                    .map(|b| b as usize)
                    .unwrap_or_else(|| {
                        offset_of(yaml, location.line() as usize, location.column() as usize)
                    })
            })
            .unwrap_or(0)
            .min(yaml.len());
        let message = err.without_snippet().to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .trim()
            .to_string();
        let end = yaml[offset..]
            .find(['\n', '\r', ':'])
            .map(|n| offset + n)
            .unwrap_or(yaml.len())
            .max(offset + 1)
            .min(yaml.len().max(offset));
        Diagnostic::new(Span::new(base + offset, base + end), message)
    })
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let index = LineIndex::new(text);
    let start = index.line_start(line.max(1)).min(text.len());
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| start + i)
        .unwrap_or(start)
}
