//! The files of a release besides each paper's copies: every audience's index and, with
//! `--request`, the refusal notice in each scheduled audience's `_notices/` folder. Built
//! after the papers, from what is in place, and written together.

use std::path::Path;

use crate::error::Error;
use crate::index::{Listed, index_outputs};
use crate::render::Templates;
use crate::rules::Rules;
use crate::schedule::Release;
use crate::source::load_index_template;
use crate::write::Output;

/// What the release files are made from.
pub struct ReleaseInput<'a> {
    /// Papers whose copies are in place, in the walk's order.
    pub listed: &'a [Listed],
    pub rules: &'a Rules,
    pub templates: &'a Templates,
    pub release: &'a Release,
    /// Set with `--pdf`: the notice is printed too.
    pub chromium: Option<&'a Path>,
}

/// Every release file, in memory (they are small), or the reason none can be written.
pub fn release_outputs(input: &ReleaseInput) -> Result<Vec<Output>, Error> {
    let template = load_index_template(input.templates)?;
    let fail = |message: String| Error::Usage(message);
    let out = index_outputs(
        input.listed,
        input.rules,
        &template,
        input.chromium.is_some(),
    )
    .map_err(fail)?;
    Ok(out)
}
