//! SOQL syntax: the subset a CRM client sends. `SELECT` fields, relationship paths and
//! `COUNT()`; `FROM` one object; `WHERE` with comparisons, `LIKE`, `[NOT] IN`, `AND`/`OR`
//! (never mixed without parentheses, as Salesforce requires), `NOT`, date literals;
//! `ORDER BY … [ASC|DESC] [NULLS FIRST|LAST]`; `LIMIT`; `OFFSET`. Pure: no schema, no data.

use time::{Date, OffsetDateTime};

use super::lex::{lex, LexError, Tok, Token};

#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub parts: Vec<String>,
    pub pos: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum SelectItem {
    Field(Path),
    /// `COUNT()`: only the number of rows comes back.
    CountAll,
    /// `COUNT(field)`: an AggregateResult row.
    Count(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RelDate {
    Today,
    Yesterday,
    Tomorrow,
    LastNDays(i64),
    NextNDays(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Date(Date),
    DateTime(OffsetDateTime),
    Rel(RelDate),
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp { path: Path, op: CmpOp, value: Lit, value_pos: usize },
    In { path: Path, negated: bool, values: Vec<Lit>, value_pos: usize },
}

#[derive(Debug, Clone)]
pub(crate) struct OrderItem {
    pub path: Path,
    pub desc: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub select: Vec<SelectItem>,
    pub from: String,
    pub from_pos: usize,
    pub filter: Option<Cond>,
    pub order: Vec<OrderItem>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct ParseError {
    pub pos: usize,
    pub message: String,
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> Self {
        ParseError { pos: e.pos, message: e.message }
    }
}

pub(crate) fn parse_query(statement: &str) -> Result<Query, ParseError> {
    let chars: Vec<char> = statement.chars().collect();
    let mut p = Parser { tokens: lex(&chars, 0)?, at: 0 };
    p.expect_keyword("SELECT")?;
    let select = p.select_list()?;
    p.expect_keyword("FROM")?;
    let (from, from_pos) = p.ident()?;
    let mut q = Query { select, from, from_pos, filter: None, order: Vec::new(), limit: None, offset: None };
    if p.eat_keyword("WHERE") {
        q.filter = Some(p.condition()?);
    }
    if p.eat_keyword("ORDER") {
        p.expect_keyword("BY")?;
        q.order = p.order_by()?;
    }
    if p.eat_keyword("LIMIT") {
        q.limit = Some(p.count()?);
    }
    if p.eat_keyword("OFFSET") {
        q.offset = Some(p.count()?);
    }
    p.expect_end()?;
    Ok(q)
}

/// A cursor over tokens, shared with the SOSL parser for its RETURNING clauses.
pub(crate) struct Parser {
    pub tokens: Vec<Token>,
    pub at: usize,
}

impl Parser {
    pub(crate) fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    pub(crate) fn unexpected(&self) -> ParseError {
        let t = self.peek();
        let shown = if t.tok == Tok::Eof { "<EOF>".to_string() } else { t.text.clone() };
        ParseError { pos: t.pos, message: format!("unexpected token: '{shown}'") }
    }

    pub(crate) fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = self.is_keyword(kw);
        if hit {
            self.next();
        }
        hit
    }

    pub(crate) fn expect_keyword(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.eat_keyword(kw) { Ok(()) } else { Err(self.unexpected()) }
    }

    pub(crate) fn eat(&mut self, tok: &Tok) -> bool {
        let hit = &self.peek().tok == tok;
        if hit {
            self.next();
        }
        hit
    }

    pub(crate) fn expect(&mut self, tok: &Tok) -> Result<(), ParseError> {
        if self.eat(tok) { Ok(()) } else { Err(self.unexpected()) }
    }

    pub(crate) fn expect_end(&self) -> Result<(), ParseError> {
        if self.peek().tok == Tok::Eof { Ok(()) } else { Err(self.unexpected()) }
    }

    pub(crate) fn ident(&mut self) -> Result<(String, usize), ParseError> {
        match self.peek().tok.clone() {
            Tok::Ident(s) => {
                let pos = self.next().pos;
                Ok((s, pos))
            }
            _ => Err(self.unexpected()),
        }
    }

    pub(crate) fn count(&mut self) -> Result<usize, ParseError> {
        match self.peek().tok {
            Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 => {
                self.next();
                Ok(n as usize)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn path(&mut self) -> Result<Path, ParseError> {
        let (first, pos) = self.ident()?;
        let mut parts = vec![first];
        while self.eat(&Tok::Dot) {
            parts.push(self.ident()?.0);
        }
        Ok(Path { parts, pos })
    }

    pub(crate) fn select_list(&mut self) -> Result<Vec<SelectItem>, ParseError> {
        let mut items = Vec::new();
        loop {
            if self.is_keyword("COUNT") && self.tokens.get(self.at + 1).is_some_and(|t| t.tok == Tok::LParen) {
                self.next();
                self.next();
                if self.eat(&Tok::RParen) {
                    items.push(SelectItem::CountAll);
                } else {
                    let path = self.path()?;
                    self.expect(&Tok::RParen)?;
                    items.push(SelectItem::Count(path));
                }
            } else {
                items.push(SelectItem::Field(self.path()?));
            }
            if !self.eat(&Tok::Comma) {
                return Ok(items);
            }
        }
    }

    /// `a AND b AND c` or `a OR b OR c`; mixing needs parentheses.
    pub(crate) fn condition(&mut self) -> Result<Cond, ParseError> {
        let first = self.unary()?;
        let joiner = if self.is_keyword("AND") {
            "AND"
        } else if self.is_keyword("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let mut parts = vec![first];
        while self.eat_keyword(joiner) {
            parts.push(self.unary()?);
        }
        if self.is_keyword("AND") || self.is_keyword("OR") {
            return Err(self.unexpected());
        }
        Ok(if joiner == "AND" { Cond::And(parts) } else { Cond::Or(parts) })
    }

    fn unary(&mut self) -> Result<Cond, ParseError> {
        if self.eat_keyword("NOT") {
            return Ok(Cond::Not(Box::new(self.unary()?)));
        }
        if self.eat(&Tok::LParen) {
            let inner = self.condition()?;
            self.expect(&Tok::RParen)?;
            return Ok(inner);
        }
        let path = self.path()?;
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("IN") {
            let value_pos = self.peek().pos;
            self.expect(&Tok::LParen)?;
            let mut values = vec![self.literal()?];
            while self.eat(&Tok::Comma) {
                values.push(self.literal()?);
            }
            self.expect(&Tok::RParen)?;
            return Ok(Cond::In { path, negated, values, value_pos });
        }
        if negated {
            return Err(self.unexpected());
        }
        let op = match &self.peek().tok {
            Tok::Op("=") => CmpOp::Eq,
            Tok::Op("!=") => CmpOp::Ne,
            Tok::Op("<") => CmpOp::Lt,
            Tok::Op(">") => CmpOp::Gt,
            Tok::Op("<=") => CmpOp::Le,
            Tok::Op(">=") => CmpOp::Ge,
            Tok::Ident(s) if s.eq_ignore_ascii_case("LIKE") => CmpOp::Like,
            _ => return Err(self.unexpected()),
        };
        self.next();
        let value_pos = self.peek().pos;
        let value = self.literal()?;
        Ok(Cond::Cmp { path, op, value, value_pos })
    }

    fn literal(&mut self) -> Result<Lit, ParseError> {
        let t = self.peek().clone();
        let lit = match t.tok {
            Tok::Str(s) => Lit::Str(s),
            Tok::Num(n) => Lit::Num(n),
            Tok::Date(d) => Lit::Date(d),
            Tok::DateTime(d) => Lit::DateTime(d),
            Tok::Ident(word) => match word.to_ascii_uppercase().as_str() {
                "NULL" => Lit::Null,
                "TRUE" => Lit::Bool(true),
                "FALSE" => Lit::Bool(false),
                "TODAY" => Lit::Rel(RelDate::Today),
                "YESTERDAY" => Lit::Rel(RelDate::Yesterday),
                "TOMORROW" => Lit::Rel(RelDate::Tomorrow),
                "LAST_N_DAYS" | "NEXT_N_DAYS" => {
                    self.next();
                    self.expect(&Tok::Colon)?;
                    let n = self.count()? as i64;
                    return Ok(Lit::Rel(if word.eq_ignore_ascii_case("LAST_N_DAYS") {
                        RelDate::LastNDays(n)
                    } else {
                        RelDate::NextNDays(n)
                    }));
                }
                _ => return Err(self.unexpected()),
            },
            _ => return Err(self.unexpected()),
        };
        self.next();
        Ok(lit)
    }

    pub(crate) fn order_by(&mut self) -> Result<Vec<OrderItem>, ParseError> {
        let mut items = Vec::new();
        loop {
            let path = self.path()?;
            let desc = if self.eat_keyword("DESC") {
                true
            } else {
                self.eat_keyword("ASC");
                false
            };
            // Salesforce's default: nulls first ascending, last descending.
            let mut nulls_last = desc;
            if self.eat_keyword("NULLS") {
                if self.eat_keyword("LAST") {
                    nulls_last = true;
                } else {
                    self.expect_keyword("FIRST")?;
                    nulls_last = false;
                }
            }
            items.push(OrderItem { path, desc, nulls_last });
            if !self.eat(&Tok::Comma) {
                return Ok(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_escaped_inside_a_literal_stays_part_of_the_value() {
        let q = parse_query(r"SELECT Id FROM Contact WHERE LastName = 'O\'Brien\' OR Name != \'x'").unwrap();
        let Some(Cond::Cmp { value: Lit::Str(s), .. }) = q.filter else { panic!("one comparison expected") };
        assert_eq!(s, "O'Brien' OR Name != 'x", "the whole hostile text is one string value");
    }

    #[test]
    fn mixing_and_with_or_without_parentheses_is_refused() {
        let err = parse_query("SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3").unwrap_err();
        assert!(err.message.contains("OR"), "{}", err.message);
        assert!(parse_query("SELECT Id FROM Lead WHERE A = 1 AND (B = 2 OR C = 3)").is_ok());
    }

    #[test]
    fn date_literals_relationship_paths_and_paging_clauses_parse() {
        let q = parse_query(
            "select Id, Account.Name, Owner.Name from Contact where CreatedDate > 2026-11-21T08:00:00Z \
             and LastActivityDate = LAST_N_DAYS:30 and Email != null order by Name desc nulls last limit 10 offset 5",
        )
        .unwrap();
        assert_eq!(q.select.len(), 3);
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.offset, Some(5));
        assert!(q.order[0].desc && q.order[0].nulls_last);
    }

    #[test]
    fn an_unterminated_string_is_a_syntax_error() {
        assert!(parse_query("SELECT Id FROM Contact WHERE Name = 'abc").is_err());
    }
}
