//! What an attribute block says, checked against the rules: its exemption codes,
//! presentational classes, id, `reason` and `pit`. attr.rs reads the syntax; this decides
//! what each item means, and refuses an unknown class, key or bare word with a hint.

use crate::attr::AttrItem;
use crate::error::Diagnostic;
use crate::rules::{Exemption, ExemptionCode, Rules};
use crate::span::Span;

/// The codes, classes and keys of one tag, checked against the rules.
#[derive(Debug, Default)]
pub(super) struct Tagged {
    pub(super) codes: Vec<ExemptionCode>,
    pub(super) classes: Vec<String>,
    pub(super) id: Option<(String, Span)>,
    pub(super) reason: Option<String>,
    pub(super) pit: Option<String>,
}

/// `reason=` or `pit=` in a tag's text.
pub(super) fn key_like(inner: &str) -> bool {
    inner.contains("reason=") || inner.contains("pit=")
}

pub(super) fn code_like(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('s' | 'S')) && chars.next().is_some_and(|c| c.is_ascii_digit())
}

pub(super) fn class_error(rules: &Rules, class: &str, span: Span) -> Diagnostic {
    if let Some(code) = rules.suggest_code(class) {
        let message = if code_like(class) {
            format!("unknown exemption code `{class}`")
        } else {
            format!("unknown class `.{class}`")
        };
        return Diagnostic::new(span, message).hint(format!(
            "codes are exact case, as defined in rules/; did you mean `.{code}`?"
        ));
    }
    if code_like(class) {
        Diagnostic::new(span, format!("unknown exemption code `{class}`")).hint(
            "codes are defined in rules/exemptions.yaml (S21, S22, S22A, S23, S24, S26 to S44)",
        )
    } else {
        Diagnostic::new(span, format!("unknown class `.{class}`"))
            .hint("a class must be an exemption code or a presentational class that rules/ allows")
    }
}

/// [`Rules::exemption`], comparing a code's few bytes in place rather than calling out to
/// compare each: every class of every tag is read against every code.
pub(super) fn exemption<'r>(rules: &'r Rules, class: &str) -> Option<&'r Exemption> {
    let class = class.as_bytes();
    rules.exemptions.iter().find(|e| {
        let code = e.code.as_str().as_bytes();
        code.len() == class.len() && code.iter().zip(class).all(|(a, b)| a == b)
    })
}

/// What `items` say; they are taken by value, so their strings move into the result.
pub(super) fn tagged(rules: &Rules, items: Vec<(AttrItem, Span)>) -> Result<Tagged, Diagnostic> {
    let mut out = Tagged::default();
    for (item, span) in items {
        let span = &span;
        match item {
            AttrItem::Class(class) => {
                if let Some(e) = exemption(rules, &class) {
                    if !out.codes.contains(&e.code) {
                        out.codes.push(e.code.spelled_by(class));
                    }
                } else if rules.presentational.contains(&class) {
                    if !out.classes.contains(&class) {
                        out.classes.push(class);
                    }
                } else {
                    let at = Span::new(span.start + 1, span.end);
                    return Err(class_error(rules, &class, at));
                }
            }
            AttrItem::Id(id) => {
                if out.id.is_some() {
                    return Err(Diagnostic::new(*span, "two ids in one attribute block")
                        .hint("a redaction has at most one `#id`"));
                }
                out.id = Some((id, Span::new(span.start + 1, span.end)));
            }
            AttrItem::Pair { key, value } => {
                let slot = match &*key {
                    "reason" => &mut out.reason,
                    "pit" => &mut out.pit,
                    _ => {
                        let near = ["reason", "pit"]
                            .into_iter()
                            .find(|k| strsim::levenshtein(k, &key) <= 2);
                        let hint = match near {
                            Some(k) => format!("did you mean `{k}`?"),
                            None => "the keys are `reason` and `pit`".to_string(),
                        };
                        return Err(Diagnostic::new(
                            Span::new(span.start, span.start + key.len()),
                            format!("unknown attribute `{key}`"),
                        )
                        .hint(hint));
                    }
                };
                if slot.is_some() {
                    return Err(Diagnostic::new(*span, format!("`{key}` given twice")));
                }
                *slot = Some(value);
            }
            AttrItem::Bare(word) => {
                let hint = match rules.suggest_code(&word) {
                    Some(code) => format!("a class needs a dot: did you mean `.{code}`?"),
                    None => "attributes are `.class`, `#id` or `key=\"value\"`".to_string(),
                };
                return Err(Diagnostic::new(
                    *span,
                    format!("`{word}` in an attribute block is not a class, id or key"),
                )
                .hint(hint));
            }
        }
    }
    Ok(out)
}
