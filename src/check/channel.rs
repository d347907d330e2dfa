//! Where in a rendered copy a byte sits: body text, or one of the channels a reader does not
//! see at a glance (a link target, an image's alt text or source, a heading id, a footnote or
//! link reference definition, an HTML comment, an attribute, the front matter or page head).
//! A leak found there is reported as a hidden channel, named, so the fix is obvious.

use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};

use crate::parse::markdown_options;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Channel {
    Body,
    FrontMatter,
    PageHead,
    HtmlComment,
    LinkTarget,
    ImageAlt,
    ImageSource,
    HeadingId,
    FootnoteDefinition,
    ReferenceDefinition,
    /// An HTML attribute (its name) or the inside of a tag.
    Attribute(String),
}

impl Channel {
    pub(crate) fn describe(&self) -> String {
        match self {
            Channel::Body => "the text".into(),
            Channel::FrontMatter => "the front matter".into(),
            Channel::PageHead => "the page head".into(),
            Channel::HtmlComment => "an HTML comment".into(),
            Channel::LinkTarget => "a link target".into(),
            Channel::ImageAlt => "an image's alt text".into(),
            Channel::ImageSource => "an image source".into(),
            Channel::HeadingId => "a heading id".into(),
            Channel::FootnoteDefinition => "a footnote definition".into(),
            Channel::ReferenceDefinition => "a link reference definition".into(),
            Channel::Attribute(name) => format!("the `{name}` attribute"),
        }
    }

    pub(crate) fn is_hidden(&self) -> bool {
        *self != Channel::Body
    }
}

/// The channels of one rendered file, as byte regions; the smallest region holding an offset
/// names its channel.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    regions: Vec<(Span, Channel)>,
}

impl Channels {
    pub(crate) fn at(&self, offset: usize) -> Channel {
        self.regions
            .iter()
            .filter(|(span, _)| span.contains(offset))
            .min_by_key(|(span, _)| span.len())
            .map(|(_, c)| c.clone())
            .unwrap_or(Channel::Body)
    }

    /// Regions of an HTML page (or an HTML fragment at `base`).
    pub(crate) fn html(text: &str) -> Channels {
        let mut channels = Channels::default();
        channels.scan_html(text, 0, text.len());
        channels
    }

    fn scan_html(&mut self, text: &str, from: usize, to: usize) {
        let mut divs: Vec<(usize, bool)> = Vec::new();
        let mut head: Option<usize> = None;
        let mut at = from;
        while let Some(found) = text[at..to].find('<') {
            let start = at + found;
            let rest = &text[start..to];
            if let Some(comment) = rest.strip_prefix("<!--") {
                let end = comment.find("-->").map_or(to, |n| start + 4 + n + 3);
                self.regions
                    .push((Span::new(start, end), Channel::HtmlComment));
                at = end;
                continue;
            }
            let Some(tag) = parse_tag(text, start, to) else {
                at = start + 1;
                continue;
            };
            self.regions.push((
                Span::new(start, tag.end),
                Channel::Attribute(tag.name.clone()),
            ));
            for (name, value) in &tag.attributes {
                let channel = match (tag.name.as_str(), name.as_str()) {
                    ("a" | "link", "href") => Channel::LinkTarget,
                    ("img", "src") => Channel::ImageSource,
                    ("img", "alt") => Channel::ImageAlt,
                    ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", "id") => Channel::HeadingId,
                    _ => Channel::Attribute(name.clone()),
                };
                self.regions.push((*value, channel));
            }
            match (tag.closing, tag.name.as_str()) {
                (false, "head") => head = Some(start),
                (true, "head") => {
                    if let Some(open) = head.take() {
                        self.regions
                            .push((Span::new(open, tag.end), Channel::PageHead));
                    }
                }
                (false, "div") => {
                    let footnote = tag
                        .attributes
                        .iter()
                        .any(|(n, v)| n == "class" && text[v.start..v.end].contains("footnote"));
                    divs.push((start, footnote));
                }
                (true, "div") => {
                    if let Some((open, true)) = divs.pop() {
                        self.regions
                            .push((Span::new(open, tag.end), Channel::FootnoteDefinition));
                    }
                }
                _ => {}
            }
            at = tag.end;
        }
    }

    /// Regions of a Markdown copy: front matter, then the body as pulldown-cmark reads it.
    pub(crate) fn markdown(text: &str) -> Channels {
        let mut channels = Channels::default();
        let body_start = match crate::front_matter::split(text) {
            Ok(split) => {
                channels.regions.push((split.block, Channel::FrontMatter));
                split.block.end
            }
            Err(_) => 0,
        };
        let body = &text[body_start..];
        let events = Parser::new_ext(body, markdown_options()).into_offset_iter();
        for (_, def) in events.reference_definitions().iter() {
            channels.regions.push((
                Span::new(body_start + def.span.start, body_start + def.span.end),
                Channel::ReferenceDefinition,
            ));
        }
        // Links and images open in order; each remembers where its inner text ends.
        let mut open: Vec<(Span, bool, bool, usize)> = Vec::new();
        for (event, range) in events {
            let span = Span::new(body_start + range.start, body_start + range.end);
            for (outer, _, _, inner_end) in open.iter_mut() {
                if !matches!(event, Event::End(TagEnd::Link | TagEnd::Image)) && span != *outer {
                    *inner_end = (*inner_end).max(span.end);
                }
            }
            match event {
                Event::Start(Tag::Link { link_type, .. }) => {
                    let auto = matches!(link_type, LinkType::Autolink | LinkType::Email);
                    open.push((span, false, auto, span.start + 1));
                }
                Event::Start(Tag::Image { .. }) => open.push((span, true, false, span.start + 2)),
                Event::End(TagEnd::Link | TagEnd::Image) => {
                    if let Some((outer, image, auto, inner_end)) = open.pop() {
                        let inner_end = inner_end.min(outer.end);
                        if auto {
                            channels.regions.push((outer, Channel::LinkTarget));
                        } else if image {
                            channels
                                .regions
                                .push((Span::new(outer.start, inner_end), Channel::ImageAlt));
                            channels
                                .regions
                                .push((Span::new(inner_end, outer.end), Channel::ImageSource));
                        } else {
                            channels
                                .regions
                                .push((Span::new(inner_end, outer.end), Channel::LinkTarget));
                        }
                    }
                }
                Event::Start(Tag::FootnoteDefinition(_)) => {
                    channels.regions.push((span, Channel::FootnoteDefinition));
                }
                Event::Start(Tag::Heading { .. }) => {
                    let line_end = text[span.start..span.end]
                        .find(['\n', '\r'])
                        .map_or(span.end, |n| span.start + n);
                    let line = text[span.start..line_end].trim_end();
                    if line.ends_with('}')
                        && let Some(open) = line.rfind('{')
                    {
                        let start = span.start + open;
                        channels.regions.push((
                            Span::new(start, span.start + line.len()),
                            Channel::HeadingId,
                        ));
                    }
                }
                Event::Html(_) | Event::InlineHtml(_) => {
                    channels.scan_html(text, span.start, span.end);
                }
                _ => {}
            }
        }
        channels
    }
}

struct ParsedTag {
    name: String,
    closing: bool,
    end: usize,
    /// Attribute names and the spans of their values.
    attributes: Vec<(String, Span)>,
}

/// A start or end tag at `start` (not beyond `to`).
fn parse_tag(text: &str, start: usize, to: usize) -> Option<ParsedTag> {
    let bytes = &text.as_bytes()[..to];
    let mut i = start + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        i += 1;
    }
    if i == name_start || !bytes[name_start].is_ascii_alphabetic() {
        return None;
    }
    let name = text[name_start..i].to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        match bytes.get(i) {
            None => return None,
            Some(b'>') => {
                return Some(ParsedTag {
                    name,
                    closing,
                    end: i + 1,
                    attributes,
                });
            }
            Some(_) => {}
        }
        let attr_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let attr = text[attr_start..i].to_ascii_lowercase();
        if i == attr_start {
            i += 1;
            continue;
        }
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            attributes.push((attr, Span::new(attr_start, i)));
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let close = text[i + 1..to].find(q as char)? + i + 1;
                let span = Span::new(i + 1, close);
                i = close + 1;
                span
            }
            _ => {
                let v = i;
                while bytes
                    .get(i)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    i += 1;
                }
                Span::new(v, i)
            }
        };
        attributes.push((attr, Span::new(attr_start.min(value.start), value.end)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel_of(channels: &Channels, text: &str, needle: &str) -> Channel {
        channels.at(text.find(needle).unwrap_or(usize::MAX))
    }

    #[test]
    fn html_channels_are_named() {
        let html = "<html><head><title>T</title></head><body><h2 id=\"kid\">H</h2>\
            <p><a href=\"https://x/klink\">text</a> <img src=\"ksrc.png\" alt=\"kalt\" />\
            <!-- kcomment --><span data-x=\"kdata\">body</span></p>\
            <div class=\"footnote-definition\" id=\"1\"><p>kfoot</p></div></body></html>";
        let c = Channels::html(html);
        assert_eq!(channel_of(&c, html, "kid"), Channel::HeadingId);
        assert_eq!(channel_of(&c, html, "klink"), Channel::LinkTarget);
        assert_eq!(channel_of(&c, html, "ksrc"), Channel::ImageSource);
        assert_eq!(channel_of(&c, html, "kalt"), Channel::ImageAlt);
        assert_eq!(channel_of(&c, html, "kcomment"), Channel::HtmlComment);
        assert_eq!(
            channel_of(&c, html, "kdata"),
            Channel::Attribute("data-x".into())
        );
        assert_eq!(channel_of(&c, html, "kfoot"), Channel::FootnoteDefinition);
        assert_eq!(channel_of(&c, html, "T</title>"), Channel::PageHead);
        assert_eq!(channel_of(&c, html, "body</span>"), Channel::Body);
    }

    #[test]
    fn markdown_channels_are_named() {
        let md = "---\ntitle: \"kfront\"\n---\n## H {#kid}\n\nSee [text](https://x/klink) and \
            ![kalt](ksrc.png) <!-- kcomment --> plain.[^n]\n\n[^n]: kfoot\n\n[r]: https://kref\n";
        let c = Channels::markdown(md);
        assert_eq!(channel_of(&c, md, "kfront"), Channel::FrontMatter);
        assert_eq!(channel_of(&c, md, "kid"), Channel::HeadingId);
        assert_eq!(channel_of(&c, md, "klink"), Channel::LinkTarget);
        assert_eq!(channel_of(&c, md, "kalt"), Channel::ImageAlt);
        assert_eq!(channel_of(&c, md, "ksrc"), Channel::ImageSource);
        assert_eq!(channel_of(&c, md, "kcomment"), Channel::HtmlComment);
        assert_eq!(channel_of(&c, md, "kfoot"), Channel::FootnoteDefinition);
        assert_eq!(channel_of(&c, md, "kref"), Channel::ReferenceDefinition);
        assert_eq!(channel_of(&c, md, "plain"), Channel::Body);
    }
}
