//! The recognisers: text in, [`Hit`]s out (a kind, a byte span and the value normalised, so an
//! acknowledgement survives a change of spacing or case). Pure, and blind to Markdown: the
//! caller says which stretches of a paper are published and keeps code and tags in mind.
//!
//! Each kind is a cheap pattern first and a check of the candidate after: a phone number's
//! digits are read by `phonenumber` (region GB), an NHS number's check digit is worked out, a
//! postcode's area must be a UK postcode area, a date is a date of birth only near "born",
//! "DOB" or "aged". Recognisers err towards suggesting: a suggestion costs a reader a glance,
//! a miss publishes someone's personal data.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::Kind;
use crate::span::Span;

/// One thing that looks like personal data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hit {
    pub kind: Kind,
    /// Byte span in the text scanned (offset by the stretch's start).
    pub span: Span,
    /// The value normalised: what an acknowledgement names.
    pub value: String,
    /// For names: the title or role written before the name (`Ch Supt`), included in `span`.
    pub title: Option<String>,
}

fn re(pattern: &str) -> Regex {
    // ASCII word boundaries: a Unicode `\b` sends the regex engine to a slower path on any
    // text with a non-ASCII character (a `£`, an en dash), which most papers have. Every
    // boundary here sits next to an ASCII letter or digit.
    let pattern = pattern.replace(r"\b", r"(?-u:\b)");
    // The patterns are constants, tested below: failing to compile one is a build defect.
    #[allow(clippy::expect_used)]
    Regex::new(&pattern).expect("recogniser pattern compiles")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)[a-z0-9](?:[a-z0-9._%+'-]*[a-z0-9_%+-])?@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}",
    )
});

/// A run that starts like a phone number (`+`, `00`, `0`, `(0`) and goes on in digits,
/// single spaces, hyphens, dots and brackets.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:\+ ?|\(?0)[0-9](?:[0-9]|[ \u{a0}.\-]?\(?0?\)?[ \u{a0}.\-]?[0-9]){6,16}")
});

static NINO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?([A-D])|([a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?([a-d]))\b",
    )
});

static NHS: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b([0-9]{3})([ \-]?)([0-9]{3})([ \-]?)([0-9]{4})\b"));

static POSTCODE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b([A-Z]{1,2})([0-9][0-9A-Z]?) ?([0-9][ABD-HJLNP-UW-Z]{2})\b"));

static COLLAR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(PCSO|TDC|PC|DC|PS|DS|SC|P\.C|D\.C|P\.S|D\.S|Sgt|Police Constable|Special Constable|Detective Constable|Sergeant|Constable)\.? ?([0-9]{2,6})\b|(?i:\b(?:warrant|collar|shoulder)(?: card)?(?: (?:no|number|num)\b\.?)?) ?[:#]? ?([0-9]{3,8})\b",
    )
});

static VEHICLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:([A-HJ-PR-Y][A-Z])([0-9]{2}) ?([A-HJ-PR-Z]{3})|([A-HJ-NP-Y])([0-9]{1,3}) ?([A-Z]{3})|([A-Z]{3}) ?([0-9]{1,3})([A-HJ-NP-Y]))\b",
    )
});

/// A current plate written in lower case (`ab12cde` on a form).
static VEHICLE_LOWER: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b([a-hj-pr-y][a-z])([0-9]{2}) ?([a-hj-pr-z]{3})\b"));

/// An older "dateless" plate (`ABC 123`, `1234 AB`): only after a word saying it is one.
static VEHICLE_DATELESS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i:\b(?:registration|reg\.?|vrm|index|number plate|plate)(?: (?:no|number|mark)\.?)?) ?:? ?\b([A-Z]{1,3} ?[0-9]{1,4}|[0-9]{1,4} ?[A-Z]{1,3})\b",
    )
});

const MONTHS: &str = "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?";

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:([0-9]{{1,2}})[/.\-]([0-9]{{1,2}})[/.\-]([0-9]{{4}}|[0-9]{{2}})|([0-9]{{1,2}})(?:st|nd|rd|th)? (?i:({MONTHS}))\.?,? ([0-9]{{4}})|(?i:({MONTHS}))\.? ([0-9]{{1,2}})(?:st|nd|rd|th)?,? ([0-9]{{4}})|([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}}))\b"
    ))
});

static DOB_CUE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:born|dob|d\.o\.b|date of birth|birth ?date|birthday|aged)\b"));

static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| re(r"[.;!?]\s"));

static SORT_CODE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b([0-9]{2})([\- ])([0-9]{2})([\- ])([0-9]{2})\b"));

/// A rank and number before a surname: `PC 4021 Holt`.
static COLLAR_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:PCSO|TDC|PC|DC|PS|DS|P\.C|D\.C|Sgt|Police Constable|Detective Constable|Special Constable)\.? ?[0-9]{2,6} (\p{Lu}[\p{L}'’\-]*\p{Ll})",
    )
});

static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9]{8}\b"));

static BANK_CUE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:sort ?code|s/c|account|a/c|acct|bank)\b"));

static IPV4: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\b"));

static IPV6: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:[0-9a-f]\b)?"));

/// Words before a dotted number that make it a section, version or table number.
static NUMBERING_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:para(?:graph)?s?|sections?|clauses?|versions?|v|annex|appendix|table|figure|fig|items?|steps?|rules?|release|build|chapter|part|regulation|article|schedule)\.?\s*$",
    )
});

static IP_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:ip|address|addresses|host|server|router|device|logged|connection|connected|from)\b",
    )
});

/// Words before a postcode-shaped string that make it a product or part code.
static PRODUCT_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:model|models|part|parts|product|item|type|sku|serial|catalogue|cat|firmware|version|code|codes|ref|reference|unit|batch|lot)\.?(?: (?:no|number)\.?)?\s*:?\s*$",
    )
});

/// Words that make what follows in the clause a product's model or part (`model number DJI
/// M350 RTK`), however many words come between.
static MODEL_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:model|part (?:no|number)|product|sku|serial|firmware|catalogue)\b[^.;,]*$")
});

/// UK postcode areas: the letters before the first digit.
const POSTCODE_AREAS: &[&str] = &[
    "AB", "AL", "B", "BA", "BB", "BD", "BF", "BH", "BL", "BN", "BR", "BS", "BT", "BX", "CA", "CB",
    "CF", "CH", "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT",
    "DY", "E", "EC", "EH", "EN", "EX", "FK", "FY", "G", "GL", "GU", "GY", "HA", "HD", "HG", "HP",
    "HR", "HS", "HU", "HX", "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "L", "LA", "LD",
    "LE", "LL", "LN", "LS", "LU", "M", "ME", "MK", "ML", "N", "NE", "NG", "NN", "NP", "NR", "NW",
    "OL", "OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S", "SA", "SE", "SG", "SK",
    "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW", "SY", "TA", "TD", "TF", "TN", "TQ", "TR",
    "TS", "TW", "UB", "W", "WA", "WC", "WD", "WF", "WN", "WR", "WS", "WV", "YO", "ZE",
];

/// Role mailboxes: an organisation's address, not a person's.
const ROLE_MAILBOXES: &[&str] = &[
    "foi",
    "info",
    "enquiries",
    "enquiry",
    "press",
    "media",
    "contact",
    "admin",
    "office",
    "secretariat",
    "complaints",
    "webmaster",
    "noreply",
    "no-reply",
    "support",
    "help",
    "helpdesk",
    "reception",
    "mail",
    "post",
    "communications",
    "comms",
    "dpo",
    "dataprotection",
    "data.protection",
    "privacy",
    "foi.requests",
    "freedomofinformation",
    "procurement",
    "finance",
    "hr",
    "recruitment",
    "council",
    "ccc",
    "npcc",
    "team",
];

/// Titles and roles that put a name after them, as token sequences (a trailing `.` is
/// ignored). Longest first, so `Chief Constable` wins over `Constable`.
const TITLES: &[&[&str]] = &[
    &["Detective", "Chief", "Superintendent"],
    &["Detective", "Chief", "Inspector"],
    &["Deputy", "Chief", "Constable"],
    &["Assistant", "Chief", "Constable"],
    &["Temporary", "Chief", "Constable"],
    &["Det", "Ch", "Supt"],
    &["Det", "Ch", "Insp"],
    &["Det", "Chief", "Supt"],
    &["Det", "Chief", "Insp"],
    &["Chief", "Constable"],
    &["Chief", "Superintendent"],
    &["Chief", "Inspector"],
    &["Ch", "Supt"],
    &["Ch", "Insp"],
    &["Chief", "Supt"],
    &["Chief", "Insp"],
    &["Det", "Supt"],
    &["Det", "Insp"],
    &["Det", "Sgt"],
    &["Det", "Con"],
    &["Detective", "Superintendent"],
    &["Detective", "Inspector"],
    &["Detective", "Sergeant"],
    &["Detective", "Constable"],
    &["Police", "Constable"],
    &["Police", "Sergeant"],
    &["Special", "Constable"],
    &["Deputy", "Commissioner"],
    &["Assistant", "Commissioner"],
    &["Mr"],
    &["Mrs"],
    &["Ms"],
    &["Miss"],
    &["Mx"],
    &["Dr"],
    &["Prof"],
    &["Professor"],
    &["Sir"],
    &["Dame"],
    &["PC"],
    &["DC"],
    &["PS"],
    &["DS"],
    &["DI"],
    &["DCI"],
    &["DSupt"],
    &["DCS"],
    &["TDC"],
    &["PCSO"],
    &["Sgt"],
    &["Insp"],
    &["Supt"],
    &["CC"],
    &["DCC"],
    &["ACC"],
    &["Constable"],
    &["Sergeant"],
    &["Inspector"],
    &["Superintendent"],
    &["Detective"],
    &["Commander"],
    &["Commissioner"],
    &["Cllr"],
    &["Councillor"],
];

/// Capitalised words that end a name, or are never one: organisations, places, parts of a
/// paper, months. "Victoria Street" and "Chief Constable Council" are not people.
const NOT_NAMES: &[&str] = &[
    "Act",
    "Agency",
    "Agreement",
    "Annex",
    "Appendix",
    "Association",
    "Associates",
    "Authority",
    "Avenue",
    "Bank",
    "Board",
    "Borough",
    "Branch",
    "Bridge",
    "Britain",
    "British",
    "Building",
    "Bureau",
    "Cabinet",
    "Centre",
    "Center",
    "Central",
    "Chair",
    "Chancellor",
    "Chief",
    "City",
    "Close",
    "Code",
    "College",
    "Commission",
    "Committee",
    "Commons",
    "Company",
    "Constabulary",
    "Contract",
    "Council",
    "Councils",
    "County",
    "Court",
    "Crescent",
    "Crime",
    "Crown",
    "Department",
    "Deputy",
    "Detective",
    "Digital",
    "Directorate",
    "Drive",
    "East",
    "Eastern",
    "England",
    "English",
    "Executive",
    "Finance",
    "Force",
    "Forces",
    "Forum",
    "Foundation",
    "Framework",
    "Fund",
    "Funding",
    "Gardens",
    "Government",
    "Group",
    "Hall",
    "Health",
    "Healthcare",
    "Home",
    "Hospital",
    "House",
    "Inspectorate",
    "Institute",
    "International",
    "Ireland",
    "Irish",
    "Lane",
    "Limited",
    "LLP",
    "Lords",
    "Ltd",
    "Mayor",
    "Minister",
    "Ministry",
    "National",
    "Network",
    "North",
    "Northern",
    "Office",
    "Officer",
    "Officers",
    "Operation",
    "Park",
    "Parliament",
    "Partners",
    "Partnership",
    "Place",
    "Plan",
    "PLC",
    "Plc",
    "Police",
    "Policing",
    "Policy",
    "Portfolio",
    "Prison",
    "Probation",
    "Programme",
    "Project",
    "Public",
    "Regional",
    "Regulations",
    "Report",
    "Review",
    "Road",
    "Scheme",
    "School",
    "Scotland",
    "Scottish",
    "Secretary",
    "Service",
    "Services",
    "South",
    "Southern",
    "Square",
    "Staff",
    "Station",
    "Strategy",
    "Street",
    "Team",
    "Terrace",
    "The",
    "Trust",
    "UK",
    "Union",
    "Unit",
    "University",
    "Vale",
    "Valley",
    "Wales",
    "Way",
    "Welsh",
    "West",
    "Western",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "And",
    "Of",
    "For",
    "In",
    "On",
    "At",
    "To",
    "By",
    "With",
    "A",
    "An",
    "If",
    "As",
    "It",
    "We",
    "He",
    "She",
    "They",
    "This",
    "That",
    "These",
    "Those",
    "All",
    "Any",
    "No",
    "Not",
    "Our",
    "Their",
    "His",
    "Her",
    "Its",
    "Council's",
    "Police's",
    "Constables",
    "Sergeants",
    "Inspectors",
    "Superintendents",
    "Detectives",
    "Commissioners",
    "Commanders",
    "Councillors",
    "Doctors",
    "Nurses",
    "Ranks",
];

/// The given-name list shipped in `rules/given-names.txt` (see its header for source and
/// licence).
pub const GIVEN_NAMES: &str = include_str!("../../rules/given-names.txt");

/// Every recogniser, with the given-name list loaded once.
#[derive(Debug)]
pub struct Recognisers {
    given: HashSet<&'static str>,
    not_names: HashSet<&'static str>,
}

impl Default for Recognisers {
    fn default() -> Self {
        Recognisers::new()
    }
}

impl Recognisers {
    pub fn new() -> Self {
        let given = GIVEN_NAMES
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        Recognisers {
            given,
            not_names: NOT_NAMES.iter().copied().collect(),
        }
    }

    /// Every hit in `text[span]`, spans into `text`, sorted, overlaps resolved (the longer
    /// hit wins; a name never hides a structured kind it overlaps).
    pub fn scan(&self, text: &str, span: Span) -> Vec<Hit> {
        let Some(stretch) = text.get(span.start..span.end) else {
            return Vec::new();
        };
        let mut hits = Vec::new();
        let bytes = stretch.as_bytes();
        // Each recogniser runs only where its kind could start: most prose has no `@`.
        if bytes.contains(&b'@') {
            emails(stretch, &mut hits);
        }
        if bytes.iter().any(u8::is_ascii_digit) {
            phones(stretch, &mut hits);
            ninos(stretch, &mut hits);
            nhs_numbers(stretch, &mut hits);
            postcodes(stretch, &mut hits);
            collars(stretch, &mut hits);
            vehicles(stretch, &mut hits);
            dates_of_birth(stretch, &mut hits);
            bank_details(stretch, &mut hits);
            ip_addresses(stretch, &mut hits);
        } else if bytes.contains(&b':') {
            ip_addresses(stretch, &mut hits);
        }
        self.names(stretch, &mut hits);
        for hit in &mut hits {
            hit.span = Span::new(hit.span.start + span.start, hit.span.end + span.start);
        }
        resolve_overlaps(hits)
    }
}

/// Keeps, of hits that overlap, the structured one over a name, then the longer, then the
/// first; an NHS number and a phone number on the same digits are decided by an "NHS" nearby.
fn resolve_overlaps(mut hits: Vec<Hit>) -> Vec<Hit> {
    let rank = |h: &Hit| {
        (
            usize::from(h.kind == Kind::Name),
            usize::MAX - h.span.len(),
            h.span.start,
            h.kind,
        )
    };
    hits.sort_by_key(rank);
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        if kept
            .iter()
            .all(|k| k.span.end <= hit.span.start || hit.span.end <= k.span.start)
        {
            kept.push(hit);
        }
    }
    kept.sort();
    kept
}

fn hit(kind: Kind, start: usize, end: usize, value: String) -> Hit {
    Hit {
        kind,
        span: Span::new(start, end),
        value,
        title: None,
    }
}

/// The character just before `at`, if any.
fn before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// The character at `at`, if any.
fn after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// Up to `n` bytes of text before `at`, on a char boundary, within the same line.
fn lead(text: &str, at: usize, n: usize) -> &str {
    let mut from = at.saturating_sub(n);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = &text[from..at];
    match window.rfind(['\n', '\r']) {
        Some(nl) if window[..nl].trim().is_empty() || window[nl + 1..].trim().is_empty() => {
            &window[nl + 1..]
        }
        _ => window,
    }
}

fn emails(text: &str, hits: &mut Vec<Hit>) {
    for m in EMAIL.find_iter(text) {
        let value = m.as_str().to_lowercase();
        // `x@y.z` inside a longer token (a URL's user part, `a.b@c`) is still an address.
        let local = value.split('@').next().unwrap_or("");
        if ROLE_MAILBOXES.contains(&local) {
            continue;
        }
        hits.push(hit(Kind::Email, m.start(), m.end(), value));
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn phones(text: &str, hits: &mut Vec<Hit>) {
    for m in PHONE.find_iter(text) {
        let mut start = m.start();
        let mut end = m.end();
        // Part of a longer number, word or reference (`CCC/2024/041`, `v2.01234567`).
        if before(text, start)
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '£' | '$'))
            || after(text, end).is_some_and(|c| c.is_alphanumeric() || c == '/')
        {
            continue;
        }
        if text[start..].starts_with('(') && !text[start..end].contains(')') {
            start += 1;
        }
        // A trailing `)` is the number's own only if it opened one.
        while text[start..end].ends_with([' ', '.', '-']) {
            end -= 1;
        }
        let raw = &text[start..end];
        // A UK number's last group has three digits or more: `0413-2207-19` is a
        // reference. Other countries group in twos (`+33 1 42 68 53 00`).
        let last_group = raw
            .rsplit([' ', '\u{a0}', '.', '-', ')'])
            .next()
            .unwrap_or(raw);
        let foreign = (raw.starts_with('+') && !raw.starts_with("+44"))
            || (raw.starts_with("00") && !raw.starts_with("0044"));
        if last_group.len() < 3 && !foreign {
            continue;
        }
        if let Some(value) = phone_value(raw) {
            hits.push(hit(Kind::Phone, start, end, value));
        }
    }
}

/// The number in E.164 if `raw` is a possible UK number (any national significant number of
/// 9 or 10 digits not starting with 0, assigned today or not), or a number in another
/// country's international form.
pub(crate) fn phone_value(raw: &str) -> Option<String> {
    let international = raw.starts_with('+') || raw.starts_with("00");
    let mut all = digits(raw);
    if raw.starts_with("00") {
        all.drain(..2);
    }
    if international {
        if let Some(rest) = all.strip_prefix("44") {
            // `+44 (0)20 …`: the bracketed trunk zero is not dialled.
            let nsn = rest.strip_prefix('0').unwrap_or(rest);
            return uk_nsn(nsn);
        }
        if !(8..=15).contains(&all.len()) {
            return None;
        }
        let parsed = phonenumber::parse(None, format!("+{all}")).ok()?;
        let nsn = parsed.national().value().to_string();
        if nsn.len() < 6 {
            return None;
        }
        return Some(parsed.format().mode(phonenumber::Mode::E164).to_string());
    }
    let nsn = all.strip_prefix('0')?;
    uk_nsn(nsn)
}

fn uk_nsn(nsn: &str) -> Option<String> {
    if !(9..=10).contains(&nsn.len()) || nsn.starts_with('0') {
        return None;
    }
    // phonenumber formats what it can read as a GB number; a possible number it does not
    // know (a range not assigned yet) is still suggested, in the same form.
    let formatted = phonenumber::parse(Some(phonenumber::country::Id::GB), format!("0{nsn}"))
        .ok()
        .map(|n| n.format().mode(phonenumber::Mode::E164).to_string())
        .filter(|e| e.len() == 3 + nsn.len());
    Some(formatted.unwrap_or_else(|| format!("+44{nsn}")))
}

/// National Insurance prefixes HMRC never issues.
const NINO_NEVER: [&str; 7] = ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"];

fn ninos(text: &str, hits: &mut Vec<Hit>) {
    for c in NINO.captures_iter(text) {
        // One case throughout: `ab123456c` as some forms print it, or capitals.
        let (Some(m), Some(prefix)) = (c.get(0), c.get(1).or(c.get(6))) else {
            continue;
        };
        if NINO_NEVER.contains(&prefix.as_str().to_uppercase().as_str()) {
            continue;
        }
        let value: String = m
            .as_str()
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_uppercase();
        hits.push(hit(Kind::Nino, m.start(), m.end(), value));
    }
}

/// The NHS number's check digit: weights 10 down to 2, eleven minus the remainder mod 11.
pub(crate) fn nhs_check(digits: &[u8]) -> bool {
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * (10 - i as u32))
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        n => n,
    };
    u32::from(digits[9]) == check
}

fn nhs_numbers(text: &str, hits: &mut Vec<Hit>) {
    for c in NHS.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let (sep1, sep2) = (
            c.get(2).map_or("", |s| s.as_str()),
            c.get(4).map_or("", |s| s.as_str()),
        );
        if sep1 != sep2 {
            continue;
        }
        let value = digits(m.as_str());
        let ds: Vec<u8> = value.bytes().map(|b| b - b'0').collect();
        if !nhs_check(&ds) {
            continue;
        }
        // Ten digits from 0 are a phone number unless the paper says NHS.
        if value.starts_with('0') && !lead(text, m.start(), 60).to_uppercase().contains("NHS") {
            continue;
        }
        // On the same digits as a phone number, NHS wins: it sorts first among equals.
        hits.push(hit(Kind::Nhs, m.start(), m.end(), value));
    }
}

fn postcodes(text: &str, hits: &mut Vec<Hit>) {
    for c in POSTCODE.captures_iter(text) {
        let (Some(m), Some(area), Some(district), Some(inward)) =
            (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        if !POSTCODE_AREAS.contains(&area.as_str()) {
            continue;
        }
        let d = district.as_str().as_bytes();
        // The district's second character, if a letter, follows the digit (`W1A`, `EC1V`).
        if d.len() == 2 && d[1].is_ascii_alphabetic() && !b"ABCDEFGHJKMNPRSTUVWXY".contains(&d[1]) {
            continue;
        }
        let before = lead(text, m.start(), 40);
        if PRODUCT_CUE.is_match(before) || MODEL_CUE.is_match(before) {
            continue;
        }
        let value = format!("{}{} {}", area.as_str(), district.as_str(), inward.as_str());
        hits.push(hit(Kind::Postcode, m.start(), m.end(), value));
    }
}

/// `PC4021`, `PS12` (a sergeant however written), `warrant 204511`.
fn collar_of(c: &regex::Captures) -> Option<String> {
    match (c.get(1), c.get(2), c.get(3)) {
        (Some(rank), Some(number), _) => {
            let rank = match rank.as_str() {
                "Sgt" | "Sergeant" | "P.S" => "PS",
                "Constable" | "Police Constable" | "P.C" => "PC",
                "Special Constable" => "SC",
                "Detective Constable" | "D.C" => "DC",
                "D.S" => "DS",
                r => r,
            };
            Some(format!("{rank}{}", number.as_str()))
        }
        (_, _, Some(number)) => Some(format!("warrant {}", number.as_str())),
        _ => None,
    }
}

/// A collar or warrant number as written, normalised as a suggestion prints it.
pub(crate) fn collar_value(raw: &str) -> Option<String> {
    COLLAR.captures(raw).as_ref().and_then(collar_of)
}

/// A date as written, as `YYYY-MM-DD`.
pub(crate) fn date_value(raw: &str) -> Option<String> {
    let c = DATE.captures(raw)?;
    let (y, m, d) = date_parts(&c)?;
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// A sort code as `12-34-56`, an account number as its eight digits.
pub(crate) fn bank_value(raw: &str) -> Option<String> {
    let d = digits(raw);
    match d.len() {
        6 => Some(format!("{}-{}-{}", &d[..2], &d[2..4], &d[4..])),
        8 => Some(d),
        _ => None,
    }
}

/// `the PC 2024 refresh`: a rank's letters before a year and a lower-case word, after an
/// article, name a thing of that year, not an officer.
fn year_named_thing(text: &str, c: &regex::Captures) -> bool {
    let (Some(m), Some(number)) = (c.get(0), c.get(2)) else {
        return false;
    };
    let year = number
        .as_str()
        .parse::<u32>()
        .is_ok_and(|y| (1990..=2035).contains(&y));
    let article = lead(text, m.start(), 8)
        .trim_end()
        .rsplit(' ')
        .next()
        .is_some_and(|w| matches!(w.to_ascii_lowercase().as_str(), "the" | "a" | "an"));
    let lower_next = text[m.end()..]
        .strip_prefix(' ')
        .and_then(|t| t.chars().next())
        .is_some_and(char::is_lowercase);
    year && article && lower_next
}

fn collars(text: &str, hits: &mut Vec<Hit>) {
    for c in COLLAR.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if year_named_thing(text, &c) {
            continue;
        }
        let Some(value) = collar_of(&c) else { continue };
        hits.push(hit(Kind::Collar, m.start(), m.end(), value));
    }
}

fn vehicles(text: &str, hits: &mut Vec<Hit>) {
    for c in VEHICLE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if let Some(age) = c.get(2) {
            // Current plates: the age identifier is a year (02–29) or a year plus 50.
            let n: u32 = age.as_str().parse().unwrap_or(0);
            if !((2..=29).contains(&n) || (51..=79).contains(&n)) {
                continue;
            }
        }
        if c.get(5).is_some() || c.get(8).is_some() {
            // A prefix or suffix plate must mix letters and digits around a space or none:
            // `S31 ABC` after an exemption code reads as a code, not a car.
            let word = m.as_str();
            if word.starts_with('S') && c.get(5).is_some_and(|d| d.as_str().len() == 2) {
                continue;
            }
        }
        if MODEL_CUE.is_match(lead(text, m.start(), 30)) {
            continue;
        }
        let value: String = m.as_str().chars().filter(|c| *c != ' ').collect();
        hits.push(hit(Kind::Vehicle, m.start(), m.end(), value));
    }
    for c in VEHICLE_LOWER.captures_iter(text) {
        let (Some(m), Some(age)) = (c.get(0), c.get(2)) else {
            continue;
        };
        let n: u32 = age.as_str().parse().unwrap_or(0);
        if (2..=29).contains(&n) || (51..=79).contains(&n) {
            let value: String = m
                .as_str()
                .chars()
                .filter(|c| *c != ' ')
                .collect::<String>()
                .to_uppercase();
            hits.push(hit(Kind::Vehicle, m.start(), m.end(), value));
        }
    }
    for c in VEHICLE_DATELESS.captures_iter(text) {
        let Some(plate) = c.get(1) else { continue };
        let value: String = plate.as_str().chars().filter(|c| *c != ' ').collect();
        if value.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        hits.push(hit(Kind::Vehicle, plate.start(), plate.end(), value));
    }
}

fn month_number(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase();
    let all = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    all.iter()
        .position(|m| n.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// Year, month, day of a date match, if it is a real date.
fn date_parts(c: &regex::Captures) -> Option<(u32, u32, u32)> {
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (y, m, d) = if let (Some(d), Some(m), Some(y)) = (num(1), num(2), num(3)) {
        let y = if y < 100 {
            if y > 30 { 1900 + y } else { 2000 + y }
        } else {
            y
        };
        (y, m, d)
    } else if let (Some(d), Some(m), Some(y)) = (num(4), c.get(5), num(6)) {
        (y, month_number(m.as_str())?, d)
    } else if let (Some(m), Some(d), Some(y)) = (c.get(7), num(8), num(9)) {
        (y, month_number(m.as_str())?, d)
    } else {
        (num(10)?, num(11)?, num(12)?)
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d) && (1850..=2100).contains(&y))
        .then_some((y, m, d))
}

fn dates_of_birth(text: &str, hits: &mut Vec<Hit>) {
    for c in DATE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let Some((y, mo, d)) = date_parts(&c) else {
            continue;
        };
        // A cue in the same sentence before the date, or right after it (`12/03/1985 (DOB)`).
        let before = lead(text, m.start(), 60);
        // A sentence ends at `.`, `;`, `!` or `?` and a space: the stops in `d.o.b.` do not
        // end one.
        let before = match SENTENCE_END.find_iter(before).last() {
            Some(end)
                if !before[..end.start()]
                    .to_ascii_lowercase()
                    .ends_with("d.o.b") =>
            {
                &before[end.end()..]
            }
            _ => before,
        };
        let mut end = (m.end() + 16).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let after = &text[m.end()..end];
        let after = after.split(['.', ';', '\n']).next().unwrap_or("");
        if DOB_CUE.is_match(before) || DOB_CUE.is_match(after) {
            hits.push(hit(
                Kind::Dob,
                m.start(),
                m.end(),
                format!("{y:04}-{mo:02}-{d:02}"),
            ));
        }
    }
}

fn bank_details(text: &str, hits: &mut Vec<Hit>) {
    for c in SORT_CODE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let (sep1, sep2) = (
            c.get(2).map_or("", |s| s.as_str()),
            c.get(4).map_or("", |s| s.as_str()),
        );
        if sep1 != sep2
            || after(text, m.end()).is_some_and(|c| c == '-' || c == '/')
            || before(text, m.start()).is_some_and(|c| c == '-' || c == '/' || c == '.')
        {
            continue;
        }
        let cued = BANK_CUE.is_match(lead(text, m.start(), 40));
        let parts: Vec<u32> = [1, 3, 5]
            .iter()
            .filter_map(|&i| c.get(i)?.as_str().parse().ok())
            .collect();
        // `12-03-24` is as likely a date: without a word saying it is a sort code, only a
        // dashed triple that cannot be a date is one.
        let could_be_date =
            parts.len() == 3 && (1..=31).contains(&parts[0]) && (1..=12).contains(&parts[1]);
        if !cued && (sep1 != "-" || could_be_date) {
            continue;
        }
        let value = format!("{}-{}-{}", &c[1], &c[3], &c[5]);
        hits.push(hit(Kind::Bank, m.start(), m.end(), value));
    }
    for m in ACCOUNT.find_iter(text) {
        if before(text, m.start()).is_some_and(|c| matches!(c, '-' | '/' | '.' | '£' | ','))
            || after(text, m.end()).is_some_and(|c| matches!(c, '-' | '/'))
        {
            continue;
        }
        if BANK_CUE.is_match(lead(text, m.start(), 40)) {
            hits.push(hit(Kind::Bank, m.start(), m.end(), m.as_str().to_string()));
        }
    }
}

fn ip_addresses(text: &str, hits: &mut Vec<Hit>) {
    for c in IPV4.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if before(text, m.start()).is_some_and(|c| c == '.' || c.is_alphanumeric())
            || text[m.end()..].starts_with('.')
                && after(text, m.end() + 1).is_some_and(|c| c.is_ascii_digit())
        {
            continue;
        }
        let Ok(addr) = m.as_str().parse::<Ipv4Addr>() else {
            continue;
        };
        let lead = lead(text, m.start(), 40);
        if NUMBERING_CUE.is_match(lead) {
            continue;
        }
        // `3.2.1.4` is a paragraph number far more often than an address.
        if addr.octets().iter().all(|o| *o <= 20) && !IP_CUE.is_match(lead) {
            continue;
        }
        hits.push(hit(Kind::Ip, m.start(), m.end(), addr.to_string()));
    }
    for m in IPV6.find_iter(text) {
        let s = m.as_str().trim_end_matches(':');
        if !(s.contains("::") || s.matches(':').count() == 7) {
            continue;
        }
        if let Ok(addr) = s.parse::<Ipv6Addr>() {
            hits.push(hit(
                Kind::Ip,
                m.start(),
                m.start() + s.len(),
                addr.to_string(),
            ));
        }
    }
}

/// A capitalised word or an initial, with its byte span.
#[derive(Debug, Clone, Copy)]
struct Token<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl Token<'_> {
    /// Without a trailing `.` or possessive `'s`.
    fn bare(&self) -> &str {
        let t = self.text.trim_end_matches('.');
        t.strip_suffix("'s")
            .or_else(|| t.strip_suffix("’s"))
            .unwrap_or(t)
    }

    fn is_initial(&self) -> bool {
        let b = self.text.trim_end_matches('.');
        b.chars().count() == 1
    }
}

/// Runs of capitalised words (and initials) separated by one space, or a line break inside
/// a paragraph.
fn capitalised_runs(text: &str) -> Vec<Vec<Token<'_>>> {
    let mut runs = Vec::new();
    let mut run: Vec<Token> = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        if c.is_alphabetic() || c.is_ascii_digit() {
            let start = i;
            let mut end = i;
            for (k, ch) in text[i..].char_indices() {
                if ch.is_alphanumeric() || ch == '-' || ch == '\'' || ch == '’' {
                    end = i + k + ch.len_utf8();
                } else {
                    break;
                }
            }
            // Keep a trailing `.` of an initial or title (`J.`, `Insp.`).
            let mut tok_end = end;
            if bytes.get(end) == Some(&b'.') {
                tok_end = end + 1;
            }
            let word = text[start..end].trim_end_matches(['-', '\'', '’']);
            let end = start + word.len();
            let tok_end = if tok_end > end + 1
                || word.len() < text[start..tok_end].trim_end_matches('.').len()
            {
                end
            } else {
                tok_end
            };
            let capital = c.is_uppercase();
            if capital {
                // Joined to the run only across one space or one line break.
                if let Some(last) = run.last() {
                    let gap = &text[last.end..start];
                    let joined = gap == " "
                        || gap == "\u{a0}"
                        || (gap
                            .trim_start_matches([' ', '\t'])
                            .starts_with(['\n', '\r'])
                            && gap.trim().is_empty()
                            && gap.matches(['\n']).count() <= 1
                            && !gap.contains("\r\r"));
                    if !joined {
                        runs.push(std::mem::take(&mut run));
                    }
                }
                run.push(Token {
                    text: &text[start..tok_end],
                    start,
                    end: tok_end,
                });
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            i = tok_end.max(start + c.len_utf8());
        } else {
            if !matches!(c, ' ' | '\u{a0}' | '\n' | '\r' | '\t') && !run.is_empty() {
                // Punctuation right after a word ends the run, except the `.` kept above.
                runs.push(std::mem::take(&mut run));
            }
            i += c.len_utf8();
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

impl Recognisers {
    fn is_name_word(&self, token: &Token) -> bool {
        let bare = token.bare();
        let mut chars = bare.chars();
        let first_upper = chars.next().is_some_and(char::is_uppercase);
        // A word in capitals (`NPCC`, `HMRC`) is an acronym, not a name.
        let has_lower = bare.chars().any(char::is_lowercase);
        first_upper
            && has_lower
            && !bare.chars().any(|c| c.is_ascii_digit())
            && !self.not_names.contains(bare)
            && !TITLES.iter().any(|t| t.len() == 1 && t[0] == bare)
    }

    /// Names after a title or role (or a rank and number), names that start with a given
    /// name from the list, and initials before a surname (`J. Smith`).
    fn names(&self, text: &str, hits: &mut Vec<Hit>) {
        if text.bytes().any(|b| b.is_ascii_digit()) {
            for c in COLLAR_NAME.captures_iter(text) {
                let Some(name) = c.get(1) else { continue };
                let token = Token {
                    text: name.as_str(),
                    start: name.start(),
                    end: name.end(),
                };
                if self.is_name_word(&token) {
                    hits.push(self.name_hit(text, &token, &[token], None));
                }
            }
        }
        for run in capitalised_runs(text) {
            let mut i = 0;
            while i < run.len() {
                if let Some(len) = title_at(&run[i..]) {
                    // Initials then up to three name words.
                    let mut j = i + len;
                    let mut words = Vec::new();
                    while j < run.len() && run[j].is_initial() && words.len() < 3 {
                        words.push(run[j]);
                        j += 1;
                    }
                    let mut names = 0;
                    while j < run.len() && names < 3 && self.is_name_word(&run[j]) {
                        words.push(run[j]);
                        names += 1;
                        j += 1;
                    }
                    if names > 0 {
                        let title: Vec<&str> = run[i..i + len].iter().map(|t| t.text).collect();
                        hits.push(self.name_hit(text, &run[i], &words, Some(title.join(" "))));
                        i = j;
                        continue;
                    }
                    i += len;
                    continue;
                }
                // Initials with full stops at the start of a run, then a surname.
                if i == 0 && run[i].is_initial() && run[i].text.ends_with('.') {
                    let mut j = i;
                    while j < run.len()
                        && run[j].is_initial()
                        && run[j].text.ends_with('.')
                        && j - i < 3
                    {
                        j += 1;
                    }
                    if j < run.len() && self.is_name_word(&run[j]) {
                        hits.push(self.name_hit(text, &run[i], &run[i..=j], None));
                        i = j + 1;
                        continue;
                    }
                }
                if self.given.contains(run[i].bare()) && self.is_name_word(&run[i]) {
                    let mut j = i + 1;
                    let mut words = vec![run[i]];
                    // A middle initial or name, then the surname.
                    while j < run.len() && run[j].is_initial() && words.len() < 3 {
                        words.push(run[j]);
                        j += 1;
                    }
                    let mut names = 0;
                    while j < run.len() && names < 2 && self.is_name_word(&run[j]) {
                        words.push(run[j]);
                        names += 1;
                        j += 1;
                    }
                    // `Florence Nightingale Hospital` is a building named after a person.
                    let org_next = run
                        .get(j)
                        .is_some_and(|t| self.not_names.contains(t.bare()));
                    if names > 0 && !org_next && !words.last().is_some_and(|w| w.is_initial()) {
                        hits.push(self.name_hit(text, &run[i], &words, None));
                        i = j;
                        continue;
                    }
                }
                i += 1;
            }
        }
    }

    fn name_hit(&self, text: &str, first: &Token, words: &[Token], title: Option<String>) -> Hit {
        let last = words.last().unwrap_or(first);
        // The possessive `'s` and a sentence's full stop are not part of the name.
        let end = last.start + last.bare().len();
        let end = if last.is_initial() { last.end } else { end };
        let value = normalise_name(&text[words[0].start..end]);
        Hit {
            kind: Kind::Name,
            span: Span::new(first.start, end),
            value,
            title,
        }
    }
}

/// The length in tokens of a title at the start of `run`, if one is there.
fn title_at(run: &[Token]) -> Option<usize> {
    TITLES
        .iter()
        .find(|title| {
            title.len() <= run.len()
                && title
                    .iter()
                    .zip(run)
                    .all(|(want, tok)| tok.text.trim_end_matches('.') == *want)
        })
        .map(|t| t.len())
}

/// A name as acknowledgements and `people.yaml` compare it: NFKC, words separated by one
/// space, lower case.
pub fn normalise_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name.nfkc().collect::<String>().replace('’', "'");
    folded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        Recognisers::new()
            .scan(text, Span::new(0, text.len()))
            .into_iter()
            .map(|h| (h.kind, h.value))
            .collect()
    }

    #[test]
    fn patterns_compile() {
        for p in [
            &EMAIL,
            &PHONE,
            &NINO,
            &NHS,
            &POSTCODE,
            &COLLAR,
            &VEHICLE,
            &VEHICLE_DATELESS,
            &DATE,
            &DOB_CUE,
            &SORT_CODE,
            &ACCOUNT,
            &BANK_CUE,
            &IPV4,
            &IPV6,
            &NUMBERING_CUE,
            &IP_CUE,
            &PRODUCT_CUE,
        ] {
            assert!(!p.as_str().is_empty());
        }
    }

    #[test]
    fn nhs_check_digit() {
        // 943 476 5919 is the NHS's own example of a valid number.
        assert!(nhs_check(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 9]));
        assert!(!nhs_check(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 8]));
    }

    #[test]
    fn phone_forms_normalise_alike() {
        for raw in [
            "020 7946 0000",
            "+44 (0)20 7946 0000",
            "0044 20 7946 0000",
            "02079460000",
        ] {
            assert_eq!(phone_value(raw).as_deref(), Some("+442079460000"), "{raw}");
        }
        // A range not assigned today is still a possible number.
        assert_eq!(
            phone_value("04000 123456").as_deref(),
            Some("+444000123456")
        );
        assert_eq!(phone_value("0123 45"), None);
    }

    #[test]
    fn titled_and_listed_names() {
        assert_eq!(
            kinds("Ch Supt Aled Pryce-Whitcombe signed it."),
            vec![(Kind::Name, "aled pryce-whitcombe".into())]
        );
        assert_eq!(
            kinds("The report from Sarah Jenkins arrived."),
            vec![(Kind::Name, "sarah jenkins".into())]
        );
        assert!(kinds("Victoria Street and the Chief Constable Council").is_empty());
    }
}
