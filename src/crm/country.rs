//! A record's country as a numbering region. A phone number written nationally on a
//! record ("03-1234-5678") means different numbers in Japan and in France; it is read in
//! the record's own country when the record says which, and only otherwise in the
//! rep's region.

/// Country names (as Salesforce orgs without State & Country picklists hold them, in
/// English and in the countries' own languages) → ISO 3166-1 alpha-2.
const NAMES: &[(&str, &str)] = &[
    ("united states", "US"), ("united states of america", "US"), ("usa", "US"), ("u.s.a.", "US"), ("u.s.", "US"),
    ("états-unis", "US"), ("アメリカ", "US"), ("アメリカ合衆国", "US"),
    ("united kingdom", "GB"), ("uk", "GB"), ("great britain", "GB"), ("england", "GB"), ("scotland", "GB"),
    ("wales", "GB"), ("royaume-uni", "GB"), ("イギリス", "GB"),
    ("france", "FR"), ("フランス", "FR"),
    ("japan", "JP"), ("japon", "JP"), ("日本", "JP"),
    ("germany", "DE"), ("deutschland", "DE"), ("allemagne", "DE"), ("ドイツ", "DE"),
    ("spain", "ES"), ("españa", "ES"), ("espagne", "ES"),
    ("italy", "IT"), ("italia", "IT"), ("italie", "IT"),
    ("brazil", "BR"), ("brasil", "BR"), ("brésil", "BR"),
    ("india", "IN"), ("inde", "IN"),
    ("australia", "AU"), ("australie", "AU"),
    ("canada", "CA"),
    ("switzerland", "CH"), ("schweiz", "CH"), ("suisse", "CH"), ("svizzera", "CH"),
    ("belgium", "BE"), ("belgique", "BE"), ("belgië", "BE"),
    ("netherlands", "NL"), ("the netherlands", "NL"), ("nederland", "NL"), ("pays-bas", "NL"),
    ("mexico", "MX"), ("méxico", "MX"), ("mexique", "MX"),
    ("ireland", "IE"), ("irlande", "IE"),
    ("portugal", "PT"), ("austria", "AT"), ("österreich", "AT"), ("autriche", "AT"),
    ("sweden", "SE"), ("norway", "NO"), ("denmark", "DK"), ("finland", "FI"), ("poland", "PL"),
    ("luxembourg", "LU"), ("china", "CN"), ("中国", "CN"), ("south korea", "KR"), ("korea", "KR"),
    ("韓国", "KR"), ("singapore", "SG"), ("hong kong", "HK"), ("new zealand", "NZ"),
    ("south africa", "ZA"), ("israel", "IL"), ("united arab emirates", "AE"), ("uae", "AE"),
];

/// The numbering region for a country value: an ISO alpha-2 code the phone metadata
/// knows, or a known country name; `None` when the value says nothing usable.
pub fn region_of(country: &str) -> Option<String> {
    let value = country.trim();
    if value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        let code = value.to_ascii_uppercase();
        return super::phone::parse_region(&code).map(|_| code);
    }
    let lower = value.to_lowercase();
    NAMES.iter().find(|(name, _)| *name == lower).map(|(_, code)| (*code).to_string())
}

#[cfg(test)]
mod tests {
    use super::region_of;

    #[test]
    fn country_names_and_codes_give_regions() {
        assert_eq!(region_of("Japan").as_deref(), Some("JP"));
        assert_eq!(region_of(" united states ").as_deref(), Some("US"));
        assert_eq!(region_of("fr").as_deref(), Some("FR"));
        assert_eq!(region_of("日本").as_deref(), Some("JP"));
        assert_eq!(region_of("Atlantis"), None);
        assert_eq!(region_of("XX"), None, "a code without numbering rules is no region");
    }
}

/// The IANA time zone of a place, for showing a contact's local time. Countries with
/// one zone need no state; the United States, Canada and Australia need the state or
/// province (code or name); where the place is ambiguous the answer is `None` rather
/// than a guess. Hand-written: the tz database has no country → zone mapping that a
/// maintained crate exposes with state resolution.
pub fn time_zone(region: &str, state: Option<&str>) -> Option<&'static str> {
    const SINGLE: &[(&str, &str)] = &[
        ("FR", "Europe/Paris"), ("JP", "Asia/Tokyo"), ("GB", "Europe/London"), ("DE", "Europe/Berlin"),
        ("ES", "Europe/Madrid"), ("IT", "Europe/Rome"), ("IN", "Asia/Kolkata"), ("CH", "Europe/Zurich"),
        ("BE", "Europe/Brussels"), ("NL", "Europe/Amsterdam"), ("IE", "Europe/Dublin"), ("PT", "Europe/Lisbon"),
        ("AT", "Europe/Vienna"), ("SE", "Europe/Stockholm"), ("NO", "Europe/Oslo"), ("DK", "Europe/Copenhagen"),
        ("FI", "Europe/Helsinki"), ("PL", "Europe/Warsaw"), ("LU", "Europe/Luxembourg"), ("CN", "Asia/Shanghai"),
        ("KR", "Asia/Seoul"), ("SG", "Asia/Singapore"), ("HK", "Asia/Hong_Kong"), ("NZ", "Pacific/Auckland"),
        ("ZA", "Africa/Johannesburg"), ("IL", "Asia/Jerusalem"), ("AE", "Asia/Dubai"),
    ];
    const US: &[(&str, &str, &str)] = &[
        ("AL", "alabama", "America/Chicago"), ("AK", "alaska", "America/Anchorage"), ("AZ", "arizona", "America/Phoenix"),
        ("AR", "arkansas", "America/Chicago"), ("CA", "california", "America/Los_Angeles"), ("CO", "colorado", "America/Denver"),
        ("CT", "connecticut", "America/New_York"), ("DE", "delaware", "America/New_York"), ("DC", "district of columbia", "America/New_York"),
        ("FL", "florida", "America/New_York"), ("GA", "georgia", "America/New_York"), ("HI", "hawaii", "Pacific/Honolulu"),
        ("ID", "idaho", "America/Boise"), ("IL", "illinois", "America/Chicago"), ("IN", "indiana", "America/Indiana/Indianapolis"),
        ("IA", "iowa", "America/Chicago"), ("KS", "kansas", "America/Chicago"), ("KY", "kentucky", "America/New_York"),
        ("LA", "louisiana", "America/Chicago"), ("ME", "maine", "America/New_York"), ("MD", "maryland", "America/New_York"),
        ("MA", "massachusetts", "America/New_York"), ("MI", "michigan", "America/Detroit"), ("MN", "minnesota", "America/Chicago"),
        ("MS", "mississippi", "America/Chicago"), ("MO", "missouri", "America/Chicago"), ("MT", "montana", "America/Denver"),
        ("NE", "nebraska", "America/Chicago"), ("NV", "nevada", "America/Los_Angeles"), ("NH", "new hampshire", "America/New_York"),
        ("NJ", "new jersey", "America/New_York"), ("NM", "new mexico", "America/Denver"), ("NY", "new york", "America/New_York"),
        ("NC", "north carolina", "America/New_York"), ("ND", "north dakota", "America/Chicago"), ("OH", "ohio", "America/New_York"),
        ("OK", "oklahoma", "America/Chicago"), ("OR", "oregon", "America/Los_Angeles"), ("PA", "pennsylvania", "America/New_York"),
        ("RI", "rhode island", "America/New_York"), ("SC", "south carolina", "America/New_York"), ("SD", "south dakota", "America/Chicago"),
        ("TN", "tennessee", "America/Chicago"), ("TX", "texas", "America/Chicago"), ("UT", "utah", "America/Denver"),
        ("VT", "vermont", "America/New_York"), ("VA", "virginia", "America/New_York"), ("WA", "washington", "America/Los_Angeles"),
        ("WV", "west virginia", "America/New_York"), ("WI", "wisconsin", "America/Chicago"), ("WY", "wyoming", "America/Denver"),
        ("PR", "puerto rico", "America/Puerto_Rico"),
    ];
    const CA: &[(&str, &str, &str)] = &[
        ("BC", "british columbia", "America/Vancouver"), ("AB", "alberta", "America/Edmonton"), ("SK", "saskatchewan", "America/Regina"),
        ("MB", "manitoba", "America/Winnipeg"), ("ON", "ontario", "America/Toronto"), ("QC", "quebec", "America/Toronto"),
        ("QC", "québec", "America/Toronto"), ("NB", "new brunswick", "America/Moncton"), ("NS", "nova scotia", "America/Halifax"),
        ("PE", "prince edward island", "America/Halifax"), ("NL", "newfoundland and labrador", "America/St_Johns"),
        ("YT", "yukon", "America/Whitehorse"), ("NT", "northwest territories", "America/Yellowknife"), ("NU", "nunavut", "America/Iqaluit"),
    ];
    const AU: &[(&str, &str, &str)] = &[
        ("NSW", "new south wales", "Australia/Sydney"), ("ACT", "australian capital territory", "Australia/Sydney"),
        ("VIC", "victoria", "Australia/Melbourne"), ("TAS", "tasmania", "Australia/Hobart"), ("QLD", "queensland", "Australia/Brisbane"),
        ("SA", "south australia", "Australia/Adelaide"), ("NT", "northern territory", "Australia/Darwin"),
        ("WA", "western australia", "Australia/Perth"),
    ];
    if let Some((_, zone)) = SINGLE.iter().find(|(r, _)| *r == region) {
        return Some(zone);
    }
    let table = match region {
        "US" => US,
        "CA" => CA,
        "AU" => AU,
        _ => return None,
    };
    let state = state?.trim();
    let lower = state.to_lowercase();
    table
        .iter()
        .find(|(code, name, _)| code.eq_ignore_ascii_case(state) || *name == lower)
        .map(|(_, _, zone)| *zone)
}

#[cfg(test)]
mod zone_tests {
    use super::time_zone;

    #[test]
    fn places_give_time_zones_and_ambiguous_ones_give_none() {
        assert_eq!(time_zone("JP", None), Some("Asia/Tokyo"));
        assert_eq!(time_zone("US", Some("CA")), Some("America/Los_Angeles"));
        assert_eq!(time_zone("US", Some("New York")), Some("America/New_York"));
        assert_eq!(time_zone("CA", Some("Québec")), Some("America/Toronto"));
        assert_eq!(time_zone("US", None), None, "the United States has several zones");
        assert_eq!(time_zone("BR", Some("SP")), None, "not in the table: no guess");
    }
}
