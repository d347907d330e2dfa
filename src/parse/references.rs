//! Footnote and link reference definitions, and where each is used. The pulldown-cmark
//! pass reports both; they are matched here by label as CommonMark matches them
//! (case-folded, white space collapsed), the first definition of a label winning. The model
//! then decides which go with withheld text: a definition whose every use is withheld is
//! withheld too, so this step must never miss a use (a missed use would withhold a definition
//! that public text still cites) nor invent one (which would publish it).

use std::collections::HashMap;

use crate::model::Reference;
use crate::span::Span;

/// Definitions and uses gathered during the pass, matched once it is over.
#[derive(Default)]
pub(super) struct References {
    /// (footnote, label as matched) → index in `list`.
    defined: HashMap<(bool, String), usize>,
    /// Uses seen, with where each starts.
    used: Vec<((bool, String), usize)>,
    list: Vec<Reference>,
}

impl References {
    /// A definition; a later one with the same label is ignored, as CommonMark does.
    pub(super) fn define(&mut self, footnote: bool, label: &str, span: Span) {
        let list = &mut self.list;
        self.defined
            .entry((footnote, label_key(label)))
            .or_insert_with(|| {
                list.push(Reference {
                    footnote,
                    label: label.to_string(),
                    span,
                    uses: Vec::new(),
                });
                list.len() - 1
            });
    }

    /// A use of `label` starting at `at` (`[^note]`, `[text][label]`).
    pub(super) fn used(&mut self, footnote: bool, label: &str, at: usize) {
        self.used.push(((footnote, label_key(label)), at));
    }

    /// Every definition with its uses, in document order.
    pub(super) fn matched(mut self) -> Vec<Reference> {
        for (key, at) in self.used {
            if let Some(&k) = self.defined.get(&key) {
                self.list[k].uses.push(at);
            }
        }
        self.list.sort_by_key(|r| r.span.start);
        self.list
    }
}

/// A reference label as CommonMark matches it: case-folded, white space collapsed.
fn label_key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
