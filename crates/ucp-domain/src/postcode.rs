use std::fmt;

use serde::{Deserialize, Serialize};

/// A UK postcode in its normal form: upper case, one space between the outward code (A9, A99,
/// AA9, AA99, A9A, AA9A) and the inward code (9AA).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "SE1 7EH", pattern = r"^ *[A-Za-z] *[A-Za-z]? *[0-9] *[A-Za-z0-9]? *[0-9] *[A-Za-z] *[A-Za-z] *$")
)]
pub struct Postcode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a UK postcode (e.g. SE1 7EH)")]
pub struct PostcodeError;

impl Postcode {
    /// Normalises spacing (spaces anywhere; no other whitespace, as the OpenAPI pattern says) and
    /// case, then checks the shape.
    ///
    /// # Errors
    /// When the text is not a UK postcode.
    pub fn parse(text: &str) -> Result<Self, PostcodeError> {
        let compact: String = text
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(PostcodeError);
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if !valid_inward(inward) || !valid_outward(outward) {
            return Err(PostcodeError);
        }
        Ok(Self(format!("{outward} {inward}")))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_inward(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3
        && b[0].is_ascii_digit()
        && b[1].is_ascii_alphabetic()
        && b[2].is_ascii_alphabetic()
}

/// A9, A99, AA9, AA99, A9A, AA9A.
fn valid_outward(s: &str) -> bool {
    let shape: String = s
        .bytes()
        .map(|c| {
            if c.is_ascii_digit() {
                '9'
            } else if c.is_ascii_alphabetic() {
                'A'
            } else {
                '?'
            }
        })
        .collect();
    matches!(
        shape.as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    )
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Postcode {
    type Error = PostcodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Postcode> for String {
    fn from(value: Postcode) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_spacing() {
        for (input, normal) in [
            ("se17eh", "SE1 7EH"),
            (" SW1A  1aa ", "SW1A 1AA"),
            ("m1 1ae", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("cr2 6xh", "CR2 6XH"),
            ("W1A0AX", "W1A 0AX"),
            ("DN55 1PT", "DN55 1PT"),
        ] {
            assert_eq!(
                Postcode::parse(input).map(|p| p.to_string()),
                Ok(normal.to_owned())
            );
        }
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "",
            "SE1",
            "SE1 7E",
            "1SE 7EH",
            "SE1 EEH",
            "SE1-7EH",
            "ABCDE 1AA",
            "SÉ1 7EH",
        ] {
            assert_eq!(Postcode::parse(bad), Err(PostcodeError), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_normal_postcode_is_a_fixed_point(
            outward in "[A-Z][0-9]|[A-Z][0-9][0-9]|[A-Z][A-Z][0-9]|[A-Z][A-Z][0-9][0-9]|[A-Z][0-9][A-Z]|[A-Z][A-Z][0-9][A-Z]",
            inward in "[0-9][A-Z][A-Z]",
        ) {
            let text = format!("{outward} {inward}");
            let parsed = Postcode::parse(&text.to_lowercase().replace(' ', "")).map(|p| p.to_string());
            prop_assert_eq!(parsed, Ok(text));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,12}") {
            let _ = Postcode::parse(&text);
        }
    }
}
