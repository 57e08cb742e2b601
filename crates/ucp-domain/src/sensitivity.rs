//! A record marked sensitive: every professional's read of it is put before the privacy officer.
//! A clinician marks it (the person is a member of staff, a public figure, or at risk if found),
//! and clears the mark when the reason has gone. The mark is on the plan as events, so whether a
//! read at a given version was of a sensitive record is answered from the log, and the alerts
//! computed from the access log can be recomputed exactly.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Author;

/// Why the record is sensitive: the reason the privacy officer reads with each alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SensitivityReason {
    /// The person works for an organisation that reads the service: colleagues might look.
    MemberOfStaff,
    /// A person in the public eye.
    PublicFigure,
    /// The person is at risk if found (safeguarding, a protected address).
    Safeguarding,
}

impl SensitivityReason {
    /// In words, for the privacy officer's alert.
    #[must_use]
    pub fn in_words(self) -> &'static str {
        match self {
            Self::MemberOfStaff => "a member of staff",
            Self::PublicFigure => "a public figure",
            Self::Safeguarding => "at risk if found (safeguarding)",
        }
    }
}

/// A clinician marks the record sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityMarked {
    pub reason: SensitivityReason,
}

/// A clinician clears the mark: its reason has gone. It names no reason: the reason is not
/// shown to readers (see [`WITHHELD`]), and the plan's `If-Match` already binds the clearance to
/// the mark the clinician saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityCleared {}

/// The events whose content no reader of the plan is shown (its history gives their type, not
/// their data) and that the feed does not carry: a mark's reason (a member of staff, a public
/// figure, a person at risk if found), and a register of who is marked, are for the privacy
/// officer only.
pub const WITHHELD: [&str; 2] = ["SensitivityMarked", "SensitivityCleared"];

/// The mark on record, as the plan holds it and serves it: who marked it and when. The reason is
/// in the plan's history for clinicians; the plan itself says only that reads are reviewed, so
/// that every reader of the plan is not told that the person is, say, a public figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sensitivity {
    pub marked_at: DateTime<Utc>,
    pub marked_by: Author,
    /// The plan version that marked it.
    pub version: i64,
    /// What a reader is told.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "This record is marked sensitive: every read of it is reviewed by the privacy officer."
        )
    )]
    pub notice: String,
}

/// The mark as the plan state holds it: the reason, for the rules, and what readers are shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Marked {
    pub reason: SensitivityReason,
    pub shown: Sensitivity,
}

/// What every reader of a sensitive record is told.
pub const NOTICE: &str =
    "This record is marked sensitive: every read of it is reviewed by the privacy officer.";

impl Marked {
    #[must_use]
    pub fn new(reason: SensitivityReason, by: &Author, at: DateTime<Utc>, version: i64) -> Self {
        Self {
            reason,
            shown: Sensitivity {
                marked_at: at,
                marked_by: by.clone(),
                version,
                notice: NOTICE.to_owned(),
            },
        }
    }
}
