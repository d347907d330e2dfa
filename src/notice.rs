//! The refusal notice under FOIA s17 for one release (`--request REF`): for each audience
//! with a schedule, `<audience>/_notices/REF.md|html`, naming the papers released and those
//! withheld in full, each exemption relied on with its section and title, the public interest
//! reasoning per qualified code from rules/ (`notice.yaml`, else the code's `pit` in
//! exemptions.yaml), the neither-confirm-nor-deny wording for combined codes, and the
//! requester's rights.
//!
//! It is made from front matter as the audience reads it, the labels its copies show and the
//! rules' wording: never from a passage, its `pit` or its `reason`, which may describe what
//! it withholds. A combined label is explained by every code shown under it, whichever
//! occurred, so nothing tells the combined codes apart.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::front_matter::FrontMatter;
use crate::index::{Listed, copy_marking, link};
use crate::redact::{Copy, Piece};
use crate::render::{PageSource, Templates};
use crate::rules::{Audience, Marking, Rules, Test};
use crate::schedule::{Release, escape_markdown, rows_for};

/// The folder notices go in, inside an audience's folder.
pub const NOTICES_FOLDER: &str = "_notices";

/// One audience's notice, ready to write.
pub struct Notice {
    /// `<audience>/_notices/REF` without extension.
    pub stem: PathBuf,
    pub markdown: String,
    pub html: String,
    pub title: String,
    pub marking: String,
}

/// Where `audience`'s notice for `request` goes (without extension), or why the reference
/// cannot name a file: it may hold `/` (a folder per part) but no empty, `.` or `..` part, no
/// part beginning with `.` and no `\`.
pub fn notice_stem(audience: &str, request: &str) -> Result<PathBuf, String> {
    let bad = || {
        format!(
            "the request reference `{request}` cannot name the notice's file: use letters, digits, `-` and `/`, with no empty, `.` or `..` part"
        )
    };
    if request.contains('\\')
        || request
            .split('/')
            .any(|p| p.is_empty() || p.starts_with('.'))
    {
        return Err(bad());
    }
    let stem = Path::new(audience).join(NOTICES_FOLDER).join(request);
    if !stem.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(bad());
    }
    Ok(stem)
}

/// Every audience's notice for `release`, or why one cannot be made (a qualified exemption
/// relied on with no public interest paragraph, a reference that cannot name a file).
pub fn notices(
    listed: &[Listed],
    rules: &Rules,
    templates: &Templates,
    release: &Release,
) -> Result<Vec<Notice>, String> {
    let Some(request) = &release.request else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for audience in rules.audiences.iter().filter(|a| a.schedule) {
        let stem = notice_stem(&audience.name, request)?;
        let depth = request.split('/').count();
        let up = "../".repeat(depth);
        let marking = notice_marking(listed, audience, rules);
        let wording = &rules.notice;
        let fill = |text: &str| {
            text.replace("{request}", request)
                .replace("{date}", release.date.as_deref().unwrap_or(""))
        };
        let front = FrontMatter {
            title: fill(&wording.title),
            classification: marking.clone(),
            date: release.date.clone(),
            reference: Some(request.clone()),
            ..FrontMatter::default()
        };
        let md_body = body(listed, audience, rules, release, &up, "md")?;
        let html_body = body(listed, audience, rules, release, &up, "html")?;
        let copy = |body: &str| -> (String, Option<PageSource>) {
            let copy = Copy {
                audience,
                marking: marking.clone(),
                front_matter: &front,
                source: None,
                pieces: vec![Piece::Text(body)],
                markers: 0,
            };
            (crate::render::markdown(&copy), Some(PageSource::new(&copy)))
        };
        let (markdown, _) = copy(&md_body);
        let (_, page) = copy(&html_body);
        let mut html = Vec::new();
        if let Some(page) = page {
            page.write(templates, None, &mut html)?;
        }
        out.push(Notice {
            stem,
            markdown,
            html: String::from_utf8(html).map_err(|e| e.to_string())?,
            title: front.title.clone(),
            marking,
        });
    }
    Ok(out)
}

/// The notice's marking: the audience's, or for one that reads papers in their own
/// classification, the highest of those listed.
fn notice_marking(listed: &[Listed], audience: &Audience, rules: &Rules) -> String {
    match &audience.marking {
        Marking::Fixed(m) => m.clone(),
        Marking::Source => listed
            .iter()
            .filter_map(|p| {
                rules
                    .markings
                    .iter()
                    .position(|m| *m == p.front_matter.classification)
            })
            .max()
            .and_then(|k| rules.markings.get(k).cloned())
            .unwrap_or_else(|| rules.markings.first().cloned().unwrap_or_default()),
    }
}

/// The notice's body in Markdown, linking copies with extension `ext` (`md` or `html`).
fn body(
    listed: &[Listed],
    audience: &Audience,
    rules: &Rules,
    release: &Release,
    up: &str,
    ext: &str,
) -> Result<String, String> {
    let wording = &rules.notice;
    let request = release.request.as_deref().unwrap_or("");
    let fill = |text: &str| {
        escape_markdown(
            &text
                .replace("{request}", request)
                .replace("{date}", release.date.as_deref().unwrap_or("")),
        )
    };
    let mut out = String::from("\n");
    out.push_str(&fill(&wording.intro));
    out.push_str("\n\n");
    if release.date.is_some() {
        out.push_str(&fill(&wording.date_line));
        out.push_str("\n\n");
    }
    let mut papers: Vec<(&Listed, &FrontMatter)> = listed
        .iter()
        .filter(|p| !p.front_matter.denied_to(audience))
        .map(|p| (p, p.front_matter.for_audience(audience)))
        .collect();
    papers.sort_by(|(a, fa), (b, fb)| {
        (fa.date.is_none(), &fa.date, &fa.reference, &a.name).cmp(&(
            fb.date.is_none(),
            &fb.date,
            &fb.reference,
            &b.name,
        ))
    });
    let entry = |p: &Listed, f: &FrontMatter| {
        let mut details = Vec::new();
        details.extend(f.date.as_deref().map(escape_markdown));
        details.extend(f.reference.as_deref().map(escape_markdown));
        details.push(escape_markdown(&copy_marking(audience, &f.classification)));
        format!(
            "- [{}](<{up}{}>) ({})\n",
            escape_markdown(&f.title),
            link(&p.name, ext),
            details.join(", ")
        )
    };
    let (withheld, released): (Vec<_>, Vec<_>) = papers
        .into_iter()
        .partition(|(p, _)| p.front_matter.withheld_from(audience));
    if !released.is_empty() {
        out.push_str(&format!("## {}\n\n", fill(&wording.released_heading)));
        out.push_str(&fill(&wording.released_intro));
        out.push_str("\n\n");
        for (p, f) in &released {
            out.push_str(&entry(p, f));
        }
        out.push('\n');
    }
    if !withheld.is_empty() {
        out.push_str(&format!("## {}\n\n", fill(&wording.withheld_heading)));
        out.push_str(&fill(&wording.withheld_intro));
        out.push_str("\n\n");
        for (p, f) in &withheld {
            out.push_str(&entry(p, f));
        }
        out.push('\n');
    }
    // Every label relied on across the release, in section order.
    let relied: BTreeMap<String, usize> = listed
        .iter()
        .filter_map(|p| p.relied.get(&audience.name))
        .flatten()
        .map(|label| (label.clone(), 1))
        .collect();
    out.push_str(&format!("## {}\n\n", fill(&wording.exemptions_heading)));
    if relied.is_empty() {
        out.push_str(&fill(&wording.nothing_withheld));
        out.push_str("\n\n");
    } else {
        out.push_str(&fill(&wording.exemptions_intro));
        out.push_str("\n\n");
    }
    for row in rows_for(relied, audience, rules) {
        out.push_str(&format!(
            "### {}: section {}, {}\n\n",
            escape_markdown(&row.label),
            escape_markdown(&row.section),
            escape_markdown(&row.title)
        ));
        // Every code shown under this label, whichever of them occurred.
        let group: Vec<_> = rules
            .exemptions
            .iter()
            .filter(|e| audience.label(&e.code) == row.label)
            .collect();
        if group.len() > 1 {
            out.push_str(&fill(&wording.ncnd.replace("{label}", &row.label)));
            out.push_str("\n\n");
        }
        for e in group {
            let about = |text: &str| {
                fill(
                    &text
                        .replace("{section}", &e.section)
                        .replace("{title}", &e.title),
                )
            };
            match e.test {
                Test::Absolute => {
                    out.push_str(&about(&wording.absolute));
                    out.push_str("\n\n");
                }
                Test::Qualified => {
                    out.push_str(&about(&wording.qualified));
                    out.push_str("\n\n");
                    let reasoning = wording
                        .public_interest
                        .get(e.code.as_str())
                        .or(e.pit.as_ref())
                        .ok_or_else(|| {
                            format!(
                                "the refusal notice relies on {}, a qualified exemption, but rules/notice.yaml gives no `public_interest` paragraph for it (nor rules/exemptions.yaml a `pit`)",
                                e.code
                            )
                        })?;
                    out.push_str(&about(reasoning));
                    out.push_str("\n\n");
                }
            }
        }
    }
    out.push_str(&format!("## {}\n\n", fill(&wording.rights_heading)));
    for paragraph in &wording.rights {
        out.push_str(&fill(paragraph));
        out.push_str("\n\n");
    }
    out.pop();
    Ok(out)
}
