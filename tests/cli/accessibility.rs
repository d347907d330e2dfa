//! Accessibility of the HTML copies: contrast computed from the page template's own CSS,
//! landmarks, one `<h1>`, and markers whose text alternative names the codes as shown.

use std::collections::BTreeMap;
use std::fs;

use super::{project_root, redact};

fn css() -> String {
    let page = fs::read_to_string(project_root().join("templates/paper.html")).unwrap();
    let start = page.find("<style>").unwrap();
    let end = page.find("</style>").unwrap();
    page[start..end].to_string()
}

/// `--name: #rrggbb` custom properties.
fn variables(css: &str) -> BTreeMap<String, String> {
    css.lines()
        .filter_map(|l| {
            let l = l.trim().trim_end_matches(';');
            let (name, value) = l.split_once(':')?;
            name.starts_with("--")
                .then(|| (name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

/// The `background` and `color` of the first rule for exactly `selector`.
fn colours(css: &str, selector: &str) -> (String, String) {
    let at = css
        .find(&format!("\n{selector} {{"))
        .unwrap_or_else(|| panic!("no rule for {selector}"));
    let body = &css[at..at + css[at..].find('}').unwrap()];
    let vars = variables(css);
    let get = |prop: &str| {
        let line = body
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("{prop}:")))
            .unwrap_or_else(|| panic!("{selector} has no {prop}"));
        let value = line[prop.len() + 1..].trim().trim_end_matches(';').trim();
        match value.strip_prefix("var(").and_then(|v| v.strip_suffix(')')) {
            Some(name) => vars[name].clone(),
            None => value.to_string(),
        }
    };
    (get("background"), get("color"))
}

fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn banner_marker_and_highlight_contrast_is_at_least_4_5() {
    let css = css();
    for selector in [".banner", ".notice", ".redact-marker", ".redact-exempt"] {
        let (background, colour) = colours(&css, selector);
        let ratio = contrast(&background, &colour);
        assert!(
            ratio >= 4.5,
            "{selector}: {colour} on {background} is {ratio:.2}:1"
        );
    }
}

#[test]
fn copies_have_landmarks_one_h1_and_marker_text_alternatives() {
    let out = tempfile::tempdir().unwrap();
    redact()
        .args([
            "build",
            "-q",
            "fixtures/01-soc-lead-continuation.md",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    for audience in ["council", "public"] {
        let html = fs::read_to_string(
            out.path()
                .join(audience)
                .join("01-soc-lead-continuation.html"),
        )
        .unwrap();
        assert!(html.contains("<html lang=\"en-GB\">"), "{audience}");
        for landmark in ["<header", "<main", "<footer"] {
            assert_eq!(html.matches(landmark).count(), 1, "{audience}: {landmark}");
        }
        assert_eq!(html.matches("<h1").count(), 1, "{audience}");
    }
    let public =
        fs::read_to_string(out.path().join("public/01-soc-lead-continuation.html")).unwrap();
    let markers = public.matches("class=\"redact-marker").count();
    assert!(markers >= 15);
    assert_eq!(
        public
            .matches("role=\"img\" aria-label=\"Withheld under S")
            .count(),
        markers,
        "every marker names its codes for a screen reader"
    );
}
