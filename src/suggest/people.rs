//! `rules/people.yaml`: people whose names may be published in their public role. Each entry
//! lists every written form of the name it covers; a suggested name is silenced only by an
//! exact form (after case, spacing and NFKC), so a different "J. Smith" is still suggested.
//! Takes the file's text, gives [`People`] or an error located in the file.
//!
//! ```yaml
//! people:
//!   - name: Aled Pryce-Whitcombe
//!     role: Portfolio Chief of Staff, NPCC SOC Coordination Portfolio
//!     forms:
//!       - Aled Pryce-Whitcombe
//!       - Ch Supt Aled Pryce-Whitcombe
//!       - A. Pryce-Whitcombe
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::recognise::{Hit, normalise_name};
use super::value_span;
use crate::error::{Diagnostic, Error};
use crate::yaml::from_yaml;

/// Public figures, by every written form of their names.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub path: PathBuf,
    forms: HashSet<String>,
    /// Each entry's name, in file order.
    pub names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleFile {
    #[serde(default)]
    people: Vec<PersonEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonEntry {
    name: Spanned<String>,
    #[serde(default)]
    role: Option<Spanned<String>>,
    #[serde(default)]
    forms: Vec<Spanned<String>>,
}

impl People {
    /// Parses and validates `people.yaml`; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<People, Error> {
        let located = |diagnostic| Error::source(path, text, diagnostic);
        let mut people = People {
            path: path.to_path_buf(),
            ..People::default()
        };
        let only_comments = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if only_comments {
            return Ok(people);
        }
        let file: PeopleFile = from_yaml(text, 0).map_err(located)?;
        for entry in file.people {
            let name = entry.name.value.trim().to_string();
            let at = value_span(text, &entry.name);
            if name.is_empty() {
                return Err(located(Diagnostic::new(at, "a person's `name` is empty")));
            }
            if entry
                .role
                .as_ref()
                .is_none_or(|r| r.value.trim().is_empty())
            {
                return Err(located(
                    Diagnostic::new(at, format!("`{name}` has no `role`"))
                        .hint("say the public role in which the name may be published"),
                ));
            }
            if entry.forms.is_empty() {
                return Err(located(
                    Diagnostic::new(at, format!("`{name}` lists no `forms`"))
                        .hint("list each written form the entry covers, initials and titles included: nothing else matches"),
                ));
            }
            for form in &entry.forms {
                let normal = normalise_name(&form.value);
                if normal.is_empty() {
                    return Err(located(Diagnostic::new(
                        value_span(text, form),
                        format!("`{name}` has an empty form"),
                    )));
                }
                people.forms.insert(normal);
            }
            people.names.push(name);
        }
        Ok(people)
    }

    /// The entry covers this name as written (with its title, or without).
    pub fn covers(&self, hit: &Hit, written: &str) -> bool {
        self.forms.contains(&hit.value) || self.forms.contains(&normalise_name(written))
    }
}
