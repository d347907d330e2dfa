//! docs/format.md, the format reference for authors, shows an example of every error the
//! parser can raise: each `Diagnostic::new(span, "message")` in the parser's source files
//! (src/parse.rs or src/parse/*.rs, src/attr.rs, src/front_matter.rs) must match an
//! `error:` line in one of its ```` ```text ```` blocks, so a new error without an example
//! fails here.

use std::path::{Path, PathBuf};

use crate::project_root;

/// The parser's source files, in either layout (one src/parse.rs, or a src/parse/ folder).
fn parser_sources() -> Vec<PathBuf> {
    let src = project_root().join("src");
    let mut files: Vec<PathBuf> = ["parse.rs", "attr.rs", "front_matter.rs"]
        .iter()
        .map(|f| src.join(f))
        .filter(|p| p.is_file())
        .collect();
    if src.join("parse").is_dir() {
        for entry in walkdir::WalkDir::new(src.join("parse")).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.path().extension().is_some_and(|x| x == "rs") {
                files.push(entry.path().to_path_buf());
            }
        }
    }
    files
}

/// The text of the string literal starting at `text[0]` (a `"`), its escapes undone, and
/// where it ends.
fn string_literal(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Some((out, k + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                // A line continuation: the line break and the next line's indentation go.
                '\n' => {
                    let rest = &text[k + 2..];
                    let skip = rest.len() - rest.trim_start().len();
                    for _ in 0..rest[..skip].chars().count() {
                        chars.next();
                    }
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Every message given to `Diagnostic::new` as a literal or a `format!` string in `source`,
/// with each `{…}` of a `format!` kept as it is (it stands for any text).
fn messages(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in source.match_indices("Diagnostic::new(") {
        let call = &source[at + "Diagnostic::new(".len()..];
        // The first argument is the span: skip to the comma after it, at depth 0.
        let mut depth = 0i32;
        let mut comma = None;
        for (k, c) in call.char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    comma = Some(k);
                    break;
                }
                _ => {}
            }
        }
        let Some(comma) = comma else { continue };
        let argument = call[comma + 1..].trim_start();
        let literal = argument
            .strip_prefix("format!(")
            .map(str::trim_start)
            .unwrap_or(argument);
        if literal.starts_with('"')
            && let Some((message, _)) = string_literal(literal)
        {
            out.push(message);
        }
    }
    out
}

/// A message as a pattern over an error line: each `{…}` matches any text.
fn matches_message(line: &str, message: &str) -> bool {
    let mut pattern = String::from("error: ");
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        pattern.push_str(&regex::escape(&rest[..open]));
        let close = rest[open..].find('}').map_or(rest.len(), |k| open + k + 1);
        pattern.push_str(".+?");
        rest = &rest[close..];
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    regex::Regex::new(&pattern).unwrap().is_match(line)
}

/// The lines of every ```` ```text ```` block of a Markdown file.
fn text_block_lines(markdown: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in markdown.lines() {
        if inside {
            if line.starts_with("```") {
                inside = false;
            } else {
                out.push(line);
            }
        } else if line.trim_end() == "```text" {
            inside = true;
        }
    }
    out
}

fn parser_messages() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in parser_sources() {
        let source = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(project_root()).unwrap_or(Path::new(""));
        for message in messages(&source) {
            // Not reachable from any input: a bug report, not an author's error.
            if !message.starts_with("internal:") {
                out.push((name.display().to_string(), message));
            }
        }
    }
    out
}

#[test]
fn every_parser_error_has_an_example_in_the_format_reference() {
    let messages = parser_messages();
    assert!(
        messages.len() >= 30,
        "only {} messages found",
        messages.len()
    );
    let doc = std::fs::read_to_string(project_root().join("docs/format.md")).unwrap();
    let lines: Vec<&str> = text_block_lines(&doc)
        .into_iter()
        .filter(|l| l.contains(": error: "))
        .collect();
    let missing: Vec<String> = messages
        .iter()
        .filter(|(_, message)| !lines.iter().any(|l| matches_message(l, message)))
        .map(|(file, message)| format!("{file}: {message:?}"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/format.md has no ```text example of these errors:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_message_scan_reads_literals_and_format_strings() {
    let source = r#"
        Diagnostic::new(Span::new(a, b), "plain message")
        Diagnostic::new(span, format!("unknown class `.{class}`")).hint("x")
        Diagnostic::new(
            Span::new(f(x, y), z),
            "a long message \
             on two lines",
        )
        Diagnostic::new(span, message)
    "#;
    assert_eq!(
        messages(source),
        [
            "plain message",
            "unknown class `.{class}`",
            "a long message on two lines"
        ]
    );
    assert!(matches_message(
        "x.md:6:9: error: unknown class `.b`",
        "unknown class `.{class}`"
    ));
    assert!(!matches_message(
        "x.md:6:9: error: unknown class `.b` and more",
        "unknown class `.{class}`"
    ));
    assert!(matches_message(
        "p.md:3:1: error: nesting deeper than 256 levels",
        "nesting deeper than {MAX_DEPTH} levels"
    ));
}

#[test]
#[ignore = "prints the parser's messages, to write examples for"]
fn print_parser_messages() {
    for (file, message) in parser_messages() {
        println!("{file}\t{message}");
    }
}
