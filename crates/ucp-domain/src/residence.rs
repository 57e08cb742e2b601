//! Where the person lives, when it is a care home: recorded by a clinician or by the person, or
//! declared by the home itself when it admits them. The home's staff read the plan while the
//! person lives there, and only then. A home's own admission is a self-declared relationship
//! (anyone with a care home's sign-in and a person's NHS number and date of birth could make
//! one), so it stands unconfirmed, shown to the person, until a clinician confirms it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Author, DomainError, FieldError, LongText, OdsCode, ShortText};

/// A care home, by its ODS-style code (its organisation code in the social care record) and its
/// name as its sign-in gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CareHome {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "VM1A2"))]
    pub ods_code: OdsCode,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Rosewood Care Home"))]
    pub name: ShortText,
}

/// The person lives at a care home from a date. Stored as `ResidentAdmitted` when the home
/// declared it by admitting them, as `ResidenceRecorded` when a clinician or the person did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidenceRecorded {
    pub care_home: CareHome,
    /// The day they moved in.
    pub since: NaiveDate,
}

/// A clinician confirms that the person lives at the home named: bound to that home, so that a
/// confirmation read before a move never confirms the next home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidenceConfirmed {
    /// The home the clinician confirms (it must be the one on record).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "VM1A2"))]
    pub ods_code: OdsCode,
}

/// The person left the home (moved, or went home): its staff read the plan no longer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidenceEnded {
    /// The home they left (it must be the one on record).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "VM1A2"))]
    pub ods_code: OdsCode,
    /// The day they left.
    pub date: NaiveDate,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub reason: Option<LongText>,
}

/// How the residence on record came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResidenceBasis {
    /// The home declared it by admitting the person: self-declared, unconfirmed until a
    /// clinician confirms it.
    AdmittedByHome,
    /// The person said so themselves.
    StatedByPerson,
    /// A clinician recorded it (or confirmed the home's admission).
    RecordedByClinician,
}

/// The residence on record, as the plan holds it and serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Residence {
    pub care_home: CareHome,
    pub since: NaiveDate,
    pub basis: ResidenceBasis,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Author,
    /// The plan version that recorded it.
    pub version: i64,
    /// Whether a clinician has recorded or confirmed it: `false` for a home's own admission and
    /// for the person's own statement, until a clinician confirms it.
    pub confirmed: bool,
    /// Who confirmed it, and when (a clinician's record is its own confirmation).
    pub confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<Author>,
    /// What a professional reads of it, in words: who recorded it, and whether it is confirmed.
    pub notice: String,
    /// What the person reads of it, in words ("Rosewood Care Home recorded on 7 December 2026
    /// that you live there…").
    pub to_the_person: String,
}

impl Residence {
    /// The residence on record after a `ResidentAdmitted` (`admitted`) or `ResidenceRecorded`
    /// event by `by` at `at`, as the plan version `version`.
    #[must_use]
    pub fn recorded(
        event: &ResidenceRecorded,
        admitted: bool,
        by: &Author,
        at: DateTime<Utc>,
        version: i64,
    ) -> Self {
        let basis = if admitted {
            ResidenceBasis::AdmittedByHome
        } else if by.role == "patient" {
            ResidenceBasis::StatedByPerson
        } else {
            ResidenceBasis::RecordedByClinician
        };
        let confirmed = basis == ResidenceBasis::RecordedByClinician;
        let mut residence = Self {
            care_home: event.care_home.clone(),
            since: event.since,
            basis,
            recorded_at: at,
            recorded_by: by.clone(),
            version,
            confirmed,
            confirmed_at: confirmed.then_some(at),
            confirmed_by: confirmed.then(|| by.clone()),
            notice: String::new(),
            to_the_person: String::new(),
        };
        residence.tell();
        residence
    }

    /// The residence confirmed by a clinician `by` at `at`.
    pub fn confirm(&mut self, by: &Author, at: DateTime<Utc>, version: i64) {
        self.confirmed = true;
        self.confirmed_at = Some(at);
        self.confirmed_by = Some(by.clone());
        self.version = version;
        self.tell();
    }

    /// Puts the residence into words, for professionals and for the person.
    fn tell(&mut self) {
        let home = self.care_home.name.as_str();
        let code = self.care_home.ods_code.as_str();
        // Days as the person and the home live them: in the UK.
        let on = crate::in_uk(self.recorded_at).format("%-d %B %Y");
        let since = self.since.format("%-d %B %Y");
        let who = |a: &Author| a.name.clone().unwrap_or_else(|| a.role.clone());
        let (notice, to_the_person) = match self.basis {
            ResidenceBasis::AdmittedByHome => (
                format!("{home} ({code}) recorded on {on} that the person has lived there since {since}."),
                format!("{home} recorded on {on} that you live there, since {since}."),
            ),
            ResidenceBasis::StatedByPerson => (
                format!("The person said on {on} that they have lived at {home} ({code}) since {since}."),
                format!("You said on {on} that you live at {home}, since {since}."),
            ),
            ResidenceBasis::RecordedByClinician => (
                format!("{} recorded on {on} that the person has lived at {home} ({code}) since {since}.", who(&self.recorded_by)),
                format!("{} recorded on {on} that you live at {home}, since {since}.", who(&self.recorded_by)),
            ),
        };
        let confirmation = match (&self.confirmed_by, self.confirmed_at, self.basis) {
            // A clinician's own record needs no confirmation.
            (_, _, ResidenceBasis::RecordedByClinician) => String::new(),
            (Some(by), Some(at), _) => format!(
                " Confirmed by {} on {}.",
                who(by),
                crate::in_uk(at).format("%-d %B %Y")
            ),
            (_, _, ResidenceBasis::AdmittedByHome) => {
                " A clinician has not confirmed it yet.".to_owned()
            }
            _ => String::new(),
        };
        self.notice = format!(
            "{notice}{confirmation} While the person lives there, its staff read this plan (unless consent to share is withdrawn)."
        );
        self.to_the_person = format!(
            "{to_the_person}{confirmation} While you live there, its staff can read your care plan, unless you withdraw your consent to share it."
        );
    }
}

/// The person's residence as it ended, kept on the plan so that the person and the clinicians
/// see whose access ended, when and by whom (the home's staff no longer read the plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndedResidence {
    pub care_home: CareHome,
    pub since: NaiveDate,
    pub left_on: NaiveDate,
    pub ended_at: DateTime<Utc>,
    pub ended_by: Author,
    pub version: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub reason: Option<LongText>,
}

/// A residence starting `since`: not in the future, not before the person was born (also
/// checked by an admission before the plan is looked up, against the date of birth sent).
///
/// # Errors
/// [`DomainError::Invalid`] naming `/since`.
pub fn check_since(since: NaiveDate, today: NaiveDate, born: NaiveDate) -> Result<(), DomainError> {
    if since > today {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "/since",
            "the day they moved in cannot be in the future",
        )]));
    }
    if since < born {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "/since",
            "the day they moved in cannot be before they were born",
        )]));
    }
    Ok(())
}

/// The residence a confirmation or an ending names, if it is the one on record.
pub(crate) fn named<'a>(
    current: Option<&'a Residence>,
    ods_code: &OdsCode,
) -> Result<&'a Residence, DomainError> {
    match current {
        None => Err(DomainError::NoResidence),
        Some(r) if &r.care_home.ods_code != ods_code => Err(DomainError::ResidenceElsewhere {
            recorded: r.care_home.ods_code.to_string(),
        }),
        Some(r) => Ok(r),
    }
}

/// An ending on `date`: not in the future, not before the residence began.
pub(crate) fn check_ended(
    residence: &Residence,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), DomainError> {
    if date > today {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "/date",
            "the day they left cannot be in the future",
        )]));
    }
    if date < residence.since {
        return Err(DomainError::Invalid(vec![FieldError::new(
            "/date",
            format!(
                "the day they left cannot be before they moved in ({})",
                residence.since
            ),
        )]));
    }
    Ok(())
}
