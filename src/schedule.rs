//! The release schedule: (Paper, Audience, Rules) → the exemptions relied on in one copy, in
//! section order, each with its full title and the number of passages withheld under it (what
//! a FOIA s17 refusal notice must state), plus the request reference and release date.
//!
//! A schedule holds labels, titles from the rules and counts, never anything from a withheld
//! passage. It speaks the audience's labels: for an audience that combines S23 and S24 as
//! `S23 / S24` it has one row for the pair, titled with both titles whichever of them occur,
//! so it neither confirms nor denies which one applies.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Paper;
use crate::render::escape_html;
use crate::rules::{Audience, Rules};

/// What identifies a release: the FOI request it answers and the date it goes out. Both are
/// optional; without them no date appears anywhere, so builds stay byte-identical.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Release {
    pub request: Option<String>,
    pub date: Option<String>,
}

/// One exemption (or one combined group of exemptions) relied on in a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleRow {
    /// As the copy's markers show it: `S31`, or `S23 / S24` for a combined group.
    pub label: String,
    /// Section numbers of the FOIA, `31` or `23 / 24`.
    pub section: String,
    pub title: String,
    /// Markers naming this label (a marker naming `S31 & S24` counts for both).
    pub passages: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub rows: Vec<ScheduleRow>,
    pub request: Option<String>,
    pub date: Option<String>,
    /// The paper's line ending, so a CRLF paper's schedule is CRLF too.
    #[serde(skip)]
    pub newline: &'static str,
}

/// The schedule for `audience`'s copy, or None if the audience has none.
pub fn schedule_for(
    paper: &Paper,
    audience: &Audience,
    rules: &Rules,
    release: &Release,
) -> Option<Schedule> {
    if !audience.schedule {
        return None;
    }
    let mut passages: BTreeMap<String, usize> = BTreeMap::new();
    for k in paper.maximal_withheld(audience) {
        let mut labels: Vec<&str> = Vec::new();
        for code in paper.marker_codes(k) {
            if !audience.withholds.contains(code) {
                continue;
            }
            let label = audience.label(code);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        for label in labels {
            *passages.entry(label.to_string()).or_default() += 1;
        }
    }
    Some(Schedule {
        rows: rows_for(passages, audience, rules),
        request: release.request.clone(),
        date: release.date.clone(),
        newline: newline_of(paper),
    })
}

/// The schedule of a paper `audience` does not get at all: one row for each label of the
/// codes it is withheld under, one passage each (the paper).
pub fn whole_paper_schedule(
    paper: &Paper,
    audience: &Audience,
    rules: &Rules,
    release: &Release,
) -> Option<Schedule> {
    if !audience.schedule {
        return None;
    }
    let passages: BTreeMap<String, usize> = whole_paper_labels(paper, audience)
        .into_iter()
        .map(|label| (label.to_string(), 1))
        .collect();
    Some(Schedule {
        rows: rows_for(passages, audience, rules),
        request: release.request.clone(),
        date: release.date.clone(),
        newline: newline_of(paper),
    })
}

/// The labels of the codes a whole paper is withheld from `audience` under, in `withhold`
/// order, each once, as the audience shows them.
pub fn whole_paper_labels<'a>(paper: &'a Paper, audience: &'a Audience) -> Vec<&'a str> {
    let mut labels: Vec<&str> = Vec::new();
    for code in &paper.front_matter.withhold {
        if audience.withholds.contains(code) {
            let label = audience.label(code);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    labels
}

/// Every label `audience`'s copy of `paper` relies on, in section order: its markers' codes
/// as the audience shows them, or the codes the whole paper is withheld under. Nothing for
/// a paper withheld to neither confirm nor deny: that audience has no file of it.
pub fn relied_labels(paper: &Paper, audience: &Audience, rules: &Rules) -> Vec<String> {
    let fm = &paper.front_matter;
    let mut passages: BTreeMap<String, usize> = BTreeMap::new();
    if fm.denied_to(audience) {
        return Vec::new();
    } else if fm.withheld_from(audience) {
        for label in whole_paper_labels(paper, audience) {
            passages.insert(label.to_string(), 1);
        }
    } else {
        for k in paper.maximal_withheld(audience) {
            for code in paper.marker_codes(k) {
                if audience.withholds.contains(code) {
                    passages.insert(audience.label(code).to_string(), 1);
                }
            }
        }
    }
    rows_for(passages, audience, rules)
        .into_iter()
        .map(|row| row.label)
        .collect()
}

fn newline_of(paper: &Paper) -> &'static str {
    if paper.front_matter.newline.is_empty() {
        "\n"
    } else {
        paper.front_matter.newline
    }
}

/// One row per label, in section order, each titled with every code shown under its label.
pub fn rows_for(
    passages: BTreeMap<String, usize>,
    audience: &Audience,
    rules: &Rules,
) -> Vec<ScheduleRow> {
    let mut rows: Vec<(usize, ScheduleRow)> = passages
        .into_iter()
        .map(|(label, passages)| {
            // Every code shown under this label, whether or not it occurs in this paper.
            let group: Vec<_> = rules
                .exemptions
                .iter()
                .filter(|e| audience.label(&e.code) == label)
                .collect();
            let rank = group
                .iter()
                .map(|e| rules.code_rank(&e.code))
                .min()
                .unwrap_or(usize::MAX);
            let join = |f: &dyn Fn(&crate::rules::Exemption) -> &str| {
                group.iter().map(|e| f(e)).collect::<Vec<_>>().join(" / ")
            };
            let row = ScheduleRow {
                section: join(&|e| e.section.as_str()),
                title: join(&|e| e.title.as_str()),
                label,
                passages,
            };
            (rank, row)
        })
        .collect();
    rows.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.label.cmp(&y.label)));
    rows.into_iter().map(|(_, row)| row).collect()
}

const HEADING: &str = "Schedule of exemptions";
const NOTHING_WITHHELD: &str = "No information has been withheld from this copy.";
const INTRO: &str = "Information has been withheld from this copy under the following \
                     exemptions of the Freedom of Information Act 2000.";

impl Schedule {
    /// The request and date sentence, if either was given.
    fn release_line(&self) -> Option<(Option<&str>, Option<&str>)> {
        if self.request.is_none() && self.date.is_none() {
            return None;
        }
        Some((self.request.as_deref(), self.date.as_deref()))
    }

    /// The schedule as Markdown, starting with a thematic break and ending with a newline.
    pub fn markdown(&self) -> String {
        let nl = self.newline;
        let mut out = format!("---{nl}{nl}## {HEADING}{nl}{nl}");
        if let Some((request, date)) = self.release_line() {
            let mut parts = Vec::new();
            if let Some(r) = request {
                parts.push(format!("FOI request reference: {}.", escape_markdown(r)));
            }
            if let Some(d) = date {
                parts.push(format!("Release date: {}.", escape_markdown(d)));
            }
            out.push_str(&parts.join(" "));
            out.push_str(nl);
            out.push_str(nl);
        }
        if self.rows.is_empty() {
            out.push_str(NOTHING_WITHHELD);
            out.push_str(nl);
            return out;
        }
        out.push_str(INTRO);
        out.push_str(&format!(
            "{nl}{nl}| Section | Exemption | Passages withheld |{nl}| --- | --- | --- |{nl}"
        ));
        for row in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} |{nl}",
                escape_markdown(&row.section),
                escape_markdown(&row.title),
                row.passages
            ));
        }
        out
    }

    /// The schedule as an HTML section for the end of the page body; every value escaped.
    pub fn html(&self) -> String {
        let mut out = format!("<section class=\"redact-schedule\">\n<h2>{HEADING}</h2>\n");
        if let Some((request, date)) = self.release_line() {
            let mut parts = Vec::new();
            if let Some(r) = request {
                parts.push(format!("FOI request reference: {}.", escape_html(r)));
            }
            if let Some(d) = date {
                parts.push(format!("Release date: {}.", escape_html(d)));
            }
            out.push_str(&format!("<p>{}</p>\n", parts.join(" ")));
        }
        if self.rows.is_empty() {
            out.push_str(&format!("<p>{NOTHING_WITHHELD}</p>\n</section>\n"));
            return out;
        }
        out.push_str(&format!("<p>{INTRO}</p>\n"));
        out.push_str(
            "<table>\n<thead>\n<tr><th>Section</th><th>Exemption</th><th>Passages withheld</th></tr>\n</thead>\n<tbody>\n",
        );
        for row in &self.rows {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape_html(&row.section),
                escape_html(&row.title),
                row.passages
            ));
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
        out
    }
}

/// Appends the schedule to a copy's Markdown with exactly one blank line before it, so its
/// `---` is a thematic break and never turns the last paragraph into a heading.
pub fn append_markdown(out: &mut String, schedule: &Schedule) {
    if out.is_empty() {
        // Nothing to separate from.
    } else if out.ends_with(['\n', '\r']) {
        out.push_str(schedule.newline);
    } else {
        out.push_str(schedule.newline);
        out.push_str(schedule.newline);
    }
    out.push_str(&schedule.markdown());
}

/// Escapes characters that Markdown would read as syntax (or raw HTML) in a table cell.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!' | '{' | '}'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Checks `--date`: a real calendar date written `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Result<String, String> {
    let bad = || format!("`{value}` is not a date written YYYY-MM-DD");
    let bytes = value.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| value[range].parse::<u32>().map_err(|_| bad());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > days {
        return Err(bad());
    }
    Ok(value.to_string())
}

/// Checks `--request`: one line of printable text.
pub fn parse_request(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("the request reference is empty".into());
    }
    if value.chars().any(char::is_control) {
        return Err("the request reference must be one line of printable text".into());
    }
    if value.chars().count() > 200 {
        return Err("the request reference is longer than 200 characters".into());
    }
    Ok(value.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_paper;

    fn paper(body: &str, rules: &Rules) -> Paper {
        let text = format!("---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n{body}");
        parse_paper(&text, rules).expect("paper parses")
    }

    #[test]
    fn dates_must_be_real_calendar_days() {
        assert!(parse_date("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-4-01",
            "24-04-01",
            "2024-04-31",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn marker_naming_two_codes_counts_for_both_in_section_order() {
        let rules = Rules::embedded().expect("embedded rules");
        let public = rules
            .audiences
            .iter()
            .find(|a| a.name == "public")
            .expect("public");
        let p = paper(
            "[a]{.S31 .S24} and [b]{.S31}.\n\n::: S40\n[c]{.S23}\n:::\n",
            &rules,
        );
        let schedule = schedule_for(&p, public, &rules, &Release::default()).expect("schedule");
        let rows: Vec<(&str, usize)> = schedule
            .rows
            .iter()
            .map(|r| (r.label.as_str(), r.passages))
            .collect();
        assert_eq!(rows, vec![("S23", 1), ("S24", 1), ("S31", 2), ("S40", 1)]);
    }

    #[test]
    fn schedule_markdown_escapes_table_syntax() {
        let schedule = Schedule {
            rows: vec![ScheduleRow {
                label: "S1".into(),
                section: "1".into(),
                title: "a | b <i>".into(),
                passages: 2,
            }],
            request: Some("FOI|1".into()),
            date: None,
            newline: "\n",
        };
        let md = schedule.markdown();
        assert!(md.contains("| 1 | a \\| b \\<i\\> | 2 |"), "{md}");
        assert!(md.contains("FOI request reference: FOI\\|1."), "{md}");
        assert!(schedule.html().contains("a &#124; b &lt;i&gt;"));
    }
}
