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
