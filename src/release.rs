//! The files of a release besides each paper's copies: every audience's index and, with
//! `--request`, the refusal notice in each scheduled audience's `_notices/` folder. Built
//! after the papers, from what is in place, and written together.

use std::path::Path;

use crate::error::Error;
use crate::index::{Listed, index_outputs};
use crate::notice::{notice_stem, notices};
use crate::pdf::PdfMeta;
use crate::render::Templates;
use crate::rules::{Rules, Test};
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
    let mut out = out;
    for notice in
        notices(input.listed, input.rules, input.templates, input.release).map_err(fail)?
    {
        let with = |ext: &str| {
            let mut path = notice.stem.clone().into_os_string();
            path.push(format!(".{ext}"));
            std::path::PathBuf::from(path)
        };
        if let Some(chromium) = input.chromium {
            let meta = PdfMeta {
                title: notice.title.clone(),
                author: None,
                subject: notice.marking.clone(),
                date: input.release.date.clone(),
            };
            let pdf = crate::pdf::print(chromium, &notice.html, &meta).map_err(fail)?;
            out.push(Output {
                relative: with("pdf"),
                bytes: pdf,
            });
        }
        out.push(Output {
            relative: with("md"),
            bytes: notice.markdown.into_bytes(),
        });
        out.push(Output {
            relative: with("html"),
            bytes: notice.html.into_bytes(),
        });
    }
    // Two release files of one name (a notice under an index's name, say) would overwrite one
    // another: refuse before writing either.
    let mut seen = std::collections::BTreeSet::new();
    for o in &out {
        if !seen.insert(o.relative.clone()) {
            return Err(Error::path(
                &o.relative,
                "two release files would have this name; choose another request reference",
            ));
        }
    }
    Ok(out)
}

/// Checks before anything is built that the request reference can name the notices' files
/// and that every qualified exemption a notice could rely on has its public interest
/// paragraph, so a release is never written without its notice.
pub fn check_request(rules: &Rules, release: &Release) -> Result<(), Error> {
    let Some(request) = &release.request else {
        return Ok(());
    };
    for audience in rules.audiences.iter().filter(|a| a.schedule) {
        notice_stem(&audience.name, request).map_err(Error::Usage)?;
        for code in &audience.withholds {
            let Some(e) = rules.exemption(code.as_str()) else {
                continue;
            };
            if e.test == Test::Qualified
                && e.pit.is_none()
                && !rules.notice.public_interest.contains_key(code.as_str())
            {
                return Err(Error::Usage(format!(
                    "the refusal notice for audience `{}` may rely on {code}, a qualified exemption, but rules/notice.yaml gives no `public_interest` paragraph for it (nor rules/exemptions.yaml a `pit`)",
                    audience.name
                )));
            }
        }
    }
    Ok(())
}
