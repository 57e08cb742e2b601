use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid NHS number: 10 digits whose last is the Modulus 11 check digit of the first nine.
/// Accepted with or without spaces; always printed as the 10 plain digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "9434765919", pattern = r"^[ -]*(?:[0-9][ -]*){10}$")
)]
pub struct NhsNumber([u8; 10]);

/// Why a string is not an NHS number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("an NHS number has 10 digits")]
    WrongLength,
    #[error("an NHS number holds only digits (and optional spaces)")]
    NotDigits,
    #[error("the check digit does not match: this is not a valid NHS number")]
    CheckDigit,
}

impl NhsNumber {
    /// Parses `943 476 5919`, `9434765919` or `943-476-5919`: spaces and hyphens anywhere, nothing
    /// else (the OpenAPI pattern says the same).
    ///
    /// # Errors
    /// When the text is not 10 digits or the check digit is wrong (a check of 10 is never valid).
    pub fn parse(text: &str) -> Result<Self, NhsNumberError> {
        let mut digits = [0u8; 10];
        let mut n = 0;
        for c in text.chars() {
            if c == ' ' || c == '-' {
                continue;
            }
            let d = c.to_digit(10).ok_or(NhsNumberError::NotDigits)?;
            if n == 10 {
                return Err(NhsNumberError::WrongLength);
            }
            digits[n] = u8::try_from(d).map_err(|_| NhsNumberError::NotDigits)?;
            n += 1;
        }
        if n != 10 {
            return Err(NhsNumberError::WrongLength);
        }
        if check_digit(&digits) != Some(digits[9]) {
            return Err(NhsNumberError::CheckDigit);
        }
        Ok(Self(digits))
    }

    /// Makes a valid number from nine digits by appending their check digit, or `None` when the
    /// nine have none (check 10). For synthetic data.
    #[must_use]
    pub fn from_first_nine(first: u32) -> Option<Self> {
        if first > 999_999_999 {
            return None;
        }
        let mut digits = [0u8; 10];
        let mut rest = first;
        for slot in digits[..9].iter_mut().rev() {
            *slot = u8::try_from(rest % 10).ok()?;
            rest /= 10;
        }
        digits[9] = check_digit(&digits)?;
        Some(Self(digits))
    }
}

/// 11 − (Σ dᵢ·(11−i) mod 11); 11 becomes 0; 10 means the nine digits have no valid number.
fn check_digit(digits: &[u8; 10]) -> Option<u8> {
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        c => u8::try_from(c).ok(),
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = NhsNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NhsNumber> for String {
    fn from(value: NhsNumber) -> Self {
        value.to_string()
    }
}

impl std::str::FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_published_example_in_every_spacing() {
        for text in ["9434765919", "943 476 5919", " 943-476-5919 "] {
            let n = NhsNumber::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(n.to_string(), "9434765919");
        }
    }

    #[test]
    fn refuses_what_is_not_an_nhs_number() {
        assert_eq!(
            NhsNumber::parse("9434765918"),
            Err(NhsNumberError::CheckDigit)
        );
        assert_eq!(
            NhsNumber::parse("943476591"),
            Err(NhsNumberError::WrongLength)
        );
        assert_eq!(
            NhsNumber::parse("94347659190"),
            Err(NhsNumberError::WrongLength)
        );
        assert_eq!(
            NhsNumber::parse("94347A5919"),
            Err(NhsNumberError::NotDigits)
        );
        assert_eq!(NhsNumber::parse(""), Err(NhsNumberError::WrongLength));
        // 000000001x: the weighted sum is 0·… + 1·2 = 2, so the check would be 9.
        assert!(NhsNumber::parse("0000000019").is_ok());
        // 000000006: the weighted sum is 6·2 = 12, 12 mod 11 = 1, so the check would be 10:
        // these nine digits have no valid number at all.
        assert_eq!(NhsNumber::from_first_nine(6), None);
        assert_eq!(
            NhsNumber::parse("0000000060"),
            Err(NhsNumberError::CheckDigit)
        );
    }

    proptest! {
        #[test]
        fn every_number_made_from_nine_digits_parses_back(first in 0u32..=999_999_999) {
            if let Some(n) = NhsNumber::from_first_nine(first) {
                let text = n.to_string();
                prop_assert_eq!(text.len(), 10);
                prop_assert_eq!(NhsNumber::parse(&text), Ok(n));
                let spaced = format!("{} {} {}", &text[..3], &text[3..6], &text[6..]);
                prop_assert_eq!(NhsNumber::parse(&spaced), Ok(n));
            }
        }

        #[test]
        fn changing_one_digit_breaks_the_check(first in 0u32..=999_999_999, pos in 0usize..10, delta in 1u8..10) {
            if let Some(n) = NhsNumber::from_first_nine(first) {
                let mut digits: Vec<u8> = n.to_string().bytes().map(|b| b - b'0').collect();
                digits[pos] = (digits[pos] + delta) % 10;
                let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
                prop_assert!(NhsNumber::parse(&text).is_err());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,20}") {
            let _ = NhsNumber::parse(&text);
        }
    }
}
