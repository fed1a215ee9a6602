//! Just enough XML for Metadata API source files: a prolog, comments, elements with
//! attributes, text with the five named entities and character references, CDATA. It
//! builds a small tree and refuses what these files never contain (a DOCTYPE, mismatched
//! or unclosed tags), naming the line, so a broken metadata file fails the build of the
//! test org's schema loudly instead of being half read.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text (outside its children), entities decoded, trimmed.
    pub text: String,
}

impl Element {
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The text of the first child with this name.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a whole document and returns its root element.
pub(crate) fn parse(src: &str) -> Result<Element, XmlError> {
    let mut r = Reader { src, at: 0 };
    r.skip_misc()?;
    let root = r.element()?;
    r.skip_misc()?;
    if r.at < src.len() {
        return Err(r.error("content after the root element"));
    }
    Ok(root)
}

struct Reader<'a> {
    src: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.src[self.at..]
    }

    fn error(&self, message: impl Into<String>) -> XmlError {
        let line = self.src[..self.at].matches('\n').count() + 1;
        XmlError { line, message: message.into() }
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.src.len() - trimmed.len();
    }

    /// Skips until after `end`, or fails with `what` unterminated.
    fn skip_past(&mut self, end: &str, what: &str) -> Result<(), XmlError> {
        match self.rest().find(end) {
            Some(i) => {
                self.at += i + end.len();
                Ok(())
            }
            None => Err(self.error(format!("unterminated {what}"))),
        }
    }

    /// Whitespace, the byte-order mark, the XML declaration and comments between elements.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            if self.rest().starts_with('\u{feff}') {
                self.at += '\u{feff}'.len_utf8();
            }
            self.skip_ws();
            if self.rest().starts_with("<?") {
                self.skip_past("?>", "processing instruction")?;
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->", "comment")?;
            } else if self.rest().starts_with("<!") {
                return Err(self.error("DOCTYPE and other declarations are not expected in metadata files"));
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let len = self
            .rest()
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/' | '=' | '<'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.error("expected a name"));
        }
        let name = self.rest()[..len].to_string();
        self.at += len;
        Ok(name)
    }

    fn element(&mut self) -> Result<Element, XmlError> {
        if !self.rest().starts_with('<') {
            return Err(self.error("expected an element"));
        }
        self.at += 1;
        let name = self.name()?;
        let mut el = Element { name, attributes: Vec::new(), children: Vec::new(), text: String::new() };
        loop {
            self.skip_ws();
            if self.rest().starts_with("/>") {
                self.at += 2;
                return Ok(el);
            }
            if self.rest().starts_with('>') {
                self.at += 1;
                break;
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return Err(self.error(format!("attribute {key} has no value")));
            }
            self.at += 1;
            self.skip_ws();
            let quote = self.rest().chars().next().filter(|c| *c == '"' || *c == '\'');
            let Some(quote) = quote else { return Err(self.error(format!("attribute {key} is not quoted"))) };
            self.at += 1;
            let Some(end) = self.rest().find(quote) else { return Err(self.error(format!("attribute {key} is not closed"))) };
            let raw = &self.rest()[..end];
            let value = decode(raw).map_err(|m| self.error(m))?;
            self.at += end + 1;
            el.attributes.push((key, value));
        }
        let mut text = String::new();
        loop {
            let next = self.rest().find('<').ok_or_else(|| self.error(format!("<{}> is never closed", el.name)))?;
            let chunk = &self.rest()[..next];
            text.push_str(&decode(chunk).map_err(|m| self.error(m))?);
            self.at += next;
            if self.rest().starts_with("</") {
                self.at += 2;
                let closing = self.name()?;
                if closing != el.name {
                    return Err(self.error(format!("</{closing}> closes <{}>", el.name)));
                }
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return Err(self.error(format!("</{closing} is not closed with >")));
                }
                self.at += 1;
                el.text = text.trim().to_string();
                return Ok(el);
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->", "comment")?;
            } else if let Some(cdata) = self.rest().strip_prefix("<![CDATA[") {
                let end = cdata.find("]]>").ok_or_else(|| self.error("unterminated CDATA section"))?;
                text.push_str(&cdata[..end]);
                self.at += "<![CDATA[".len() + end + 3;
            } else {
                let child = self.element()?;
                el.children.push(child);
            }
        }
    }
}

/// Decodes `&lt; &gt; &amp; &quot; &apos; &#NN; &#xNN;`; any other `&` is an error.
fn decode(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or_else(|| format!("unterminated entity in {raw:?}"))?;
        let entity = &after[..end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()
                } else {
                    entity.strip_prefix('#').and_then(|d| d.parse().ok())
                };
                code.and_then(char::from_u32).ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_file_reads_into_a_tree_with_decoded_text() {
        let doc = parse(
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- shipped -->\n\
             <CustomField xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n  <fullName>A__c</fullName>\n  \
             <label>Q&amp;A &#x2014; &lt;b&gt;</label><empty/>\n</CustomField>\n",
        )
        .unwrap();
        assert_eq!(doc.name, "CustomField");
        assert_eq!(doc.attribute("xmlns"), Some("http://soap.sforce.com/2006/04/metadata"));
        assert_eq!(doc.text_of("fullName"), Some("A__c"));
        assert_eq!(doc.text_of("label"), Some("Q&A \u{2014} <b>"), "entities and character references are decoded");
        assert_eq!(doc.text_of("empty"), Some(""));
    }

    #[test]
    fn broken_documents_are_refused_with_the_line() {
        let err = parse("<a>\n<b>x</c>\n</a>").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.message.contains("</c> closes <b>"), "{err}");
        assert!(parse("<a><b>x</b>").is_err(), "an unclosed root is an error");
        assert!(parse("<a>&nbsp;</a>").is_err(), "HTML entities are not XML");
        assert!(parse("<!DOCTYPE a><a/>").is_err());
    }
}
