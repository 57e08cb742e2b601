//! Small value types that cannot hold bad values: bounded free text, phone numbers, ODS codes,
//! SNOMED CT codes, birth dates.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a value was refused; the message is shown to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

/// Declares a string newtype whose only way in is `parse`, (de)serialised as a plain string.
macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident, example = $example:literal $(, $rule:ident = $rule_value:tt)*,
     |$s:ident| $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(
            feature = "openapi",
            derive(utoipa::ToSchema),
            schema(value_type = String, example = $example $(, $rule = $rule_value)*)
        )]
        pub struct $name(String);

        impl $name {
            /// # Errors
            /// When the value breaks the type's rule.
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                let $s = text.trim();
                $check.map(|s: String| Self(s))
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn bounded(s: &str, max: usize, what: &str) -> Result<String, ValueError> {
    if s.is_empty() {
        return Err(ValueError(format!("{what} must not be empty")));
    }
    let len = s.chars().count();
    if len > max {
        return Err(ValueError(format!(
            "{what} is {len} characters; at most {max} are allowed"
        )));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValueError(format!("{what} contains control characters")));
    }
    if let Some(c) = s.chars().find(|c| is_bidi_control(*c)) {
        return Err(ValueError(format!(
            "{what} contains the invisible bidirectional control U+{:04X}, which can make a screen show other text than what is stored; remove it",
            u32::from(c)
        )));
    }
    Ok(s.to_owned())
}

/// An LPA reference normalised, if `text` is one: exactly the forms the documented pattern
/// admits (three groups of four, each but the first after at most one space or hyphen, and for
/// an online LPA an `M` and at most one separator first).
fn lpa_reference(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let (online, rest) = match upper.strip_prefix('M') {
        Some(rest) => (true, rest.strip_prefix(['-', ' ']).unwrap_or(rest)),
        None => (false, upper.as_str()),
    };
    let mut groups = Vec::with_capacity(3);
    let mut rest = rest;
    for i in 0..3 {
        if i > 0 {
            rest = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
        }
        let group = rest.get(..4)?;
        let allowed = |c: char| {
            if online {
                c.is_ascii_alphanumeric()
            } else {
                c.is_ascii_digit()
            }
        };
        if !group.chars().all(allowed) {
            return None;
        }
        groups.push(group);
        rest = &rest[4..];
    }
    if !rest.is_empty() {
        return None;
    }
    let grouped = groups.join("-");
    Some(if online {
        format!("M-{grouped}")
    } else {
        grouped
    })
}

/// Unicode's bidirectional formatting characters (embeddings, overrides, isolates and the
/// implicit marks). They change the order in which text is displayed, not what it says, so a
/// note holding them can read differently on a clinician's screen from what is stored (the
/// "Trojan Source" trick). Refused in every free text rather than silently removed: what the
/// author typed is stored exactly or not at all.
#[must_use]
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

string_value!(
    /// A name, a label or a short answer: 1 to 200 characters.
    ShortText, example = "Margaret", min_length = 1, max_length = 200, |s| bounded(s, 200, "this text")
);

string_value!(
    /// Free text in a person's or clinician's own words: 1 to 10,000 characters, never cut.
    LongText, example = "Being at home with my cat, and my daughter nearby.", min_length = 1,
    max_length = 10_000, |s| bounded(s, 10_000, "this text")
);

string_value!(
    /// A UK phone number as dialled: digits, spaces and an optional leading +; 10 to 15 digits.
    Phone, example = "020 7946 0000", pattern = r"^ *\+?(?:[ ()-]*[0-9]){10,15}[ ()-]*$",
    |s| {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let allowed = s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0) || c == '(' || c == ')'
        });
        if allowed && (10..=15).contains(&digits) {
            Ok(s.to_owned())
        } else {
            Err(ValueError("not a phone number (10 to 15 digits, e.g. 020 7946 0000)".into()))
        }
    }
);

string_value!(
    /// The Office of the Public Guardian's reference of a registered lasting power of
    /// attorney: 12 digits in three groups (`7000-1234-5678`, paper LPAs) or `M-` and three
    /// groups of four letters and digits (`M-AB12-CD34-EF56`, LPAs made online). Spaces and
    /// hyphens are normalised, so a reference read out over the phone matches the one typed.
    LpaReference, example = "7000-1234-5678", pattern = r"^ *(?:[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}|[Mm][- ]?[A-Za-z0-9]{4}[- ]?[A-Za-z0-9]{4}[- ]?[A-Za-z0-9]{4}) *$",
    |s| lpa_reference(s).ok_or_else(|| ValueError(
        "not an Office of the Public Guardian LPA reference (e.g. 7000-1234-5678, or M-AB12-CD34-EF56 for an LPA made online)".into(),
    ))
);

string_value!(
    /// An ODS organisation code (GP practice, trust, service): 3 to 10 letters and digits, upper
    /// case.
    OdsCode, example = "F84001", pattern = r"^ *[A-Za-z0-9]{3,10} *$",
    |s| {
        let upper = s.to_ascii_uppercase();
        if (3..=10).contains(&upper.len()) && upper.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(upper)
        } else {
            Err(ValueError("not an ODS code (3 to 10 letters and digits, e.g. F84001)".into()))
        }
    }
);

string_value!(
    /// A SNOMED CT concept id: 6 to 18 digits, no leading zero.
    SnomedCode, example = "450476008", pattern = r"^ *[1-9][0-9]{5,17} *$",
    |s| {
        if (6..=18).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit()) && !s.starts_with('0') {
            Ok(s.to_owned())
        } else {
            Err(ValueError("not a SNOMED CT concept id (6 to 18 digits)".into()))
        }
    }
);

/// A date of birth: not before 1900 and not in the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "NaiveDate", into = "NaiveDate")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, format = Date, example = "1938-04-12")
)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// # Errors
    /// Before 1900-01-01, or after today (UTC).
    pub fn new(date: NaiveDate) -> Result<Self, ValueError> {
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if date < earliest {
            return Err(ValueError("a date of birth cannot be before 1900".into()));
        }
        if date > chrono::Utc::now().date_naive() {
            return Err(ValueError("a date of birth cannot be in the future".into()));
        }
        Ok(Self(date))
    }

    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.0
    }
}

impl TryFrom<NaiveDate> for BirthDate {
    type Error = ValueError;
    fn try_from(value: NaiveDate) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<BirthDate> for NaiveDate {
    fn from(value: BirthDate) -> Self {
        value.0
    }
}

/// A name folded for matching: lower case, accents removed, punctuation and spacing collapsed,
/// so that "Zoë O'Brien" finds "ZOE OBRIEN".
#[must_use]
pub fn fold_name(name: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    name.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits() {
        assert!(ShortText::parse("  Margaret ").is_ok_and(|t| t.as_str() == "Margaret"));
        assert!(ShortText::parse("   ").is_err());
        assert!(ShortText::parse(&"x".repeat(201)).is_err());
        assert!(ShortText::parse("bell\u{7}").is_err());
        assert!(LongText::parse(&"x".repeat(10_000)).is_ok());
        assert!(LongText::parse("line one\nline two").is_ok());
    }

    #[test]
    fn bidirectional_controls_are_refused_in_every_free_text() {
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            let text = format!("not for CPR{c} reversed");
            assert!(ShortText::parse(&text).is_err(), "U+{:04X}", u32::from(c));
            let refused = LongText::parse(&text)
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(
                refused.contains(&format!("U+{:04X}", u32::from(c))),
                "{refused}"
            );
        }
        // Right-to-left text itself is welcome.
        assert!(LongText::parse("\u{0645}\u{0631}\u{062D}\u{0628}\u{0627}").is_ok());
    }

    #[test]
    fn codes_and_phones() {
        assert_eq!(
            OdsCode::parse("f84001").map(|c| c.to_string()),
            Ok("F84001".to_owned())
        );
        assert!(OdsCode::parse("F8").is_err());
        assert!(SnomedCode::parse("450476008").is_ok());
        assert!(SnomedCode::parse("0450476008").is_err());
        assert!(SnomedCode::parse("abc").is_err());
        assert!(Phone::parse("+44 20 7946 0000").is_ok());
        assert!(Phone::parse("020 7946 0000").is_ok());
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("020 7946 000a").is_err());
    }

    #[test]
    fn lpa_references_are_the_opg_forms_normalised() {
        for (given, stored) in [
            ("7000-1234-5678", "7000-1234-5678"),
            (" 7000 1234 5678 ", "7000-1234-5678"),
            ("700012345678", "7000-1234-5678"),
            ("m-ab12-cd34-ef56", "M-AB12-CD34-EF56"),
            ("M AB12 CD34 EF56", "M-AB12-CD34-EF56"),
        ] {
            assert_eq!(
                LpaReference::parse(given).map(|r| r.to_string()),
                Ok(stored.to_owned()),
                "{given}"
            );
        }
        for bad in [
            "7000-1234-567",
            "7000-1234-56789",
            "AB00-1234-5678",
            "n/a",
            "M-AB12-CD34",
        ] {
            assert!(LpaReference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn birth_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN);
        assert!(BirthDate::new(d(1938, 4, 12)).is_ok());
        assert!(BirthDate::new(d(1899, 12, 31)).is_err());
        assert!(BirthDate::new(chrono::Utc::now().date_naive() + chrono::Days::new(1)).is_err());
    }

    #[test]
    fn names_fold_for_matching() {
        assert_eq!(fold_name("Zoë  O'Brien"), "zoe obrien");
        assert_eq!(fold_name("ŁUKASZ"), "łukasz");
        assert_eq!(fold_name("José-María"), "josemaria");
    }
}

/// An instant as a clock in London shows it, for the words a crew reads: "7 December 2026 at
/// 07:28 (UK time)". Crews, 111 and the printed plan all read UK time; a UTC clock is an hour
/// out for half the year.
#[must_use]
pub fn uk_clock(at: chrono::DateTime<chrono::Utc>) -> String {
    in_uk(at).format("%-d %B %Y at %H:%M (UK time)").to_string()
}

/// An instant on a London clock: what every reader of the plan's times reads.
#[must_use]
pub fn in_uk(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono_tz::Tz> {
    at.with_timezone(&chrono_tz::Europe::London)
}

#[cfg(test)]
mod clock_tests {
    use chrono::TimeZone;

    #[test]
    fn a_crew_reads_the_time_a_london_clock_shows() {
        let winter = chrono::Utc
            .with_ymd_and_hms(2026, 12, 7, 7, 28, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            super::uk_clock(winter),
            "7 December 2026 at 07:28 (UK time)"
        );
        let summer = chrono::Utc
            .with_ymd_and_hms(2026, 7, 3, 23, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(super::uk_clock(summer), "4 July 2026 at 00:30 (UK time)");
    }
}
