//! The images and annexes a paper names: `![chart](img/c.png)` and `[annex](annex-a.pdf)`,
//! relative to the paper and inside its input folder. Each is copied to every audience
//! folder that shows at least one reference to it, at the same relative path, so no link
//! changes. Metadata is removed first: PNG text and EXIF chunks, JPEG EXIF/XMP/IPTC and
//! comments, WebP EXIF/XMP, GIF comments and application extensions (pixels byte for byte);
//! a PDF annex is rewritten whole without earlier revisions, Info, XMP, embedded files,
//! JavaScript or annotations other than links; an SVG only through the sanitiser. Other
//! types only where rules/assets.yaml lists their extension (as they are, with a warning).
//!
//! A missing, absolute, escaping (`..`) or linked file is an error at the reference, as is
//! a link to a local `.md` that is not a paper of the build. It never
//! copies what it could not clean: a file it cannot read or strip is an error.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Diagnostic, Error};
use crate::model::{LinkRef, Paper};
use crate::rules::{Rules, hex};
use crate::span::Span;

/// One asset, cleaned, and the audiences that get it.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Where it goes inside each audience folder (`sub/img/c.png`), `/`-separated.
    pub relative: String,
    /// The source file as found.
    pub source: PathBuf,
    /// SHA-256 of the source file, which keys incremental builds.
    pub source_sha256: String,
    /// The bytes to write, metadata removed.
    pub bytes: Vec<u8>,
    /// The audiences shown at least one reference to it.
    pub audiences: Vec<String>,
    /// Metadata removed, as (what, bytes).
    pub removed: Vec<(String, usize)>,
}

/// Everything about a paper's assets the build needs.
#[derive(Debug, Default)]
pub struct Assets {
    pub assets: Vec<Asset>,
    pub warnings: Vec<String>,
}

impl Assets {
    /// The (relative path, bytes) an audience's copy loads, for printing it.
    pub fn for_audience(&self, audience: &str) -> Vec<(&str, &[u8])> {
        self.assets
            .iter()
            .filter(|a| a.audiences.iter().any(|n| n == audience))
            .map(|a| (a.relative.as_str(), a.bytes.as_slice()))
            .collect()
    }
}

/// The paper's input folder, from its path and its name (`sub/x` for `DIR/sub/x.md`).
pub fn input_root(path: &Path, name: &str) -> PathBuf {
    let mut root = path.to_path_buf();
    for _ in 0..name.split('/').count() {
        root.pop();
    }
    root
}

/// What a destination is.
enum Target {
    /// Nothing to copy: a link elsewhere, an anchor in the page.
    Leave,
    /// Another paper of the build.
    Paper,
    /// A local file to copy, relative to the input folder.
    File(PathBuf),
}

/// Finds, checks and cleans every asset `paper` names. `papers` holds the input-relative
/// paths of every paper in the build (`sub/x.md`), so a link to one is not an asset.
pub fn paper_assets(
    path: &Path,
    name: &str,
    text: &str,
    paper: &Paper,
    rules: &Rules,
    papers: &BTreeSet<PathBuf>,
) -> Result<Assets, Error> {
    let root = input_root(path, name);
    let folder: PathBuf = {
        let mut f: PathBuf = name.split('/').collect();
        f.pop();
        f
    };
    let at = |link: &LinkRef, message: String, hint: &str| {
        Error::source(
            path,
            text,
            Diagnostic::new(link.span, message).hint(hint.to_string()),
        )
    };
    // For each file: every reference to it, and whether each audience sees one.
    let mut found: BTreeMap<PathBuf, Vec<&LinkRef>> = BTreeMap::new();
    for link in &paper.links {
        match target(link, &folder, papers).map_err(|(m, h)| at(link, m, h))? {
            Target::Leave | Target::Paper => {}
            Target::File(relative) => found.entry(relative).or_default().push(link),
        }
    }
    // Most papers name no local file: nothing below touches the file system or the model.
    if found.is_empty() {
        return Ok(Assets::default());
    }
    let withheld: BTreeMap<&str, Vec<Span>> = rules
        .audiences
        .iter()
        .map(|a| (a.name.as_str(), paper.withheld_spans(a)))
        .collect();
    let mut out = Assets::default();
    for (relative, links) in found {
        let first = links[0];
        let file = root.join(&relative);
        // Every part of the path from the input folder down, so no link is followed.
        let mut walked = root.clone();
        for part in relative.components() {
            walked.push(part);
            if fs::symlink_metadata(&walked).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(at(
                    first,
                    format!("`{}` is a symlink", relative.display()),
                    "redact never follows symlinks: name the file itself",
                ));
            }
        }
        let bytes = match fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) => {
                let (message, hint) = if e.kind() == std::io::ErrorKind::NotFound {
                    (
                        format!("`{}` does not exist", relative.display()),
                        "the path is relative to the paper; add the file or fix the link",
                    )
                } else {
                    (
                        format!("cannot read `{}`: {e}", relative.display()),
                        "an asset must be a readable file inside the paper's folder",
                    )
                };
                return Err(at(first, message, hint));
            }
        };
        let audiences: Vec<String> = rules
            .audiences
            .iter()
            .filter(|a| !paper.front_matter.withheld_from(a))
            .filter(|a| {
                let spans = &withheld[a.name.as_str()];
                links.iter().any(|l| link_shown(paper, spans, l))
            })
            .map(|a| a.name.clone())
            .collect();
        let ext = relative
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let (clean, removed) = match clean(&ext, &bytes) {
            Some(Ok(cleaned)) => cleaned,
            Some(Err(message)) => {
                return Err(at(
                    first,
                    format!(
                        "cannot remove the metadata of `{}`: {message}",
                        relative.display()
                    ),
                    "fix or re-export the file; it is never copied with its metadata",
                ));
            }
            None if rules.asset_extensions.contains(&ext) => {
                out.warnings.push(format!(
                    "{}: warning: `{}` is copied as it is (rules/assets.yaml lists `.{ext}`); its metadata, if any, travels with it",
                    path.display(),
                    relative.display()
                ));
                (bytes.clone(), Vec::new())
            }
            None => {
                return Err(at(
                    first,
                    format!(
                        "`{}` is not a type redact can clean (`.{ext}`)",
                        relative.display()
                    ),
                    "images (png, jpg, gif, webp, svg) and PDF annexes are cleaned; list other extensions in rules/assets.yaml to copy them as they are",
                ));
            }
        };
        let placed: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if placed.iter().any(|p| p.starts_with('_'))
            || (placed.len() == 1 && placed[0].starts_with("index."))
        {
            return Err(at(
                first,
                format!(
                    "`{}` would take a name the audience folders keep for their own files",
                    relative.display()
                ),
                "rename it: `index.*` at the top and names beginning with `_` are reserved",
            ));
        }
        out.assets.push(Asset {
            relative: placed.join("/"),
            source: file,
            source_sha256: hex(&Sha256::digest(&bytes)),
            bytes: clean,
            audiences,
            removed,
        });
    }
    Ok(out)
}

/// Whether a copy that withholds `withheld` (spans of the paper) shows `link`.
pub fn link_shown(paper: &Paper, withheld: &[Span], link: &LinkRef) -> bool {
    let hidden = |span: Span| withheld.iter().any(|s| s.encloses(span));
    // A reference image whose definition is withheld shows as plain text.
    let definition_hidden = paper
        .references
        .iter()
        .any(|r| !r.footnote && r.uses.contains(&link.span.start) && hidden(r.span));
    !hidden(link.span) && !definition_hidden
}

/// The local file `link` of the paper called `name` names, relative to its input folder;
/// None for anything that is not an asset (a remote link, another paper, a bad reference).
pub fn linked_file(link: &LinkRef, name: &str) -> Option<PathBuf> {
    let mut folder: PathBuf = name.split('/').collect();
    folder.pop();
    match target(link, &folder, &BTreeSet::new()) {
        Ok(Target::File(relative)) => Some(relative),
        _ => None,
    }
}

/// What `link` points at, relative to the input folder, or an error and its hint.
fn target(
    link: &LinkRef,
    folder: &Path,
    papers: &BTreeSet<PathBuf>,
) -> Result<Target, (String, &'static str)> {
    let dest = link.dest.trim();
    let scheme = dest.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    // A copy must be whole on its own, in print too: an image it loads from elsewhere would
    // be fetched by every reader (and the printer), so only a local file may be shown.
    if link.image && (scheme || dest.starts_with("//")) {
        return Err((
            format!("remote image `{dest}`"),
            "a copy must be whole on its own: save the image beside the paper and name it by a relative path (redact never fetches)",
        ));
    }
    // Remote links are left as they are and never fetched.
    if scheme || dest.starts_with("//") || link.auto {
        return Ok(Target::Leave);
    }
    let path = dest.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() {
        return Ok(Target::Leave);
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if decoded.starts_with('/') || decoded.starts_with('\\') {
        return Err((
            format!("absolute path `{dest}`"),
            "name the file relative to the paper",
        ));
    }
    let mut relative = folder.to_path_buf();
    for part in Path::new(decoded.as_ref()).components() {
        match part {
            Component::Normal(p) => relative.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !relative.pop() {
                    return Err((
                        format!("`{dest}` leaves the paper's input folder"),
                        "an asset must be inside the folder the paper was found in",
                    ));
                }
            }
            _ => {
                return Err((
                    format!("absolute path `{dest}`"),
                    "name the file relative to the paper",
                ));
            }
        }
    }
    if relative.extension().is_some_and(|e| e == "md") {
        if papers.contains(&relative) {
            return Ok(Target::Paper);
        }
        return Err((
            format!("`{dest}` is a Markdown file that is not a paper of this build"),
            "build it too (name its folder), or link to its published copy",
        ));
    }
    Ok(Target::File(relative))
}

/// The HTML copy's link for a link to another paper's Markdown (`sub/b.md#part` to
/// `sub/b.html#part`); None for any other destination.
pub fn html_link(dest: &str) -> Option<String> {
    let remote = dest.contains("://") || dest.starts_with("//") || {
        let scheme = dest.split(['/', '?', '#']).next().unwrap_or("");
        scheme.contains(':')
    };
    let end = dest.find(['?', '#']).unwrap_or(dest.len());
    let stem = dest[..end].strip_suffix(".md")?;
    if remote || stem.is_empty() || stem.ends_with('/') {
        return None;
    }
    Some(format!("{stem}.html{}", &dest[end..]))
}

type Cleaned = (Vec<u8>, Vec<(String, usize)>);

/// `bytes` without metadata, for the types redact cleans (None for any other).
pub fn clean(ext: &str, bytes: &[u8]) -> Option<Result<Cleaned, String>> {
    Some(match ext {
        "png" => clean_png(bytes),
        "jpg" | "jpeg" => clean_jpeg(bytes),
        "webp" => clean_webp(bytes),
        "gif" => clean_gif(bytes),
        "pdf" => clean_pdf(bytes),
        "svg" => clean_svg(bytes),
        _ => return None,
    })
}

/// Chunks a PNG needs to show its pixels as meant; every other chunk (text, EXIF, time,
/// private chunks) is dropped.
const PNG_KEEP: [&[u8; 4]; 17] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
    b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP", b"cLLi",
];

fn clean_png(bytes: &[u8]) -> Result<Cleaned, String> {
    let mut png = img_parts::png::Png::from_bytes(bytes.to_vec().into())
        .map_err(|e| format!("not a PNG: {e}"))?;
    let mut removed = Vec::new();
    png.chunks_mut().retain(|c| {
        let keep = PNG_KEEP.contains(&&c.kind());
        if !keep {
            removed.push((
                format!("PNG {} chunk", String::from_utf8_lossy(&c.kind())),
                c.len(),
            ));
        }
        keep
    });
    Ok((png.encoder().bytes().to_vec(), removed))
}

/// JPEG segments kept besides the image data: JFIF (APP0), the ICC profile (APP2) and Adobe's
/// colour transform (APP14). EXIF and XMP (APP1), IPTC (APP13), comments and the rest go.
fn clean_jpeg(bytes: &[u8]) -> Result<Cleaned, String> {
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(bytes.to_vec().into())
        .map_err(|e| format!("not a JPEG: {e}"))?;
    let mut removed = Vec::new();
    jpeg.segments_mut().retain(|s| {
        let m = s.marker();
        let metadata = (0xE0..=0xEF).contains(&m) && !matches!(m, 0xE0 | 0xE2 | 0xEE) || m == 0xFE;
        if metadata {
            let what = match m {
                0xE1 if s.contents().starts_with(b"Exif") => "JPEG EXIF (APP1)".to_string(),
                0xE1 => "JPEG XMP (APP1)".to_string(),
                0xED => "JPEG IPTC (APP13)".to_string(),
                0xFE => "JPEG comment (COM)".to_string(),
                m => format!("JPEG APP{}", m - 0xE0),
            };
            removed.push((what, s.len()));
        }
        !metadata
    });
    Ok((jpeg.encoder().bytes().to_vec(), removed))
}

fn clean_webp(bytes: &[u8]) -> Result<Cleaned, String> {
    use img_parts::webp::{
        CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP, CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X,
    };
    let mut webp = img_parts::webp::WebP::from_bytes(bytes.to_vec().into())
        .map_err(|e| format!("not a WebP: {e}"))?;
    let keep = [
        CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X, CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP,
    ];
    let mut removed = Vec::new();
    webp.chunks_mut().retain(|c| {
        let ok = keep.contains(&c.id());
        if !ok {
            removed.push((
                format!("WebP {} chunk", String::from_utf8_lossy(&c.id()).trim()),
                c.len() as usize + 8,
            ));
        }
        ok
    });
    Ok((webp.encoder().bytes().to_vec(), removed))
}

/// A GIF with its comment and application extensions removed, but the loop count
/// (NETSCAPE2.0 / ANIMEXTS1.0), which only says how often to play; every image block and
/// graphic control extension is copied byte for byte.
fn clean_gif(bytes: &[u8]) -> Result<Cleaned, String> {
    let bad = || "not a GIF, or a damaged one".to_string();
    if bytes.len() < 13 || !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        return Err(bad());
    }
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3usize << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let mut at = 13 + table(bytes[10]);
    let mut out = bytes.get(..at).ok_or_else(bad)?.to_vec();
    let mut removed = Vec::new();
    // The data sub-blocks starting at `from`: where they end, terminator included.
    let blocks_end = |mut from: usize| -> Result<usize, String> {
        loop {
            let n = *bytes.get(from).ok_or_else(bad)? as usize;
            from += 1 + n;
            if n == 0 {
                return Ok(from);
            }
        }
    };
    loop {
        match bytes.get(at).ok_or_else(bad)? {
            0x3B => {
                out.push(0x3B);
                break;
            }
            0x2C => {
                let flags = *bytes.get(at + 9).ok_or_else(bad)?;
                let data = at + 10 + table(flags) + 1;
                let end = blocks_end(data)?;
                out.extend_from_slice(bytes.get(at..end).ok_or_else(bad)?);
                at = end;
            }
            0x21 => {
                let label = *bytes.get(at + 1).ok_or_else(bad)?;
                let end = blocks_end(at + 2)?;
                let block = bytes.get(at..end).ok_or_else(bad)?;
                let looping = label == 0xFF
                    && (block.get(3..14) == Some(b"NETSCAPE2.0")
                        || block.get(3..14) == Some(b"ANIMEXTS1.0"));
                match label {
                    0xFE => removed.push(("GIF comment extension".to_string(), block.len())),
                    0xFF if !looping => {
                        removed.push(("GIF application extension".to_string(), block.len()))
                    }
                    _ => out.extend_from_slice(block),
                }
                at = end;
            }
            _ => return Err(bad()),
        }
    }
    Ok((out, removed))
}

/// A PDF annex rewritten whole: no earlier revisions (only live objects are written), no
/// Info dictionary, XMP metadata, embedded files, JavaScript, actions run on opening, or
/// annotations other than links to addresses.
fn clean_pdf(bytes: &[u8]) -> Result<Cleaned, String> {
    use lopdf::{Document, Object};
    let mut doc = Document::load_mem(bytes).map_err(|e| format!("not a readable PDF: {e}"))?;
    let mut removed: Vec<(String, usize)> = Vec::new();
    if doc.trailer.remove(b"Info").is_some() {
        removed.push(("PDF Info dictionary".into(), 0));
    }
    doc.trailer.remove(b"ID");
    if let Ok(catalog) = doc.catalog_mut() {
        for key in [
            &b"Metadata"[..],
            b"OpenAction",
            b"AA",
            b"Names",
            b"AcroForm",
            b"PieceInfo",
        ] {
            if catalog.remove(key).is_some() {
                removed.push((format!("PDF catalog /{}", String::from_utf8_lossy(key)), 0));
            }
        }
    }
    let pages: Vec<lopdf::ObjectId> = doc.get_pages().values().copied().collect();
    for page in pages {
        let annots = doc
            .get_dictionary(page)
            .ok()
            .and_then(|d| d.get(b"Annots").ok().cloned());
        let Some(annots) = annots else { continue };
        let list = match &annots {
            Object::Array(a) => a.clone(),
            Object::Reference(id) => doc
                .get_object(*id)
                .ok()
                .and_then(|o| o.as_array().ok().cloned())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let kept: Vec<Object> = list
            .into_iter()
            .filter(|a| {
                let dict = match a {
                    Object::Reference(id) => doc.get_dictionary(*id).ok(),
                    Object::Dictionary(d) => Some(d),
                    _ => None,
                };
                dict.is_some_and(|d| {
                    let link =
                        d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(&b"Link"[..]);
                    let action = d.get(b"A").ok().and_then(|a| match a {
                        Object::Dictionary(a) => Some(a.clone()),
                        Object::Reference(id) => doc.get_dictionary(*id).ok().cloned(),
                        _ => None,
                    });
                    let safe_action = action.is_none_or(|a| {
                        matches!(
                            a.get(b"S").and_then(|s| s.as_name()).ok(),
                            Some(b"URI") | Some(b"GoTo")
                        )
                    });
                    link && safe_action
                })
            })
            .collect();
        if let Ok(dict) = doc.get_dictionary_mut(page) {
            dict.remove(b"AA");
            dict.remove(b"Metadata");
            dict.remove(b"PieceInfo");
            if kept.is_empty() {
                dict.remove(b"Annots");
                removed.push(("PDF annotations".into(), 0));
            } else {
                dict.set("Annots", Object::Array(kept));
            }
        }
    }
    // Anything still holding metadata, files or script that a live object might point at.
    let ids: Vec<lopdf::ObjectId> = doc.objects.keys().copied().collect();
    for id in ids {
        if let Some(Object::Stream(stream)) = doc.objects.get(&id) {
            let kind = stream.dict.get(b"Type").and_then(|t| t.as_name()).ok();
            if matches!(kind, Some(b"Metadata") | Some(b"EmbeddedFile")) {
                removed.push((
                    format!(
                        "PDF {} stream",
                        String::from_utf8_lossy(kind.unwrap_or(b""))
                    ),
                    stream.content.len(),
                ));
                doc.objects.insert(id, Object::Null);
            }
        }
        if let Some(Object::Dictionary(d)) = doc.objects.get_mut(&id) {
            d.remove(b"JS");
            d.remove(b"Metadata");
            d.remove(b"EF");
        }
    }
    doc.prune_objects();
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| format!("cannot rewrite the PDF: {e}"))?;
    Ok((out, removed))
}

/// Elements and attributes an SVG chart may keep: shapes, text, paint. Nothing that runs,
/// loads or links (`script`, `foreignObject`, `image`, `use`, `a`, event attributes, `href`).
const SVG_TAGS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "title",
    "desc",
    "defs",
    "lineargradient",
    "radialgradient",
    "stop",
    "clippath",
    // The parser gives SVG's mixed-case names as SVG spells them.
    "linearGradient",
    "radialGradient",
    "clipPath",
];
/// Elements removed with everything inside them, not just their tags.
const SVG_DROPPED: &[&str] = &[
    "script",
    "style",
    "metadata",
    "foreignObject",
    "foreignobject",
];
const SVG_ATTRIBUTES: &[&str] = &[
    "viewbox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "points",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "fill-opacity",
    "stroke-opacity",
    "transform",
    "font-size",
    "font-family",
    "font-weight",
    "text-anchor",
    "dominant-baseline",
    "offset",
    "stop-color",
    "stop-opacity",
    "id",
    "clip-path",
    "gradientunits",
    "preserveaspectratio",
    "role",
    "aria-label",
    "dx",
    "dy",
    "viewBox",
    "preserveAspectRatio",
    "gradientUnits",
];

fn clean_svg(bytes: &[u8]) -> Result<Cleaned, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "an SVG must be UTF-8".to_string())?;
    let cleaned = ammonia::Builder::empty()
        .add_tags(SVG_TAGS)
        .add_generic_attributes(SVG_ATTRIBUTES)
        .add_clean_content_tags(SVG_DROPPED)
        .strip_comments(true)
        .clean(text)
        .to_string();
    let start = cleaned
        .find("<svg")
        .ok_or_else(|| "no `<svg>` element".to_string())?;
    let mut out = cleaned[start..].to_string();
    // A standalone SVG file is read as XML: its root needs its namespace.
    if !out[..out.find('>').unwrap_or(0)].contains("xmlns") {
        out.insert_str(4, " xmlns=\"http://www.w3.org/2000/svg\"");
    }
    let removed = bytes.len().saturating_sub(out.len());
    Ok((
        out.into_bytes(),
        vec![("SVG sanitised away".into(), removed)],
    ))
}

#[cfg(test)]
mod tests {
    use super::html_link;

    #[test]
    fn only_local_markdown_links_become_html() {
        assert_eq!(html_link("sub/b.md").as_deref(), Some("sub/b.html"));
        assert_eq!(html_link("b.md#part").as_deref(), Some("b.html#part"));
        assert_eq!(html_link("https://example.org/b.md"), None);
        assert_eq!(html_link("mailto:a.md"), None);
        assert_eq!(html_link("annex.pdf"), None);
        assert_eq!(html_link("#b.md"), None);
    }

    /// A 1x1 GIF with a comment, an XMP-style application extension and a loop count.
    fn gif() -> Vec<u8> {
        let mut g = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        g.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        g.extend_from_slice(b"\x21\xfe\x0cgifcanary123\x00");
        g.extend_from_slice(b"\x21\xff\x0bXMP DataXMP\x05xmpcn\x00");
        g.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00");
        g.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00");
        g.push(0x3b);
        g
    }

    #[test]
    fn gif_loses_comments_and_metadata_but_keeps_its_image_and_loop() {
        let source = gif();
        let (out, removed) = super::clean_gif(&source).expect("cleans");
        let has = |b: &[u8], n: &[u8]| b.windows(n.len()).any(|w| w == n);
        assert!(!has(&out, b"gifcanary") && !has(&out, b"xmpcn"));
        assert!(has(&out, b"NETSCAPE2.0"));
        let image = &source[source.len() - 16..];
        assert!(out.ends_with(image));
        assert_eq!(removed.len(), 2);
        assert!(
            super::clean_gif(&source[..20]).is_err(),
            "a cut GIF is refused"
        );
    }

    #[test]
    fn svg_keeps_drawing_and_loses_script_links_and_metadata() {
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"><metadata>svgcanary</metadata><script>svgscript()</script><a href="https://example.org"><rect width="5" height="5" fill="red"/></a><image href="file:///etc/passwd"/></svg>"#;
        let (out, _) = super::clean_svg(svg).expect("cleans");
        let out = String::from_utf8(out).expect("utf-8");
        for gone in ["onload", "svgcanary", "script", "href", "passwd", "<a"] {
            assert!(!out.contains(gone), "{gone}: {out}");
        }
        assert!(
            out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{out}"
        );
        assert!(out.contains("viewBox") || out.contains("viewbox"), "{out}");
        assert!(out.contains("<rect"), "{out}");
    }
}
