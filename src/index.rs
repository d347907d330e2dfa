//! Each audience's index of papers: `index.md` and `index.html` in its folder, listing the
//! papers it has a file for (title as it may read it, date, reference, agenda item, marking),
//! sorted by date then reference, linking each copy (and PDF with `--pdf`). Built from front
//! matter as each audience reads it, so a withheld title never reaches an index; a paper
//! withheld to neither confirm nor deny has no entry.

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use tera::{Context, Tera};

use crate::front_matter::FrontMatter;
use crate::render::escape_css_string;
use crate::rules::{Audience, Marking, Rules};
use crate::schedule::escape_markdown;
use crate::write::Output;

/// The index page template's name; registered as `.html`, so tera autoescapes it.
pub const INDEX_TEMPLATE: &str = "index.html";
/// The default index page template, used when a templates folder has none.
pub const DEFAULT_INDEX_TEMPLATE: &str = include_str!("../templates/index.html");
/// The index's file name in each audience folder, without extension.
pub const INDEX_NAME: &str = "index";

/// A paper whose copies are in place after a build, as the index and notice need it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub front_matter: FrontMatter,
    /// Per audience (by name), the labels its copy's markers and schedule rely on.
    pub relied: std::collections::BTreeMap<String, Vec<String>>,
}

impl Listed {
    /// What the index and notice need of `paper`, built under `name`.
    pub fn of(name: &str, paper: &crate::model::Paper, rules: &Rules) -> Listed {
        Listed {
            name: name.to_string(),
            front_matter: paper.front_matter.clone(),
            relied: rules
                .audiences
                .iter()
                .map(|a| {
                    let labels = crate::schedule::relied_labels(paper, a, rules);
                    (a.name.clone(), labels)
                })
                .collect(),
        }
    }
}

/// Why `name` cannot be a paper's name: `index` and names beginning with `_` are the
/// audience folders' own.
pub fn reserved(name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case(INDEX_NAME) {
        return Some(format!(
            "a paper cannot be named `{INDEX_NAME}`: each audience folder's index has that name; rename the paper"
        ));
    }
    if name.split('/').any(|part| part.starts_with('_')) {
        return Some(format!(
            "a paper's name cannot have a part beginning with `_` (`{name}`): audience folders keep those for their own files, such as `_notices/`; rename it"
        ));
    }
    None
}

/// Characters escaped in a link to a copy: a name may hold spaces and any Unicode.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'(')
    .add(b')')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\'');

/// A relative link to `name` with extension `ext`.
pub fn link(name: &str, ext: &str) -> String {
    let encoded: Vec<String> = name
        .split('/')
        .map(|part| utf8_percent_encode(part, PATH).to_string())
        .collect();
    format!("{}.{ext}", encoded.join("/"))
}

/// The marking `audience`'s copy of a paper classified `classification` carries.
pub fn copy_marking(audience: &Audience, classification: &str) -> String {
    match &audience.marking {
        Marking::Source => classification.to_string(),
        Marking::Fixed(m) => m.clone(),
    }
}

#[derive(Debug, Serialize)]
struct Entry {
    title: String,
    date: String,
    reference: String,
    agenda_item: String,
    marking: String,
    href: String,
    md: String,
    pdf: Option<String>,
}

/// The entries of `audience`'s index, sorted by date, then reference (papers with none last),
/// then name.
fn entries(papers: &[Listed], audience: &Audience, pdf: bool) -> Vec<Entry> {
    let mut listed: Vec<(&Listed, &FrontMatter)> = papers
        .iter()
        .filter(|p| !p.front_matter.denied_to(audience))
        .map(|p| (p, p.front_matter.for_audience(audience)))
        .collect();
    listed.sort_by(|(a, fa), (b, fb)| {
        let key = |p: &Listed, f: &FrontMatter| {
            (
                f.date.is_none(),
                f.date.clone(),
                f.reference.is_none(),
                f.reference.clone(),
                p.name.clone(),
            )
        };
        key(a, fa).cmp(&key(b, fb))
    });
    listed
        .into_iter()
        .map(|(p, f)| Entry {
            title: f.title.clone(),
            date: f.date.clone().unwrap_or_default(),
            reference: f.reference.clone().unwrap_or_default(),
            agenda_item: f.agenda_item.clone().unwrap_or_default(),
            marking: copy_marking(audience, &f.classification),
            href: link(&p.name, "html"),
            md: link(&p.name, "md"),
            pdf: pdf.then(|| link(&p.name, "pdf")),
        })
        .collect()
}

/// The index's own marking: the audience's, or for one that reads each paper in its own
/// classification, the highest of those it lists.
fn index_marking(entries: &[Entry], audience: &Audience, rules: &Rules) -> String {
    match &audience.marking {
        Marking::Fixed(m) => m.clone(),
        Marking::Source => entries
            .iter()
            .filter_map(|e| rules.markings.iter().position(|m| *m == e.marking))
            .max()
            .or(Some(0))
            .and_then(|k| rules.markings.get(k).cloned())
            .unwrap_or_default(),
    }
}

fn heading(audience: &Audience) -> String {
    format!("Papers: {}", audience.name)
}

/// `index.md` and `index.html` for every audience, rendered with `template`.
pub fn index_outputs(
    papers: &[Listed],
    rules: &Rules,
    template: &str,
    pdf: bool,
) -> Result<Vec<Output>, String> {
    let mut tera = Tera::new();
    tera.autoescape_on([".html"]);
    tera.add_raw_template(INDEX_TEMPLATE, template)
        .map_err(|e| format!("template `{INDEX_TEMPLATE}`: {e}"))?;
    let mut out = Vec::new();
    for audience in &rules.audiences {
        let entries = entries(papers, audience, pdf);
        let marking = index_marking(&entries, audience, rules);
        let folder = Path::new(&audience.name);
        out.push(Output {
            relative: folder.join(format!("{INDEX_NAME}.md")),
            bytes: index_markdown(&entries, audience, &marking).into_bytes(),
        });
        let mut context = Context::new();
        context.insert("audience", &audience.name);
        context.insert("marking", &marking);
        context.insert("marking_css", &escape_css_string(&marking));
        context.insert("notice", &audience.notice);
        context.insert("heading", &heading(audience));
        context.insert("papers", &entries);
        let html = tera.render(INDEX_TEMPLATE, &context).map_err(|e| {
            let mut message = format!("template `{INDEX_TEMPLATE}`: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            message
        })?;
        out.push(Output {
            relative: folder.join(format!("{INDEX_NAME}.html")),
            bytes: html.into_bytes(),
        });
    }
    Ok(out)
}

/// Every file the indexes write, to remove them when no paper is in place.
pub fn index_paths(rules: &Rules) -> Vec<PathBuf> {
    rules
        .audiences
        .iter()
        .flat_map(|a| {
            ["md", "html"].map(|ext| Path::new(&a.name).join(format!("{INDEX_NAME}.{ext}")))
        })
        .collect()
}

fn index_markdown(entries: &[Entry], audience: &Audience, marking: &str) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut out = format!(
        "---\ntitle: {}\nclassification: {}\n---\n\n",
        quoted(&heading(audience)),
        quoted(marking)
    );
    if let Some(notice) = &audience.notice {
        out.push_str(&format!("{}\n\n", escape_markdown(notice)));
    }
    if entries.is_empty() {
        out.push_str("No papers.\n");
        return out;
    }
    out.push_str("| Date | Reference | Agenda item | Title | Marking |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for e in entries {
        let pdf = match &e.pdf {
            Some(pdf) => format!(" ([PDF](<{pdf}>))"),
            None => String::new(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | [{}](<{}>){pdf} | {} |\n",
            escape_markdown(&e.date),
            escape_markdown(&e.reference),
            escape_markdown(&e.agenda_item),
            escape_markdown(&e.title),
            e.md,
            escape_markdown(&e.marking),
        ));
    }
    out
}
