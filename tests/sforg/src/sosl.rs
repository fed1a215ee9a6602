//! SOSL: the `search` resource's engine. `FIND {…} [IN ALL|NAME|EMAIL|PHONE FIELDS]
//! [RETURNING Obj(fields [WHERE …] [ORDER BY …] [LIMIT n]), …] [LIMIT n]`.
//! Text terms match word tokens (with `*`/`?` wildcards, quoted phrases, AND/OR/AND NOT,
//! parentheses); phone fields match on digits only: equal, or ending with the term's
//! digits when the term has at least seven. Unescaped reserved characters are refused as
//! Salesforce refuses them. Only records the search index has caught up with are found.

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::error::{quoted_error, ApiError};
use crate::schema::{self, FieldType, ObjectDef};
use crate::soql::{self, Env, Parser, Shape, Tok};
use crate::store::{Fields, Store};

/// SOSL never returns more rows than this, whatever LIMIT says.
pub(crate) const MAX_ROWS: usize = 2000;
/// Salesforce only matches a phone number by its end when the term is this long.
const MIN_SUFFIX_DIGITS: usize = 7;
/// Objects searched when there is no RETURNING clause.
const DEFAULT_OBJECTS: &[&str] = &["Account", "Contact", "Lead", "Opportunity", "Case"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    Name,
    Email,
    Phone,
}

#[derive(Debug, Clone)]
enum Expr {
    Term(Vec<String>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    AndNot(Box<Expr>, Box<Expr>),
}

struct Returning {
    def: &'static ObjectDef,
    fields: Vec<soql::Resolved>,
    filter: Option<soql::Pred>,
    order: Option<soql::Sort>,
    limit: Option<usize>,
}

pub(crate) fn search(
    statement: &str,
    store: &mut Store,
    now: OffsetDateTime,
    version: &str,
    accessible: &dyn Fn(&str) -> bool,
) -> Result<Value, ApiError> {
    let chars: Vec<char> = statement.chars().collect();
    let malformed = |pos: usize, text: &str| ApiError::bad_request("MALFORMED_SEARCH", quoted_error(statement, pos + 1, text));
    let mut i = skip_ws(&chars, 0);
    let find: String = chars[i..chars.len().min(i + 4)].iter().collect();
    if !find.eq_ignore_ascii_case("FIND") {
        return Err(malformed(i, &format!("unexpected token: '{}'", word_at(&chars, i))));
    }
    i = skip_ws(&chars, i + 4);
    if chars.get(i) != Some(&'{') {
        return Err(ApiError::bad_request(
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces.",
        ));
    }
    let Braces { words, digits, end: after } = scan_braces(&chars, i + 1).map_err(|(pos, c)| {
        // Salesforce reports these with the 0-based position and the caret one column left.
        let shown = c.map_or("<EOF>".to_string(), |c| c.to_string());
        ApiError::bad_request(
            "MALFORMED_SEARCH",
            quoted_error(statement, pos, &format!("line 1:{pos} mismatched character '{shown}' expecting '}}'")),
        )
    })?;
    let expr = parse_expr(&words).map_err(|_| malformed(i, "unexpected token: '{'"))?;
    let text_len: usize = words.iter().filter(|w| !is_operator(w)).map(|w| w.chars().filter(|c| c.is_alphanumeric()).count()).sum();
    if text_len < 2 {
        return Err(ApiError::bad_request("INVALID_SEARCH", "search term must be longer than one character"));
    }

    let tokens = soql::lex(&chars, after).map_err(|e| malformed(e.pos, &e.message))?;
    let mut p = Parser { tokens, at: 0 };
    let perr = |e: soql::ParseError| malformed(e.pos, &e.message);
    let env = Env { statement, store, now, version };
    let mut scope = Scope::All;
    if p.eat_keyword("IN") {
        let (word, pos) = p.ident().map_err(perr)?;
        scope = match word.to_ascii_uppercase().as_str() {
            "ALL" | "SIDEBAR" => Scope::All,
            "NAME" => Scope::Name,
            "EMAIL" => Scope::Email,
            "PHONE" => Scope::Phone,
            _ => return Err(malformed(pos, &format!("Malformed search token: {word}"))),
        };
        p.expect_keyword("FIELDS").map_err(perr)?;
    }
    let mut returning = Vec::new();
    if p.eat_keyword("RETURNING") {
        loop {
            let (name, pos) = p.ident().map_err(perr)?;
            let def = schema::object(&name).filter(|d| accessible(d.name)).ok_or_else(|| soql::invalid_type(&env, &name, pos))?;
            let mut r = Returning { def, fields: Vec::new(), filter: None, order: None, limit: None };
            if p.eat(&Tok::LParen) {
                for item in p.select_list().map_err(perr)? {
                    let soql::SelectItem::Field(path) = item else { return Err(malformed(pos, "unexpected token: 'COUNT'")) };
                    r.fields.push(soql::resolve(&env, def, &path)?);
                }
                if p.eat_keyword("WHERE") {
                    let cond = p.condition().map_err(perr)?;
                    r.filter = Some(soql::compile(&env, def, &cond)?);
                }
                if p.eat_keyword("ORDER") {
                    p.expect_keyword("BY").map_err(perr)?;
                    let order = p.order_by().map_err(perr)?;
                    r.order = Some(soql::compile_order(&env, def, &order)?);
                }
                if p.eat_keyword("LIMIT") {
                    r.limit = Some(p.count().map_err(perr)?);
                }
                p.expect(&Tok::RParen).map_err(perr)?;
            }
            returning.push(r);
            if !p.eat(&Tok::Comma) {
                break;
            }
        }
    } else {
        for name in DEFAULT_OBJECTS.iter().filter(|n| accessible(n)) {
            let def = schema::object(name).expect("default search objects exist");
            returning.push(Returning { def, fields: Vec::new(), filter: None, order: None, limit: None });
        }
    }
    let mut overall = MAX_ROWS;
    if p.eat_keyword("LIMIT") {
        overall = p.count().map_err(perr)?.min(MAX_ROWS);
    }
    p.expect_end().map_err(perr)?;

    // The index first (it may catch up with writes now), then read-only rendering.
    let mut hits: Vec<(usize, Vec<String>)> = Vec::new();
    for (n, r) in returning.iter().enumerate() {
        let ids: Vec<String> = store
            .searchable(r.def.name, now)
            .into_iter()
            .filter(|(_, indexed)| record_matches(r.def, indexed, scope, &expr, &digits))
            .filter_map(|(current, _)| current.get("Id").and_then(Value::as_str).map(str::to_string))
            .collect();
        hits.push((n, ids));
    }
    let store: &Store = store;
    let env = Env { statement, store, now, version };
    let mut out = Vec::new();
    for (n, ids) in hits {
        let r = &returning[n];
        let mut rows: Vec<&Fields> = ids.iter().filter_map(|id| store.get(r.def.name, id)).collect();
        if let Some(pred) = &r.filter {
            rows.retain(|rec| soql::matches(store, rec, pred));
        }
        if let Some(order) = &r.order {
            soql::sort(store, &mut rows, order);
        }
        let mut shape = Shape::default();
        if r.fields.is_empty() {
            shape.add(&soql::resolve(&env, r.def, &soql::Path { parts: vec!["Id".into()], pos: 0 })?);
        }
        for f in &r.fields {
            shape.add(f);
        }
        for rec in rows.into_iter().take(r.limit.unwrap_or(usize::MAX)) {
            if out.len() == overall {
                break;
            }
            out.push(soql::render(&env, r.def, rec, &shape, false));
        }
    }
    Ok(json!({ "searchRecords": out }))
}

fn skip_ws(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

fn word_at(chars: &[char], i: usize) -> String {
    chars[i..].iter().take_while(|c| !c.is_whitespace()).collect()
}

/// Characters that must be escaped with `\` inside the braces. `* ?` (wildcards), `"`
/// (phrases) and `( )` (grouping) are operators, valid where they make sense.
const RESERVED: &[char] = &['&', '|', '!', '{', '[', ']', '^', '~', ':', '\'', '+', '-'];

/// The search expression between the braces.
#[derive(Debug)]
struct Braces {
    /// Words with escapes resolved; phrases whole with their quotes; parentheses alone.
    words: Vec<String>,
    /// Every digit of the expression, for phone matching.
    digits: String,
    /// Index just after the closing brace.
    end: usize,
}

/// Where the expression breaks: position and the character found (`None` at the end).
type Mismatch = (usize, Option<char>);

/// Reads the search expression after `{`.
fn scan_braces(chars: &[char], start: usize) -> Result<Braces, Mismatch> {
    let mut words = Vec::new();
    let mut digits = String::new();
    let mut word = String::new();
    let mut i = start;
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    loop {
        let Some(&c) = chars.get(i) else { return Err((i, None)) };
        match c {
            '}' => {
                flush(&mut word, &mut words);
                return Ok(Braces { words, digits, end: i + 1 });
            }
            '\\' => {
                let Some(&next) = chars.get(i + 1) else { return Err((i + 1, None)) };
                if next.is_ascii_digit() {
                    digits.push(next);
                }
                word.push(next);
                i += 2;
                continue;
            }
            '"' => {
                flush(&mut word, &mut words);
                let mut phrase = String::from("\"");
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err((i, None)),
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(&n) = chars.get(i + 1) {
                                phrase.push(n);
                            }
                            i += 2;
                            continue;
                        }
                        Some(&ch) => {
                            if ch.is_ascii_digit() {
                                digits.push(ch);
                            }
                            phrase.push(ch);
                        }
                    }
                    i += 1;
                }
                phrase.push('"');
                words.push(phrase);
            }
            '(' | ')' => {
                flush(&mut word, &mut words);
                words.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut words),
            c if RESERVED.contains(&c) => return Err((i, Some(c))),
            c => {
                if c.is_ascii_digit() {
                    digits.push(c);
                }
                word.push(c);
            }
        }
        i += 1;
    }
}

fn is_operator(w: &str) -> bool {
    matches!(w.to_ascii_uppercase().as_str(), "AND" | "OR" | "NOT" | "(" | ")")
}

fn parse_expr(words: &[String]) -> Result<Expr, ()> {
    let mut at = 0;
    let e = or_expr(words, &mut at)?;
    if at == words.len() { Ok(e) } else { Err(()) }
}

fn or_expr(w: &[String], at: &mut usize) -> Result<Expr, ()> {
    let mut left = and_expr(w, at)?;
    while w.get(*at).is_some_and(|x| x.eq_ignore_ascii_case("OR")) {
        *at += 1;
        left = Expr::Or(Box::new(left), Box::new(and_expr(w, at)?));
    }
    Ok(left)
}

fn and_expr(w: &[String], at: &mut usize) -> Result<Expr, ()> {
    let mut left = unary(w, at)?;
    loop {
        match w.get(*at) {
            Some(x) if x.eq_ignore_ascii_case("AND") => {
                *at += 1;
                if w.get(*at).is_some_and(|x| x.eq_ignore_ascii_case("NOT")) {
                    *at += 1;
                    left = Expr::AndNot(Box::new(left), Box::new(unary(w, at)?));
                } else {
                    left = Expr::And(Box::new(left), Box::new(unary(w, at)?));
                }
            }
            // Words side by side must all match.
            Some(x) if x != ")" && !x.eq_ignore_ascii_case("OR") => {
                left = Expr::And(Box::new(left), Box::new(unary(w, at)?));
            }
            _ => return Ok(left),
        }
    }
}

fn unary(w: &[String], at: &mut usize) -> Result<Expr, ()> {
    let word = w.get(*at).ok_or(())?;
    *at += 1;
    if word == "(" {
        let inner = or_expr(w, at)?;
        return if w.get(*at).map(String::as_str) == Some(")") {
            *at += 1;
            Ok(inner)
        } else {
            Err(())
        };
    }
    if is_operator(word) {
        return Err(());
    }
    Ok(Expr::Term(tokens(word.trim_matches('"'))))
}

/// Lower-case word tokens, split on anything that is not a letter, digit or wildcard.
fn tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '?'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn in_scope(def: &ObjectDef, scope: Scope) -> impl Iterator<Item = &schema::FieldDef> {
    def.fields.iter().filter(move |f| match scope {
        Scope::All => matches!(f.ty, FieldType::String | FieldType::TextArea | FieldType::Email | FieldType::Phone | FieldType::Url),
        Scope::Name => f.name_field || f.name == "FirstName" || f.name == "LastName",
        Scope::Email => f.ty == FieldType::Email,
        Scope::Phone => f.ty == FieldType::Phone,
    })
}

fn record_matches(def: &ObjectDef, rec: &Fields, scope: Scope, expr: &Expr, digits: &str) -> bool {
    let values = |phone: bool| {
        in_scope(def, scope)
            .filter(move |f| (f.ty == FieldType::Phone) == phone)
            .filter_map(|f| rec.get(f.name).and_then(Value::as_str))
    };
    if !digits.is_empty() && values(true).any(|v| phone_matches(v, digits)) {
        return true;
    }
    let texts: Vec<Vec<String>> = values(false).map(tokens).collect();
    let raw: Vec<String> = values(false).map(str::to_lowercase).collect();
    eval(expr, &texts, &raw)
}

/// Digits only, whatever the formatting: equal, or ending with a term of 7+ digits.
pub(crate) fn phone_matches(value: &str, term_digits: &str) -> bool {
    let d: String = value.chars().filter(char::is_ascii_digit).collect();
    !d.is_empty() && (d == term_digits || (term_digits.len() >= MIN_SUFFIX_DIGITS && d.ends_with(term_digits)))
}

fn eval(e: &Expr, texts: &[Vec<String>], raw: &[String]) -> bool {
    match e {
        Expr::And(a, b) => eval(a, texts, raw) && eval(b, texts, raw),
        Expr::Or(a, b) => eval(a, texts, raw) || eval(b, texts, raw),
        Expr::AndNot(a, b) => eval(a, texts, raw) && !eval(b, texts, raw),
        Expr::Term(words) if words.is_empty() => false,
        Expr::Term(words) => {
            // Text in scripts without spaces (Japanese, Chinese) is matched by substring.
            if words.iter().any(|w| w.chars().any(is_cjk)) {
                let needle: String = words.concat();
                return raw.iter().any(|r| r.contains(&needle));
            }
            texts.iter().any(|field| {
                field.windows(words.len()).any(|win| win.iter().zip(words).all(|(t, w)| glob(w, t)))
            })
        }
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xFF66..=0xFF9F)
}

fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_match_on_digits_whatever_the_formatting() {
        for stored in ["01 23 45 67 89", "+33 (0)1 23 45 67 89", "0033 1 23 45 67 89", "01.23.45.67.89"] {
            assert!(phone_matches(stored, "123456789"), "{stored} ends with the digits 123456789");
        }
        assert!(!phone_matches("+33 1 23 45 67 80", "123456789"));
        assert!(!phone_matches("555 1234", "1234"), "short terms must match the whole number");
        assert!(phone_matches("1234", "1234"));
    }

    #[test]
    fn reserved_characters_must_be_escaped_inside_the_braces() {
        let chars: Vec<char> = "FIND {Jean-Pierre}".chars().collect();
        assert_eq!(scan_braces(&chars, 6).unwrap_err(), (10, Some('-')));
        let chars: Vec<char> = r"FIND {Jean\-Pierre}".chars().collect();
        let braces = scan_braces(&chars, 6).unwrap();
        assert_eq!(braces.words, vec!["Jean-Pierre".to_string()]);
    }
}
