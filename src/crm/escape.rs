//! Escaping of values placed in SOSL and SOQL text. Every value the product puts in a
//! query goes through here; nothing a caller or a user typed can change a query's shape.

/// SOSL reserved characters, which must be backslash-escaped inside `FIND {…}`.
const SOSL_RESERVED: &[char] = &['?', '&', '|', '!', '{', '}', '[', ']', '(', ')', '^', '~', '*', ':', '\\', '"', '\'', '+', '-'];

/// Escapes a search term for `FIND {term}`. Control characters are dropped: they
/// cannot be searched and only make the request fail.
pub fn sosl_term(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 8);
    for c in term.chars().filter(|c| !c.is_control()) {
        if SOSL_RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A SOQL string literal, quotes included: `'O\'Brien'`. Backslash and quote are the
/// characters SOQL escapes; newlines and tabs get their escape sequences.
pub fn soql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// True for a Salesforce record id (15 or 18 alphanumeric characters). Ids are put in
/// queries unquoted nowhere, but checking them first turns a bad id into a clear error
/// instead of a confusing query failure.
pub fn is_record_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// API names of objects and fields come from the admin layout: letters, digits and
/// underscores only (custom ones end in `__c`), never quoted, so they are checked.
pub fn is_api_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sosl_reserved_character_is_escaped() {
        assert_eq!(sosl_term("a}b"), "a\\}b");
        assert_eq!(sosl_term("+33 (0)1"), "\\+33 \\(0\\)1");
        assert_eq!(sosl_term("x\\y"), "x\\\\y");
        let hostile = "} IN ALL FIELDS RETURNING User(Id) //";
        let escaped = sosl_term(hostile);
        assert!(!escaped.contains(" }") && escaped.starts_with("\\}"), "the closing brace cannot end the term: {escaped}");
    }

    #[test]
    fn a_hostile_soql_value_stays_one_string_literal() {
        let lit = soql_string("x' OR Name != 'y");
        assert_eq!(lit, "'x\\' OR Name != \\'y'");
        let lit = soql_string("trailing backslash \\");
        assert_eq!(lit, "'trailing backslash \\\\'", "a final backslash cannot escape the closing quote");
    }

    #[test]
    fn ids_and_api_names_are_checked() {
        assert!(is_record_id("0035e00000AbCdEAAZ"));
        assert!(!is_record_id("003' OR Id != '"));
        assert!(is_api_name("Disposition__c"));
        assert!(is_api_name("Account.Name"));
        assert!(!is_api_name("Name, (SELECT Id FROM User)"));
    }
}
