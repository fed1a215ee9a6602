//! Tokens of SOQL (and of the clauses SOSL shares with it: field lists, WHERE, ORDER BY,
//! LIMIT). Positions are character offsets into the whole statement so errors can point
//! at the right column. String literals are unescaped here; a quote inside a literal
//! can only come from `\'`, so a hostile value never escapes its literal.

use time::{Date, OffsetDateTime};

use crate::clock::{parse_date, parse_datetime};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Date(Date),
    DateTime(OffsetDateTime),
    LParen,
    RParen,
    Comma,
    Dot,
    Colon,
    Op(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// 0-based character offset in the statement.
    pub pos: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub pos: usize,
    pub message: String,
}

/// Lexes `chars[start..]`; positions stay relative to the whole statement.
pub(crate) fn lex(chars: &[char], start: usize) -> Result<Vec<Token>, LexError> {
    let mut out = Vec::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let begin = i;
        let single = |tok| Token { tok, pos: begin, text: c.to_string() };
        match c {
            '(' => out.push(single(Tok::LParen)),
            ')' => out.push(single(Tok::RParen)),
            ',' => out.push(single(Tok::Comma)),
            '.' => out.push(single(Tok::Dot)),
            ':' => out.push(single(Tok::Colon)),
            '=' => out.push(single(Tok::Op("="))),
            '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('!', Some('=')) => ("!=", 2),
                    ('<', Some('>')) => ("!=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    _ => return Err(LexError { pos: i, message: format!("unexpected token: '{c}'") }),
                };
                out.push(Token { tok: Tok::Op(op), pos: begin, text: chars[i..i + len].iter().collect() });
                i += len;
                continue;
            }
            '\'' => {
                let (value, end) = string_literal(chars, i)?;
                out.push(Token { tok: Tok::Str(value), pos: begin, text: chars[begin..end].iter().collect() });
                i = end;
                continue;
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | ':' | '-' | '+')) {
                    // A datetime runs through T..Z/offset; a number stops at anything else.
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                if let Some(tok) = date_or_number(&text) {
                    out.push(Token { tok, pos: begin, text });
                    i = j;
                    continue;
                }
                // Not a literal as a whole: take the plain number prefix.
                let mut k = i + 1;
                while k < chars.len() && (chars[k].is_ascii_digit() || chars[k] == '.') {
                    k += 1;
                }
                let text: String = chars[i..k].iter().collect();
                let tok = text.parse::<f64>().map(Tok::Num).map_err(|_| LexError {
                    pos: begin,
                    message: format!("unexpected token: '{text}'"),
                })?;
                out.push(Token { tok, pos: begin, text });
                i = k;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                out.push(Token { tok: Tok::Ident(text.clone()), pos: begin, text });
                i = j;
                continue;
            }
            other => return Err(LexError { pos: i, message: format!("unexpected token: '{other}'") }),
        }
        i += 1;
    }
    out.push(Token { tok: Tok::Eof, pos: chars.len(), text: String::new() });
    Ok(out)
}

fn date_or_number(text: &str) -> Option<Tok> {
    if text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-') {
        if text.len() == 10 {
            return parse_date(text).map(Tok::Date);
        }
        return parse_datetime(text).map(Tok::DateTime);
    }
    text.parse::<f64>().ok().map(Tok::Num)
}

/// Reads `'…'` starting at `start` (the opening quote). Returns the value and the index
/// after the closing quote. Escapes are Salesforce's: \n \r \t \b \f \" \' \\, plus \_ and
/// \% which stay escaped for LIKE.
fn string_literal(chars: &[char], start: usize) -> Result<(String, usize), LexError> {
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\'' => return Ok((value, i + 1)),
            '\\' => {
                let Some(&next) = chars.get(i + 1) else { break };
                match next {
                    'n' | 'N' => value.push('\n'),
                    'r' | 'R' => value.push('\r'),
                    't' | 'T' => value.push('\t'),
                    'b' | 'B' => value.push('\u{8}'),
                    'f' | 'F' => value.push('\u{c}'),
                    '"' => value.push('"'),
                    '\'' => value.push('\''),
                    '\\' => value.push_str("\\\\"),
                    '_' => value.push_str("\\_"),
                    '%' => value.push_str("\\%"),
                    other => {
                        let literal: String = chars[start..chars.len().min(i + 2)].iter().collect();
                        return Err(LexError {
                            pos: start,
                            message: format!(
                                "Invalid string literal '{literal}'. Illegal character sequence '\\{other}' in string literal."
                            ),
                        });
                    }
                }
                i += 2;
            }
            c => {
                value.push(c);
                i += 1;
            }
        }
    }
    Err(LexError { pos: start, message: "unterminated string literal".into() })
}

/// Backslash escapes kept by the lexer (`\\`, `\_`, `\%`) resolved for `=` comparisons.
pub(crate) fn unescape_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}
