//! The code on a printed plan that lets anyone holding the paper ask whether it is still the
//! plan (`GET /check/{code}`), without signing in.
//!
//! The code names the plan, the printed version and the day it was printed, and is signed by
//! the service (HMAC-SHA-256, truncated to 96 bits), so a code can be neither guessed (a plan
//! id alone is not enough) nor forged to say another version. It carries the id of the key
//! that signed it, so keys rotate without invalidating paper already in homes:
//!
//! - `UCP_CHECK_KEYS` lists keys as `id:secret`, comma-separated; the **first** signs new
//!   prints, **all** verify. To rotate, put a new key first and keep the old ones listed for as
//!   long as paper printed with them may be in use (a ReSPECT form lives for years). A key
//!   dropped from the list makes its codes answer "not recognised", which is the way to
//!   revoke a leaked key.
//! - Without `UCP_CHECK_KEYS` a development key is used, and a production deployment refuses
//!   to start (see `ucp serve`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// What a code says: this plan, at this version, printed on this day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintedCopy {
    pub plan_id: Uuid,
    pub version: i64,
    pub printed_on: NaiveDate,
}

/// Why a code is not one this service signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodeError {
    #[error("the code is not in the printed form")]
    Malformed,
    #[error("the code was signed with key {0}, which is not (or no longer) configured")]
    UnknownKey(u8),
    #[error("the code's signature does not match")]
    BadSignature,
}

/// A configured key list that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeysError {
    #[error("UCP_CHECK_KEYS is empty")]
    Empty,
    #[error("UCP_CHECK_KEYS entry {0:?} is not `id:secret` with an id from 0 to 255")]
    Entry(String),
    #[error("UCP_CHECK_KEYS key {0} is shorter than 32 characters")]
    Short(u8),
    #[error("UCP_CHECK_KEYS lists key {0} twice")]
    Duplicate(u8),
    #[error("UCP_CHECK_KEYS key {0} is the development key, whose secret is public")]
    Development(u8),
}

/// Domain separation: a MAC made for anything else cannot pass as a printed-copy code.
const CONTEXT: &[u8] = b"ucp printed copy v1";
/// Bytes of the MAC kept: 96 bits.
const TAG: usize = 12;
/// key id (1) + plan id (16) + version (4) + printed day (4).
const BODY: usize = 25;
/// The key used when none is configured; refused in production.
const DEVELOPMENT_SECRET: &str = "ucp-development-check-key-do-not-use-in-production";

/// The keys printed-copy codes are signed and verified with.
#[derive(Clone)]
pub struct CheckKeys {
    /// (id, secret); the first signs.
    keys: Vec<(u8, Vec<u8>)>,
    development: bool,
}

impl std::fmt::Debug for CheckKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckKeys")
            .field(
                "ids",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .field("development", &self.development)
            .finish()
    }
}

impl Default for CheckKeys {
    fn default() -> Self {
        Self::development()
    }
}

impl std::str::FromStr for CheckKeys {
    type Err = KeysError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut keys: Vec<(u8, Vec<u8>)> = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, secret) = entry
                .split_once(':')
                .ok_or_else(|| KeysError::Entry(redacted(entry)))?;
            let id: u8 = id
                .trim()
                .parse()
                .map_err(|_| KeysError::Entry(redacted(entry)))?;
            if secret.chars().count() < 32 {
                return Err(KeysError::Short(id));
            }
            // The development key's secret is in the source: configured, it is no key at all.
            if secret == DEVELOPMENT_SECRET {
                return Err(KeysError::Development(id));
            }
            if keys.iter().any(|(k, _)| *k == id) {
                return Err(KeysError::Duplicate(id));
            }
            keys.push((id, secret.as_bytes().to_vec()));
        }
        if keys.is_empty() {
            return Err(KeysError::Empty);
        }
        Ok(Self {
            keys,
            development: false,
        })
    }
}

/// An entry as an error may repeat it: its id, never its secret.
fn redacted(entry: &str) -> String {
    match entry.split_once(':') {
        Some((id, _)) => format!("{id}:…"),
        None => "…".to_owned(),
    }
}

impl CheckKeys {
    /// The development key (id 0): codes it signs are checkable on any development server.
    #[must_use]
    pub fn development() -> Self {
        Self {
            keys: vec![(0, DEVELOPMENT_SECRET.as_bytes().to_vec())],
            development: true,
        }
    }

    /// Whether these are the development key, which a production deployment refuses.
    #[must_use]
    pub fn is_development(&self) -> bool {
        self.development
    }

    fn mac(secret: &[u8], body: &[u8]) -> Option<[u8; TAG]> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
        mac.update(CONTEXT);
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut tag = [0; TAG];
        tag.copy_from_slice(full.get(..TAG)?);
        Some(tag)
    }

    /// The code for a copy, signed with the first key. A version or day that does not fit the
    /// code (beyond 4 billion) is not one a plan reaches; it is written as 0 and so checks as
    /// not current rather than as another version.
    #[must_use]
    pub fn sign(&self, copy: &PrintedCopy) -> String {
        let (id, secret) = self
            .keys
            .first()
            .map_or((0, DEVELOPMENT_SECRET.as_bytes()), |(id, s)| {
                (*id, s.as_slice())
            });
        let mut body = Vec::with_capacity(BODY + TAG);
        body.push(id);
        body.extend_from_slice(copy.plan_id.as_bytes());
        body.extend_from_slice(&u32::try_from(copy.version).unwrap_or(0).to_be_bytes());
        body.extend_from_slice(
            &u32::try_from(copy.printed_on.num_days_from_ce())
                .unwrap_or(0)
                .to_be_bytes(),
        );
        let tag = Self::mac(secret, &body).unwrap_or([0; TAG]);
        body.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(body)
    }

    /// What a code says, if one of the configured keys signed it.
    ///
    /// # Errors
    /// When the code is malformed, names a key not configured, or its signature is wrong.
    pub fn verify(&self, code: &str) -> Result<PrintedCopy, CodeError> {
        if code.len() > 64 {
            return Err(CodeError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(code)
            .map_err(|_| CodeError::Malformed)?;
        if bytes.len() != BODY + TAG {
            return Err(CodeError::Malformed);
        }
        let (body, tag) = bytes.split_at(BODY);
        let id = body[0];
        let secret = self
            .keys
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, s)| s)
            .ok_or(CodeError::UnknownKey(id))?;
        // Compared in constant time by the MAC itself.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| CodeError::BadSignature)?;
        mac.update(CONTEXT);
        mac.update(body);
        mac.verify_truncated_left(tag)
            .map_err(|_| CodeError::BadSignature)?;
        let plan_id = Uuid::from_slice(&body[1..17]).map_err(|_| CodeError::Malformed)?;
        let word = |at: usize| -> Result<u32, CodeError> {
            body.get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or(CodeError::Malformed)
        };
        let version = i64::from(word(17)?);
        let day = i32::try_from(word(21)?).map_err(|_| CodeError::Malformed)?;
        let printed_on = NaiveDate::from_num_days_from_ce_opt(day).ok_or(CodeError::Malformed)?;
        Ok(PrintedCopy {
            plan_id,
            version,
            printed_on,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy() -> PrintedCopy {
        PrintedCopy {
            plan_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0042),
            version: 7,
            printed_on: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
        }
    }

    fn keys(text: &str) -> CheckKeys {
        text.parse().unwrap_or_else(|e: KeysError| panic!("{e}"))
    }

    const A: &str = "1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "2:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn a_code_says_what_was_printed_and_is_short_enough_for_a_qr_code() {
        let k = keys(A);
        let code = k.sign(&copy());
        assert_eq!(code.len(), 50);
        assert!(code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(k.verify(&code), Ok(copy()));
    }

    #[test]
    fn a_code_cannot_be_altered_or_forged() {
        let k = keys(A);
        let code = k.sign(&copy());
        let mut bytes = URL_SAFE_NO_PAD.decode(&code).unwrap_or_default();
        // Say version 8 instead of 7.
        bytes[20] ^= 0x0f;
        assert_eq!(
            k.verify(&URL_SAFE_NO_PAD.encode(&bytes)),
            Err(CodeError::BadSignature)
        );
        // Signed with a key this service does not have.
        let other = keys("1:cccccccccccccccccccccccccccccccccccc").sign(&copy());
        assert_eq!(k.verify(&other), Err(CodeError::BadSignature));
        for bad in ["", "abc", "!!!!", &"A".repeat(65), &code[..49]] {
            assert_eq!(k.verify(bad), Err(CodeError::Malformed), "{bad}");
        }
    }

    #[test]
    fn keys_rotate_without_invalidating_paper_and_a_dropped_key_revokes_its_codes() {
        let old = keys(A);
        let printed_before = old.sign(&copy());
        // The new key first; the old one still verifies.
        let rotated = keys(&format!("{B},{A}"));
        assert_eq!(rotated.verify(&printed_before), Ok(copy()));
        let printed_after = rotated.sign(&copy());
        assert_ne!(printed_after, printed_before);
        assert_eq!(rotated.verify(&printed_after), Ok(copy()));
        // The old key dropped: its codes are no longer recognised.
        let revoked = keys(B);
        assert_eq!(
            revoked.verify(&printed_before),
            Err(CodeError::UnknownKey(1))
        );
    }

    #[test]
    fn a_key_list_that_cannot_be_used_is_refused_without_repeating_a_secret() {
        for (text, err) in [
            ("", KeysError::Empty),
            ("1:short", KeysError::Short(1)),
            ("nokey", KeysError::Entry("…".into())),
            (
                "300:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                KeysError::Entry("300:…".into()),
            ),
            (&format!("{A},{A}"), KeysError::Duplicate(1)),
            (
                &format!("3:{DEVELOPMENT_SECRET}"),
                KeysError::Development(3),
            ),
        ] {
            assert_eq!(text.parse::<CheckKeys>().err(), Some(err), "{text}");
        }
        assert!(CheckKeys::development().is_development());
        assert!(!keys(A).is_development());
    }
}
