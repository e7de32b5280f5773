//! The secret that makes Railyard's state tamper-evident: `RAILYARD_LEDGER_KEY` (a CI
//! secret) keys an HMAC-SHA256 over each ledger commit and each result-cache entry. Whoever
//! can push to the guardrails repo or write the cache, but does not hold the key, cannot
//! produce a state that verifies. The key itself is never printed (`Debug` hides it).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "RAILYARD_LEDGER_KEY";

#[derive(Clone, PartialEq, Eq)]
pub struct SealKey(Vec<u8>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(***)")
    }
}

impl SealKey {
    /// The key from a variable's value; an empty value is no key.
    pub fn new(value: &str) -> Option<SealKey> {
        (!value.is_empty()).then(|| SealKey(value.as_bytes().to_vec()))
    }

    /// Hex HMAC-SHA256 over `fields`, each length-prefixed so ("ab","c") ≠ ("a","bc").
    pub fn mac<'a>(&self, fields: impl IntoIterator<Item = &'a [u8]>) -> String {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        for f in fields {
            m.update(&(f.len() as u64).to_le_bytes());
            m.update(f);
        }
        hex::encode(m.finalize().into_bytes())
    }

    /// Whether `mac` is the MAC of `fields` (compared in constant time).
    pub fn verify<'a>(&self, fields: impl IntoIterator<Item = &'a [u8]>, mac: &str) -> bool {
        let Ok(expected) = hex::decode(mac.trim()) else {
            return false;
        };
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        for f in fields {
            m.update(&(f.len() as u64).to_le_bytes());
            m.update(f);
        }
        m.verify_slice(&expected).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_verify_and_separate_fields() {
        let k = SealKey::new("secret").unwrap();
        let a = k.mac([b"ab".as_slice(), b"c"]);
        assert!(k.verify([b"ab".as_slice(), b"c"], &a));
        assert!(!k.verify([b"a".as_slice(), b"bc"], &a));
        assert!(!SealKey::new("other").unwrap().verify([b"ab".as_slice(), b"c"], &a));
        assert!(!k.verify([b"ab".as_slice(), b"c"], "zz"));
        assert!(SealKey::new("").is_none());
        assert_eq!(format!("{k:?}"), "SealKey(***)");
    }
}
