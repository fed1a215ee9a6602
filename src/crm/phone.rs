//! Phone-number normalisation: any way a rep or a PBX writes a number becomes E.164
//! plus an optional extension, read in the rep's default region when it has no country
//! code. Parsing, vanity letters and metadata come from `rlibphonenumber`, a port of
//! Google's libphonenumber checked against the C++ original. (The `phonenumber` crate
//! was dropped: with default region US it reads +33 1 23 45 67 89 as +33 23 45 67 89,
//! stripping the "1" as if it were the US national prefix.) This file adds the limits
//! and the error messages reps see.

use std::str::FromStr;

use rlibphonenumber::enums::Region;
use rlibphonenumber::{ParseError, PhoneNumberFormat, PhoneNumberType, PHONE_NUMBER_UTIL};
use serde::Serialize;

/// E.164 allows 15 digits; with an extension and formatting, 64 characters is far more
/// than any real number. Longer input is refused before it reaches the parser.
const MAX_INPUT_CHARS: usize = 64;
const MAX_E164_DIGITS: usize = 15;
/// The shortest numbers anyone dials from a desktop (emergency and short codes) have 3.
const MIN_DIGITS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberInfo {
    /// `+33123456789`
    pub e164: String,
    /// `+33 1 23 45 67 89`
    pub international: String,
    /// The national significant number, digits only (`123456789`): what a phone
    /// search in Salesforce is made with.
    pub national_number: String,
    pub extension: Option<String>,
    /// ISO region of the number, when the metadata tells (`FR`); none for
    /// non-geographic numbers such as +800.
    pub region: Option<String>,
    pub kind: NumberKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum NumberKind {
    FixedLine,
    Mobile,
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    Personal,
    Pager,
    Uan,
    Voicemail,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("No number was given.")]
    Empty,
    #[error("This is too long to be a phone number ({chars} characters).")]
    TooLong { chars: usize },
    #[error("\"{input}\" contains characters that are not part of a phone number.")]
    BadCharacters { input: String },
    #[error("\"{input}\" is not a phone number.")]
    NotANumber { input: String },
    #[error("\"{input}\" has a country code that does not exist.")]
    BadCountryCode { input: String },
    #[error("\"{input}\" is too short to be a phone number.")]
    TooShort { input: String },
    #[error("\"{input}\" has more digits than any phone number can have.")]
    TooManyDigits { input: String },
    #[error("\"{input}\" is not a valid number in {region} (read as {e164}). Check the digits or add the country code (+…).")]
    Invalid { input: String, e164: String, region: String },
    #[error("\"{region}\" is not a known region code.")]
    BadRegion { region: String },
}

/// Reads `input` as a phone number, using `default_region` (ISO 3166 alpha-2) for
/// numbers written without a country code.
pub fn normalise(input: &str, default_region: &str) -> Result<PhoneNumberInfo, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let chars = trimmed.chars().count();
    if chars > MAX_INPUT_CHARS {
        return Err(PhoneError::TooLong { chars });
    }
    if trimmed.chars().any(|c| c.is_control() || !is_number_char(c)) {
        return Err(PhoneError::BadCharacters { input: trimmed.to_string() });
    }
    if !looks_like_a_number(trimmed) {
        return Err(PhoneError::NotANumber { input: trimmed.to_string() });
    }
    let region = parse_region(default_region)
        .ok_or_else(|| PhoneError::BadRegion { region: default_region.to_string() })?;
    // Extensions ("x123", ";ext=") add digits, so only count the part before one.
    let main_digits = trimmed
        .split(['x', 'X', ';', '#', 'e', 'E'])
        .next()
        .map(|s| s.chars().filter(char::is_ascii_digit).count())
        .unwrap_or(0);
    if main_digits < MIN_DIGITS {
        return Err(PhoneError::TooShort { input: trimmed.to_string() });
    }
    if main_digits > MAX_E164_DIGITS + 4 {
        // + 4: room for an international dialling prefix such as 0011 or 00.
        return Err(PhoneError::TooManyDigits { input: trimmed.to_string() });
    }
    // The parser is third-party code fed with user input; a panic in it must become an
    // error for this one number, never take the app down.
    let parsed = std::panic::catch_unwind(|| PHONE_NUMBER_UTIL.parse(trimmed, Some(region)))
        .map_err(|_| PhoneError::NotANumber { input: trimmed.to_string() })?;
    let number = parsed.map_err(|e| map_parse_error(e, trimmed))?;
    let e164 = PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164).into_owned();
    let number_region = PHONE_NUMBER_UTIL.get_region_for_number(&number).map(|r| r.to_string());
    if e164.trim_start_matches('+').len() > MAX_E164_DIGITS {
        return Err(PhoneError::TooManyDigits { input: trimmed.to_string() });
    }
    if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
        return Err(PhoneError::Invalid {
            input: trimmed.to_string(),
            e164,
            region: number_region.unwrap_or_else(|| default_region.to_string()),
        });
    }
    Ok(PhoneNumberInfo {
        international: PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::International).into_owned(),
        national_number: rlibphonenumber::get_national_significant_number_owned(&number),
        extension: number.extension.clone().filter(|x| !x.is_empty()),
        region: number_region.filter(|r| r != "001"),
        kind: map_kind(PHONE_NUMBER_UTIL.get_number_type(&number)),
        e164,
    })
}

/// The region for an ISO 3166 alpha-2 code, when the phone metadata has numbering rules
/// for it ("XX" parses as a code but has none).
pub fn parse_region(code: &str) -> Option<Region> {
    Region::from_str(code.trim())
        .ok()
        .filter(|r| PHONE_NUMBER_UTIL.get_country_code_for_region(*r).is_some_and(|cc| cc > 0))
}

/// A number starts with digits (or +, or an opening parenthesis); letters may follow
/// only as a vanity word after at least three digits (1-800-FLOWERS) or as an
/// extension marker. "hello" or "sales.team" are not numbers, whatever a keypad says.
fn looks_like_a_number(input: &str) -> bool {
    let first_letter = input.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(input.len());
    let digits_before = input[..first_letter].chars().filter(char::is_ascii_digit).count();
    digits_before >= MIN_DIGITS || (first_letter == input.len() && digits_before > 0)
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || " +-.()/;=#*,\u{a0}".contains(c)
        || matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30fc}' | '\u{ff0d}')
        || ('\u{ff10}'..='\u{ff19}').contains(&c) // full-width digits
}

fn map_parse_error(e: ParseError, input: &str) -> PhoneError {
    let input = input.to_string();
    match e {
        ParseError::InvalidCountryCode => PhoneError::BadCountryCode { input },
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneError::TooShort { input },
        ParseError::TooLongNsn => PhoneError::TooManyDigits { input },
        _ => PhoneError::NotANumber { input },
    }
}

fn map_kind(t: PhoneNumberType) -> NumberKind {
    use PhoneNumberType as T;
    match t {
        T::FixedLine => NumberKind::FixedLine,
        T::Mobile => NumberKind::Mobile,
        T::FixedLineOrMobile => NumberKind::FixedLineOrMobile,
        T::TollFree => NumberKind::TollFree,
        T::PremiumRate => NumberKind::PremiumRate,
        T::SharedCost => NumberKind::SharedCost,
        T::VoIP => NumberKind::Voip,
        T::PersonalNumber => NumberKind::Personal,
        T::Pager => NumberKind::Pager,
        T::UAN => NumberKind::Uan,
        T::VoiceMail => NumberKind::Voicemail,
        _ => NumberKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers_written_every_way_give_one_e164() {
        for input in ["01 23 45 67 89", "+33 1 23 45 67 89", "0033123456789", "+33 (0)1 23 45 67 89", "01.23.45.67.89"] {
            let n = normalise(input, "FR").unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(n.e164, "+33123456789", "{input} is the same Paris number");
            assert_eq!(n.region.as_deref(), Some("FR"));
        }
    }

    #[test]
    fn extensions_are_kept_apart_from_the_number() {
        let n = normalise("+1 650-253-0000 ext. 1234", "US").unwrap();
        assert_eq!(n.e164, "+16502530000");
        assert_eq!(n.extension.as_deref(), Some("1234"));
    }

    #[test]
    fn vanity_numbers_become_digits() {
        let n = normalise("1-800-FLOWERS", "US").unwrap();
        assert_eq!(n.e164, "+18003569377");
        assert_eq!(n.kind, NumberKind::TollFree);
    }

    #[test]
    fn junk_gets_a_reason_not_a_number() {
        assert_eq!(normalise("   ", "FR"), Err(PhoneError::Empty));
        assert!(matches!(normalise("hello 😀", "FR"), Err(PhoneError::BadCharacters { .. })));
        assert!(matches!(normalise(&"9".repeat(40), "FR"), Err(PhoneError::TooManyDigits { .. })));
        assert!(matches!(normalise("hello", "FR"), Err(PhoneError::NotANumber { .. })), "letters alone are no vanity number");
        assert!(matches!(normalise("12", "FR"), Err(PhoneError::TooShort { .. })));
        assert!(matches!(normalise("01 23", "FR"), Err(PhoneError::Invalid { .. })), "a French number needs ten digits");
    }

    #[test]
    fn a_number_with_a_country_code_ignores_the_default_region() {
        // Regression: a parser that applied the US national prefix read this as +3323456789.
        for region in ["US", "FR", "JP", "GB"] {
            assert_eq!(normalise("+33 1 23 45 67 89", region).unwrap().e164, "+33123456789", "region {region}");
        }
        assert_eq!(normalise("011 33 1 23 45 67 89", "US").unwrap().e164, "+33123456789", "US international prefix");
    }

    #[test]
    fn japanese_numbers_with_full_width_dash_are_read() {
        let n = normalise("03ー1234ー5678", "JP").unwrap();
        assert_eq!(n.e164, "+81312345678");
    }
}
