//! The lexical layer of RFC 3261 §25: tokens, quoted strings, separators with their
//! optional whitespace, and splitting a header value at top-level commas. Header
//! values reach here unfolded (line folds already turned into single spaces).

/// `token` characters: alphanumerics and `-.!%*_+`'~`.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '!' | '%' | '*' | '_' | '+' | '`' | '\'' | '~')
}

pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// `word` (Call-ID): token characters plus `()<>:\"/[]?{}`.
pub fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| is_token_char(c) || matches!(c, '(' | ')' | '<' | '>' | ':' | '\\' | '"' | '/' | '[' | ']' | '?' | '{' | '}'))
}

/// A cursor over one header value.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    pub s: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// Consumes `c` (with optional whitespace before and after, as SIP separators allow).
    pub fn eat_sep(&mut self, c: char) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    pub fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_token_char) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    /// A token or an IPv6 reference / host: what may stand as a parameter value.
    pub fn param_value(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(|c| is_token_char(c) || matches!(c, ':' | '[' | ']')) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    /// A `quoted-string`, returned unescaped. `None` if it is not terminated.
    pub fn quoted(&mut self) -> Option<String> {
        if self.peek() != Some('"') {
            return None;
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Some(out);
                }
                '\\' => {
                    let (_, escaped) = chars.next()?;
                    out.push(escaped);
                }
                c => out.push(c),
            }
        }
        None
    }
}

/// Splits a header value at commas that are outside quotes and `<>`. An empty element
/// (`a,,b`, or a trailing comma) is returned as such, for the caller to refuse.
pub fn split_commas(value: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if in_quotes {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '<' if !in_angle => in_angle = true,
            '>' if in_angle => in_angle = false,
            ',' if !in_angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_quotes || in_angle {
        return None;
    }
    out.push(value[start..].trim());
    Some(out)
}

/// `;name[=value]` parameters after the current position, up to the end. Values are
/// tokens, hosts or quoted strings; an empty parameter (`;;`) is refused.
pub fn params(c: &mut Cursor<'_>) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        if c.at_end() {
            return Ok(out);
        }
        if !c.eat_sep(';') {
            return Err(format!("unexpected \u{201c}{}\u{201d} where a ;parameter was expected", c.rest()));
        }
        let name = c.token().ok_or_else(|| "an empty parameter (\u{201c};;\u{201d}) or one without a name".to_string())?;
        let value = if c.eat_sep('=') {
            if c.peek() == Some('"') {
                Some(c.quoted().ok_or("a parameter's quoted value is not terminated")?)
            } else {
                Some(c.param_value().ok_or_else(|| format!("the parameter {name} has \u{201c}=\u{201d} but no value"))?.to_string())
            }
        } else {
            None
        };
        out.push((name.to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_inside_quotes_and_angles_do_not_split() {
        assert_eq!(split_commas(r#""Bell, A." <sip:a@b;x=1,2>, <sip:c@d>"#).unwrap(), [r#""Bell, A." <sip:a@b;x=1,2>"#, "<sip:c@d>"]);
        assert_eq!(split_commas("a,,b").unwrap(), ["a", "", "b"]);
        assert!(split_commas("\"open").is_none());
    }

    #[test]
    fn quoted_strings_unescape_once() {
        let mut c = Cursor::new(r#""J Rosenberg \\\"" rest"#);
        assert_eq!(c.quoted().as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(c.rest(), " rest");
    }

    #[test]
    fn parameters_allow_whitespace_around_separators_and_refuse_empty_ones() {
        let mut c = Cursor::new(" ; tag    = 1918181833n ;lr");
        assert_eq!(params(&mut c).unwrap(), vec![("tag".into(), Some("1918181833n".into())), ("lr".into(), None)]);
        assert!(params(&mut Cursor::new(";;;")).is_err());
    }
}
