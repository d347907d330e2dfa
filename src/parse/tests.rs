//! The parser's own tests: cases the CLI tests cannot reach (two starts of the fence
//! settling compared directly) or where timing matters.

use super::body::Body;
use super::parse_paper;
use crate::error::Diagnostic;
use crate::model::Paper;
use crate::rules::Rules;
use crate::span::Span;

fn parse(body: &str) -> Result<Paper, Diagnostic> {
    let rules = Rules::embedded().expect("embedded rules");
    let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n{body}");
    parse_paper(&text, &rules)
}

/// Loose braces holding a code-shaped word the rules do not define are prose; a mis-cased
/// real code is still a tag missing its dot, and the hint spells it as the rules do.
#[test]
fn loose_braces_name_a_code_only_when_the_rules_define_it() {
    assert!(parse("Store it in {s3 bucket}, not {S99}.\n").is_ok());
    let error = parse("Withheld {s31} here.\n").expect_err("a mis-cased code");
    assert!(
        error.message.contains("missing its dot"),
        "{}",
        error.message
    );
    assert!(
        error.hint.as_deref().is_some_and(|h| h.contains("{.S31}")),
        "{:?}",
        error.hint
    );
}

/// A multi-byte character just before the line break above a fence once split a slice.
#[test]
fn fence_after_a_line_ending_in_a_multibyte_character_parses() {
    for body in [
        "abc\u{200b}\n::: S31\nx\n:::\n",
        "é\r\n::: S31\r\nx\r\n:::\r\n",
    ] {
        let paper = parse(body).expect("valid paper");
        assert_eq!(paper.redactions.len(), 1);
        assert!(
            paper.redactions[0]
                .placement
                .as_ref()
                .is_some_and(|p| p.blank_before)
        );
    }
}

/// A long run of `{` on one line is read once, not once per `{`, and a near miss at its
/// end is still found, at the same place.
#[test]
fn near_miss_after_a_long_line_of_braces_is_found_in_linear_time() {
    let braces = "{".repeat(200_000);
    let started = std::time::Instant::now();
    assert!(parse(&format!("x {braces} y\n")).is_ok());
    assert!(parse(&format!("[a]: /u{braces}\n")).is_ok());
    assert!(parse(&format!("x {}\n", "{ ".repeat(100_000))).is_ok());
    let error = parse(&format!("x {braces}S31}} y\n"))
        .err()
        .map(|d| (d.span, d.message));
    let at = "---\ntitle: T\nclassification: OFFICIAL\n---\nx ".len() + braces.len() - 1;
    assert_eq!(
        error,
        Some((
            Span::new(at, at + 5),
            "class `S31` is missing its dot".to_string()
        ))
    );
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[test]
fn heading_section_stops_at_same_level_heading_in_its_container() {
    let body = "## A {.S31}\n\ntext\n\n### deeper\n\n> ## quoted\n\n## B\n\nkept\n";
    let paper = parse(body).expect("valid paper");
    let r = &paper.redactions[0];
    let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n{body}");
    assert!(text[r.span.start..r.span.end].ends_with("> ## quoted"));
}

/// Starting from every fence line masked settles on the same fences, code and HTML as
/// starting from the source, on every paper the tests hold and on papers made to tell
/// them apart.
#[test]
fn masked_start_settles_where_the_source_start_does() {
    let mut papers: Vec<(String, String)> = vec![
        ("span across".into(), "Para `code\n:::\nmore` end\n".into()),
        (
            "html across".into(),
            "Para <span title=\"\n:::\n\">x</span>\n".into(),
        ),
        (
            "escaped".into(),
            "Para \\`x\n::: {.S31}\nwithheld\n:::\n".into(),
        ),
        ("double".into(), "Para `` ` `` `\n:::\nmore` end\n".into()),
        (
            "closed".into(),
            "Para `a` and ``b``\n::: {.S31}\nwithheld `c`\n:::\n".into(),
        ),
        (
            "in code".into(),
            "```\n\n:::\n\n```\n\n::: {.S31}\nx\n:::\n".into(),
        ),
        ("indented".into(), "text\n:::\n    ::: {.S31}\n".into()),
        ("quote".into(), "> text\n> ::: {.S31}\n> x\n> :::\n".into()),
        ("link across".into(), "Para [a](u) [b\n:::\nc](v)\n".into()),
        (
            "bracket in code".into(),
            "Para [a `]` b\n:::\nc](v)\n".into(),
        ),
        ("title across".into(), "Para [a](u \"t\n:::\n\")\n".into()),
        (
            "image in link".into(),
            "Para ![x [a](b]c)\n:::\nd](e)\n".into(),
        ),
        (
            "closed links".into(),
            "Para [a](u) and [b]{.S31} `[`\n::: {.S31}\nwithheld [c](v)\n:::\n".into(),
        ),
        (
            "backtick on a fence line".into(),
            "::: {.S31 reason=\"`\"}\n`x` y\n::: {.S31 reason=\"`\"}\n".into(),
        ),
        (
            "comment".into(),
            "<!--\n\n:::\n\n-->\n\n::: {.S31}\nx\n:::\n".into(),
        ),
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        "fixtures",
        "tests/adversarial",
        "tests/leaks",
        "tests/invalid",
        "tests/check",
    ] {
        for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
            let entry = entry.expect("walk");
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "md")
                && let Ok(text) = std::fs::read_to_string(path)
            {
                papers.push((path.display().to_string(), text));
            }
        }
    }
    assert!(papers.len() > 100, "{} papers", papers.len());
    let outcome = |text: &str, guess: bool| match Body::analyse_from(text, 0, guess) {
        Ok(b) => Ok((
            b.fences.iter().map(|f| f.colon).collect::<Vec<_>>(),
            b.code,
            b.html,
            b.blocks.len(),
        )),
        Err(d) => Err(format!("{d:?}")),
    };
    for (name, text) in &papers {
        assert_eq!(outcome(text, true), outcome(text, false), "{name}");
    }
}

proptest::proptest! {
    /// A forward walk asking for the next span byte in stretches (as the span walk does,
    /// between skipped regions) finds what a byte-by-byte search of each stretch finds, with
    /// the backslash remembered between asks.
    #[test]
    fn specials_walk_finds_each_stretch_s_first_span_byte(
        bytes in proptest::collection::vec(proptest::sample::select(
            b"ab \\[]{}Z\x80".to_vec()), 0..60),
        steps in proptest::collection::vec((0usize..8, 0usize..20), 0..12),
    ) {
        let mut walk = super::spans::Specials::default();
        let mut from = 0;
        for (skip, len) in steps {
            from = (from + skip).min(bytes.len());
            let limit = (from + len).min(bytes.len());
            let naive = bytes[from..limit]
                .iter()
                .position(|&b| super::spans::special(b))
                .map_or(limit, |n| from + n);
            proptest::prop_assert_eq!(walk.next(&bytes, from, limit), naive);
            from = naive;
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..proptest::prelude::ProptestConfig::default()
    })]
    /// Papers made of fence lines, code spans and fences, HTML and containers in any
    /// order: both starts settle on the same fences.
    #[test]
    fn masked_start_settles_alike_on_generated_papers(
        lines in proptest::collection::vec(proptest::sample::select(vec![
            ":::", "::: {.S31}", "::: S24", "::: {.S31 reason=\"`\"}", "text `a", "b` c",
            "`x` y", "``a ` b``", "\\`", "<span title=\"", "\">x</span>", "", "```", "~~~",
            "> q", "> :::", "> ::: {.S23}", "- item", "  ::: {.S31}", "    code",
            "<!--", "-->", "para", "## Head {.S31}", "---",
                "[a", "b](u)", "[x](y \"t", "z\")", "[l][", "r]", "[ok](u) [k]{.S31}",
                "`[` a]", "![i [j](k]l)", "[a](u) [b", "c] d", "::: {.S31 reason=\"[\"}",
        ]), 0..24)
    ) {
        let text = lines.join("\n");
        let outcome = |guess: bool| match Body::analyse_from(&text, 0, guess) {
            Ok(b) => Ok((b.fences.iter().map(|f| f.colon).collect::<Vec<_>>(), b.code, b.html)),
            Err(d) => Err(format!("{d:?}")),
        };
        proptest::prop_assert_eq!(outcome(true), outcome(false), "{}", text);
    }
}

/// The word-at-a-time search for a multi-byte character finds what a byte-by-byte one does,
/// at every offset in a word, and so the look-alike check still sees a full-width brace
/// wherever it falls.
#[test]
fn lead_byte_search_finds_every_multibyte_character() {
    use super::near_miss::first_lead_byte;
    // Past 64 bytes, so that whole 32-byte ASCII blocks are passed over before a lead byte.
    for len in 0..72 {
        for at in 0..len {
            for lead in [0xC2u8, 0xE2, 0xEF, 0xF0, 0xFF] {
                let mut bytes = vec![b'a'; len];
                // Continuation bytes (0x80..0xBF) and ASCII are not lead bytes.
                if at > 0 {
                    bytes[at - 1] = 0xBF;
                }
                bytes[at] = lead;
                let naive = bytes.iter().position(|&b| b >= 0xC0);
                assert_eq!(first_lead_byte(&bytes), naive, "{len} {at} {lead:x}");
            }
        }
        assert_eq!(first_lead_byte(&vec![0x80; len]), None);
    }
    for pad in 0..17 {
        let body = format!(
            "{}[x]\u{ff5b}.S31\u{ff5d} and more text here.\n",
            "a".repeat(pad)
        );
        let error = parse(&body).expect_err("a full-width tag");
        assert!(
            error.message.contains("look-alike"),
            "{pad}: {}",
            error.message
        );
    }
}

/// The backward search for the last `-->` finds what `rfind` does, and a `<!--` after it is
/// still refused, whatever near-misses of `-->` come between.
#[test]
fn last_comment_end_matches_rfind() {
    use super::comments::last_comment_end;
    for text in [
        "",
        ">",
        "->",
        "-->",
        "a-->b",
        "--->",
        "-- >",
        "->->",
        "a --> b --> c",
        ">-->>",
        "-->-",
        "<!-- x -->> y",
        "- - >",
    ] {
        let naive = text.rfind("-->").map(|n| n + 3);
        assert_eq!(last_comment_end(text), naive, "{text:?}");
    }
    for tail in ["", " ->", " -- >", " >", " ->>"] {
        let body = format!("<!-- one -->\n\nText{tail} and 1 < 2 <<!-- never closed\n");
        let error = parse(&body).expect_err("an open comment");
        assert!(
            error.message.contains("never closed"),
            "{tail:?}: {}",
            error.message
        );
    }
}

/// The line-break searches find what a byte-by-byte search for `\n` or `\r` finds, with
/// LF, CRLF and lone CR lines in any mix.
#[test]
fn line_break_searches_match_a_byte_search() {
    use super::text::{first_break, last_break};
    let pieces = ["a", "é", "\n", "\r", "\r\n", "", "xyz"];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                for d in pieces {
                    let text = format!("{a}{b}{c}{d}");
                    let bytes = text.as_bytes();
                    let naive_first = bytes.iter().position(|&x| x == b'\n' || x == b'\r');
                    let naive_last = bytes.iter().rposition(|&x| x == b'\n' || x == b'\r');
                    assert_eq!(first_break(&text), naive_first, "{text:?}");
                    assert_eq!(last_break(&text), naive_last, "{text:?}");
                }
            }
        }
    }
}

proptest::proptest! {
    /// The `:::` search finds the lines the old search, from `:` to `:`, found: with colons
    /// alone, in pairs and in runs, on LF, CRLF and lone CR lines, from any start.
    #[test]
    fn fence_lines_match_a_colon_by_colon_search(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            ":", "::", ":::", "::::", "a", " ", "\n", "\r", "\r\n", "é", "> ", "- ",
        ]), 0..32),
        from in 0usize..64,
    ) {
        use super::fences::fence_lines;
        use super::text::{last_break, line_end_of};
        let text: String = pieces.concat();
        let mut from = from.min(text.len());
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut naive = Vec::new();
        let mut at = from;
        while let Some(n) = text.get(at..).and_then(|rest| rest.find(':')) {
            let colon = at + n;
            if !text[colon..].starts_with(":::") {
                at = colon + 1;
                continue;
            }
            let start = last_break(&text[from..colon]).map_or(from, |n| from + n + 1);
            let end = line_end_of(&text, colon);
            naive.push((start, end));
            at = end + 1;
        }
        proptest::prop_assert_eq!(fence_lines(&text, from).collect::<Vec<_>>(), naive);
    }
}

/// The byte-by-byte readings of a line before a fence that `fences::code_spans` and
/// `fences::links_close` replaced, kept to compare them with.
mod byte_by_byte {
    /// The code spans of `line` (from the opening backtick run to the end of the closing one),
    /// if every backtick run in it is closed by a later run of the same length on it, as
    /// CommonMark pairs code spans, so none can open here and close on a later line. A backslash
    /// before a backtick (an escape, or literal inside code) gives up: None.
    pub(super) fn old_code_spans(line: &str) -> Option<Vec<(usize, usize)>> {
        if line.contains("\\`") {
            return None;
        }
        let bytes = line.as_bytes();
        let run_end = |mut i: usize| {
            while i < bytes.len() && bytes[i] == b'`' {
                i += 1;
            }
            i
        };
        let mut spans = Vec::new();
        let mut i = 0;
        while let Some(found) = bytes[i..].iter().position(|&b| b == b'`') {
            let start = i + found;
            let end = run_end(start);
            let mut j = end;
            let closed = loop {
                let Some(next) = bytes[j..].iter().position(|&b| b == b'`') else {
                    break None;
                };
                let (s, e) = (j + next, run_end(j + next));
                if e - s == end - start {
                    break Some(e);
                }
                j = e;
            };
            let after = closed?;
            spans.push((start, after));
            i = after;
        }
        Some(spans)
    }

    /// Whether no link can open on `line` and close on a later one: outside its code spans
    /// (which bind tighter than brackets), every `[` is closed later on the line, and every `](`
    /// destination closes on it holding no quote (a title may run on), bracket, backtick or `<`.
    /// A backslash gives up (an escaped bracket counts for nothing): false. Only the brackets
    /// are read here; `<` and unclosed code spans are refused by the caller.
    pub(super) fn old_links_close(line: &str, code: &[(usize, usize)]) -> bool {
        if !line.contains('[') {
            return true;
        }
        if line.contains('\\') {
            return false;
        }
        let bytes = line.as_bytes();
        let mut next_code = code.iter().peekable();
        let mut depth = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            if let Some(&&(start, end)) = next_code.peek()
                && i >= start
            {
                i = end;
                next_code.next();
                continue;
            }
            match bytes[i] {
                b'[' => depth += 1,
                b']' => {
                    depth = depth.saturating_sub(1);
                    if bytes.get(i + 1) == Some(&b'(') {
                        let mut parens = 0usize;
                        let mut j = i + 1;
                        loop {
                            match bytes.get(j) {
                                None | Some(b'"' | b'\'' | b'[' | b']' | b'`' | b'<') => {
                                    return false;
                                }
                                Some(b'(') => parens += 1,
                                Some(b')') => {
                                    parens -= 1;
                                    if parens == 0 {
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            j += 1;
                        }
                        i = j;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        depth == 0
    }
}

proptest::proptest! {
    /// The memchr readings of a line before a fence find the same code spans, and the same
    /// answer on whether every link closes, as the byte-by-byte ones.
    #[test]
    fn line_readings_match_byte_by_byte(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "`", "``", "a", " ", "[", "]", "](", "(", ")", "\\", "\"", "'", "<", "é", "x]{",
        ]), 0..24),
    ) {
        use super::fences::{code_spans, links_close};
        use byte_by_byte::{old_code_spans, old_links_close};
        let line: String = pieces.concat();
        let code = code_spans(&line);
        proptest::prop_assert_eq!(&code, &old_code_spans(&line));
        if let Some(code) = code {
            proptest::prop_assert_eq!(links_close(&line, &code), old_links_close(&line, &code));
        }
    }
}

/// The masked text is the source with each fence line's colons and attributes turned into
/// `***` and spaces, byte for byte as the char-at-a-time masking made it, whatever the
/// width of the fence line (past the 64 spaces pushed at once too).
#[test]
fn mask_matches_char_at_a_time_masking() {
    use super::fences::{fences, mask};
    for width in 0..140 {
        let reason = "r".repeat(width);
        for line in [
            ":::".to_string(),
            "::::".to_string(),
            format!("::: {{.S31 reason=\"{reason}\"}}"),
            format!("::: {{.S31}} {}", ":".repeat(width)),
        ] {
            let text = format!("a\n\n{line}\nb\n\n> {line}\n");
            let found = fences(&text, 0, &[], &[]).expect("fences");
            let mut naive = String::new();
            let mut at = 0;
            for fence in &found {
                naive.push_str(&text[at..fence.colon]);
                let width = fence.end - fence.colon;
                naive.push_str(&"***"[..width.min(3)]);
                naive.extend(std::iter::repeat_n(' ', width.saturating_sub(3)));
                at = fence.end;
            }
            naive.push_str(&text[at..]);
            assert_eq!(mask(&text, &found), naive, "{line:?}");
        }
    }
}

/// `collector::nest` as it was, sorting the finds themselves and remembering each in a set:
/// kept to compare the new one with.
mod nest_as_it_was {
    use super::super::collector::Found;
    use crate::error::{Diagnostic, line_col_label};
    use crate::model::Redaction;
    use crate::span::Span;

    pub(super) fn old_nest(
        text: &str,
        mut found: Vec<Found>,
    ) -> Result<Vec<Redaction>, Diagnostic> {
        found.sort_by(|a, b| {
            a.span
                .start
                .cmp(&b.span.start)
                .then(b.span.end.cmp(&a.span.end))
        });
        let mut out: Vec<Redaction> = Vec::with_capacity(found.len());
        let mut stack: Vec<usize> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (k, f) in found.into_iter().enumerate() {
            if !seen.insert((f.span.start, f.span.end, f.attrs.start)) {
                continue;
            }
            while let Some(&top) = stack.last() {
                if out[top].span.end <= f.span.start {
                    stack.pop();
                } else {
                    break;
                }
            }
            let parent = stack.last().copied();
            if let Some(p) = parent
                && !out[p].span.encloses(f.span)
            {
                return Err(Diagnostic::new(
                    Span::new(f.span.start, f.span.start + 1),
                    "redaction overlaps another without nesting inside it",
                )
                .note(format!(
                    "the other starts at {}",
                    line_col_label(text, out[p].span.start)
                ))
                .hint("close the inner redaction before the outer one ends"));
            }
            if stack.len() >= super::super::MAX_DEPTH {
                return Err(super::super::too_deep(f.span));
            }
            let _ = k;
            out.push(Redaction {
                number: out.len() + 1,
                id: f.tagged.id.map(|(id, _)| id),
                form: f.form,
                codes: f.tagged.codes,
                classes: f.tagged.classes,
                reason: f.tagged.reason,
                pit: f.tagged.pit,
                span: f.span,
                open: f.open,
                close: f.close,
                attrs: f.attrs,
                parent,
                placement: f.placement,
            });
            stack.push(out.len() - 1);
        }
        Ok(out)
    }
}

proptest::proptest! {
    /// Nesting finds given in any order, with the same span found twice (with the same or
    /// another attribute block), nested, overlapping and disjoint: the same redactions, or
    /// the same error, as before.
    #[test]
    fn nest_matches_sorting_the_finds(
        finds in proptest::collection::vec((0usize..30, 0usize..8, 0usize..2), 0..7),
        twice in proptest::collection::vec(0usize..7, 0..3),
    ) {
        // Some found twice, as a tag read on two paths is.
        let mut finds = finds;
        for k in twice {
            if let Some(&f) = finds.get(k) {
                finds.push(f);
            }
        }
        use super::attributes::Tagged;
        use super::collector::{Found, nest};
        use crate::model::Form;
        let text = "x".repeat(40);
        let make = || -> Vec<Found> {
            finds
                .iter()
                .enumerate()
                .map(|(k, &(start, len, attrs))| {
                    let span = Span::new(start, start + len + 1);
                    Found {
                        form: Form::Span,
                        tagged: Tagged {
                            id: Some((format!("f{k}"), Span::empty(start))),
                            ..Tagged::default()
                        },
                        span,
                        open: Span::new(start, start + 1),
                        close: Span::empty(span.end),
                        attrs: Span::new(span.end - 1 + attrs, span.end + attrs),
                        placement: None,
                    }
                })
                .collect()
        };
        let show = |r: Result<Vec<crate::model::Redaction>, Diagnostic>| match r {
            Ok(v) => Ok(v),
            Err(d) => Err(format!("{d:?}")),
        };
        proptest::prop_assert_eq!(
            show(nest(&text, make())),
            show(nest_as_it_was::old_nest(&text, make()))
        );
    }
}

proptest::proptest! {
    /// The `<!--` and `-->` searches find what `<`-by-`<` and `rfind` searches find, among
    /// near-misses, overlaps and multi-byte characters.
    #[test]
    fn comment_searches_match_naive_ones(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "<", "!", "-", "--", ">", "<!--", "-->", "<!-", "a", "é", "\n",
        ]), 0..24),
        from in 0usize..40,
    ) {
        use super::comments::{comment_opens, last_comment_end};
        let text: String = pieces.concat();
        let mut from = from.min(text.len());
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let naive: Vec<usize> = text[from..]
            .match_indices('<')
            .map(|(n, _)| from + n)
            .filter(|&at| text[at..].starts_with("<!--"))
            .collect();
        proptest::prop_assert_eq!(comment_opens(&text, from).collect::<Vec<_>>(), naive);
        proptest::prop_assert_eq!(last_comment_end(&text), text.rfind("-->").map(|n| n + 3));
    }
}

/// The in-place code lookup finds what `Rules::exemption` finds: every code, and words that
/// are near one (case, length, a byte changed) or nothing like one.
#[test]
fn exemption_lookup_matches_the_rules_one() {
    use super::attributes::exemption;
    let rules = Rules::embedded().expect("rules");
    let mut words: Vec<String> = vec![String::new(), "S".into(), "S3".into(), "x".into()];
    for e in &rules.exemptions {
        let code = e.code.as_str();
        words.push(code.to_string());
        words.push(code.to_lowercase());
        words.push(format!("{code}x"));
        words.push(code[..code.len() - 1].to_string());
        words.push(format!("{}9", &code[..code.len() - 1]));
    }
    for word in &words {
        assert_eq!(
            exemption(&rules, word).map(|e| e.code.as_str()),
            rules.exemption(word).map(|e| e.code.as_str()),
            "{word:?}"
        );
    }
}

/// A tag's codes are the rules' codes, in tag order and each once, whichever way a class
/// spelling one is kept.
#[test]
fn tagged_codes_are_the_rules_codes() {
    use super::attributes::tagged;
    use crate::attr::AttrItem;
    let rules = Rules::embedded().expect("rules");
    let codes: Vec<&str> = rules.exemptions.iter().map(|e| e.code.as_str()).collect();
    for (k, code) in codes.iter().enumerate() {
        let other = codes[(k + 1) % codes.len()];
        let items = [*code, other, code]
            .iter()
            .map(|c| (AttrItem::Class(c.to_string()), Span::new(0, 1)))
            .collect();
        let got = tagged(&rules, items).expect("tagged");
        let want: Vec<_> = [*code, other]
            .iter()
            .map(|c| &rules.exemption(c).expect("a rules code").code)
            .collect();
        assert_eq!(got.codes.iter().collect::<Vec<_>>(), want, "{code}");
    }
}

proptest::proptest! {
    /// The blocks' partition point searched on from the last call's finds what a binary
    /// search from scratch finds, for offsets asked in any order (forward as the reading
    /// mostly asks, back, the same again, past the end), on papers with nested and
    /// same-start blocks (a list and its first item, quotes, tables).
    #[test]
    fn blocks_starting_by_matches_a_fresh_search(
        lines in proptest::collection::vec(proptest::sample::select(vec![
            "para", "", "> q", "> > qq", "- item", "  - sub", "1. one", "# Head", "    code",
            "| a | b |", "|---|---|", "| c | d |", "[^n]: note", "```\nx\n```", "<div>", "---",
        ]), 0..40),
        asks in proptest::collection::vec(0usize..400, 0..60),
    ) {
        let text = lines.join("\n");
        let body = super::scan::scan(&text, 0).expect("scan");
        for at in asks {
            let fresh = body.blocks.partition_point(|b| b.span.start <= at);
            proptest::prop_assert_eq!(body.blocks_starting_by(at), fresh, "at {}", at);
        }
    }
}
