//! Salesforce record ids: 3-character key prefix per object, 15 case-sensitive
//! characters, plus the 3-character case-folding checksum that makes the 18-character
//! form. Ids are handed out from counters, so a seeded org always has the same ids.

use std::collections::HashMap;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
/// Two characters standing for the pod, as in real ids (`0035g00000…`).
const POD: &str = "5g";

/// The 3-character suffix that turns a 15-character id into its 18-character form.
pub(crate) fn checksum(id15: &str) -> String {
    let bytes = id15.as_bytes();
    let mut out = String::with_capacity(3);
    for chunk in 0..3 {
        let mut flags = 0usize;
        for i in 0..5 {
            if bytes.get(chunk * 5 + i).is_some_and(|b| b.is_ascii_uppercase()) {
                flags |= 1 << i;
            }
        }
        out.push(SUFFIX[flags] as char);
    }
    out
}

/// Accepts a 15- or 18-character id and returns the 18-character form, or `None` when
/// the text is not shaped like an id (wrong length, characters outside [0-9A-Za-z], or
/// an 18-character id whose checksum does not match).
pub(crate) fn normalize(id: &str) -> Option<String> {
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match id.len() {
        15 => Some(format!("{id}{}", checksum(id))),
        18 => {
            let (head, tail) = id.split_at(15);
            // Salesforce accepts the suffix in any case.
            checksum(head).eq_ignore_ascii_case(tail).then(|| format!("{head}{}", checksum(head)))
        }
        _ => None,
    }
}

/// Hands out ids per key prefix. Deterministic: the n-th id of a prefix is always the same.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdGen {
    next: HashMap<String, u64>,
}

impl IdGen {
    pub(crate) fn next(&mut self, prefix: &str) -> String {
        let n = self.next.entry(prefix.to_string()).or_insert(1);
        let id15 = format!("{prefix}{POD}{}", base62(*n, 10));
        *n += 1;
        format!("{id15}{}", checksum(&id15))
    }
}

fn base62(mut n: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// Random-looking text from the base-62 alphabet (tokens, locators), from a seeded RNG.
pub(crate) fn random_base62(rng: &mut impl rand::Rng, len: usize) -> String {
    (0..len).map(|_| BASE62[rng.gen_range(0..62)] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_matches_salesforces_published_example() {
        // Example from Salesforce's documentation of the 18-character id.
        assert_eq!(checksum("001A0000006Vm9r"), "IAC");
    }

    #[test]
    fn ids_normalize_from_15_to_18_characters_and_reject_bad_shapes() {
        assert_eq!(normalize("001A0000006Vm9r").as_deref(), Some("001A0000006Vm9rIAC"));
        assert_eq!(normalize("001A0000006Vm9riac").as_deref(), Some("001A0000006Vm9rIAC"));
        assert_eq!(normalize("001A0000006Vm9rXXX"), None, "a wrong checksum is not an id");
        assert_eq!(normalize("abc"), None);
        assert_eq!(normalize("001A0000006Vm9r'; "), None);
    }

    #[test]
    fn generated_ids_are_18_characters_with_the_objects_prefix() {
        let mut g = IdGen::default();
        let a = g.next("003");
        let b = g.next("003");
        assert_eq!(a.len(), 18);
        assert!(a.starts_with("0035g"));
        assert_ne!(a, b);
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()), "generated ids carry a valid checksum");
    }
}
