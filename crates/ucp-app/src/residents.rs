//! Where the person lives, when it is a care home: the home admits a resident and lists its
//! residents; a clinician records, confirms or ends a residence; the home ends its own; the
//! person records or ends theirs. Every change is an event on the plan (`ResidentAdmitted`,
//! `ResidenceRecorded`, `ResidenceConfirmed`, `ResidenceEnded`): in the feed, the history and
//! FHIR, and the home's staff read the plan from the moment the event commits until it ends.

use chrono::NaiveDate;
use serde::Serialize;
use ucp_domain::residence::{CareHome, EndedResidence, Residence, ResidenceRecorded};
use ucp_domain::views::PlanView;
use ucp_domain::{Command, NhsNumber, OdsCode, PlanStatus, SectionContent, ShortText};
use ucp_store::Database;
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::commands::Precondition;
use crate::use_cases::{self, UseCase};
use crate::writes::run;
use crate::writes::Origin;
use crate::{Actor, AppError};

/// A care home's admission of a resident: the person is named by their NHS number and date of
/// birth, both of which must match their plan.
#[derive(Debug, Clone)]
pub struct Admission {
    pub nhs_number: NhsNumber,
    pub birth_date: NaiveDate,
    pub since: NaiveDate,
}

/// A resident as a care home's list (and an admission's answer) shows them: who, their plan,
/// and the residence on record.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resident {
    pub plan_id: Uuid,
    pub nhs_number: String,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// The plan version this was read at.
    pub plan_version: i64,
    pub residence: Residence,
}

/// Where a plan's residence stands after a change: the plan's version and tag, and the
/// residence on record or the one that just ended. No more of the plan than that: a home that
/// has just ended its resident's residence reads the plan no longer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidenceOutcome {
    pub plan_id: Uuid,
    pub version: i64,
    /// The plan's ETag after the change (send it in `If-Match` for the next change).
    pub etag: String,
    /// The residence on record (none once it ended).
    pub residence: Option<Residence>,
    /// The residence that ended last.
    pub residence_ended: Option<EndedResidence>,
}

impl ResidenceOutcome {
    pub(crate) fn of(plan: &PlanView) -> Self {
        Self {
            plan_id: plan.id,
            version: plan.version,
            etag: plan.etag.clone(),
            residence: plan.residence.clone(),
            residence_ended: plan.residence_ended.clone(),
        }
    }
}

fn shown(plan: &PlanView) -> Shown<ResidenceOutcome> {
    let access = Access {
        plan_id: Some(plan.id),
        nhs_number: Some(plan.nhs_number.to_string()),
        plan_version: Some(plan.version),
        view: Some(View::Residence),
        ..Access::default()
    };
    Shown::new(ResidenceOutcome::of(plan), access)
}

/// The care home the caller works at, as their sign-in names it.
fn callers_home(actor: &Actor) -> Result<CareHome, AppError> {
    let refused = || {
        AppError::Forbidden(
            "Your sign-in names no care home (its organisation code): ask your care record system's administrator.".into(),
        )
    };
    let code = actor.org.as_deref().ok_or_else(refused)?;
    let ods_code = OdsCode::parse(code).map_err(|_| refused())?;
    // The home's name as its sign-in gives it; its code where it gives none.
    let name = actor
        .org_name
        .as_deref()
        .and_then(|n| ShortText::parse(n).ok())
        .or_else(|| ShortText::parse(code).ok())
        .ok_or_else(refused)?;
    Ok(CareHome { ods_code, name })
}

pub(crate) fn resident_of(plan: &PlanView) -> Result<Resident, AppError> {
    let residence = plan
        .residence
        .clone()
        .ok_or_else(|| AppError::internal("an admission left no residence on the plan"))?;
    let pi = plan
        .sections
        .get("personal-information")
        .and_then(|s| match &s.content {
            SectionContent::PersonalInformation(pi) => Some(pi),
            _ => None,
        });
    Ok(Resident {
        plan_id: plan.id,
        nhs_number: plan.nhs_number.to_string(),
        family_name: pi.map(|p| p.family_name.to_string()),
        given_name: pi.map(|p| p.given_name.to_string()),
        birth_date: pi.map(|p| p.birth_date.date()),
        plan_version: plan.version,
        residence,
    })
}

/// A care home admits a resident: their plan records, as the home's own declaration, that they
/// live there, and the home's staff read it from now. Shown to the person; unconfirmed until
/// a clinician confirms it.
///
/// # Errors
/// Forbidden for anyone but a care home's staff (or a sign-in naming no home); not found when
/// no active plan matches the NHS number and date of birth together (which of the two did
/// not match is not said); conflict when the plan already records the person there.
pub async fn admit(
    db: &Database,
    origin: Origin<'_>,
    admission: Admission,
) -> Result<Shown<Resident>, AppError> {
    use_cases::ADMIT_RESIDENT.authorize(origin.actor)?;
    let care_home = callers_home(origin.actor)?;
    // The dates are judged against what the home sent, before anyone is looked up: a refusal
    // for a date never tells whether the NHS number and date of birth matched.
    let today = chrono::Utc::now().date_naive();
    ucp_domain::residence::check_since(admission.since, today, admission.birth_date)?;
    let none = || {
        AppError::NotFound(
            "No current care plan matches this NHS number and date of birth together.".into(),
        )
    };
    // A plan whose person withdrew consent to share is shared with no care home: as if none.
    let row = db
        .plan_for_person(admission.nhs_number)
        .await?
        .filter(|r| r.status == PlanStatus::Active)
        .filter(|r| crate::visibility::consent_withdrawal(r).is_ok_and(|w| w.is_none()))
        .ok_or_else(none)?;
    let born = row
        .document
        .get("sections")
        .and_then(|s| s.get("personal-information"))
        .and_then(|s| s.get("content"))
        .and_then(|c| c.get("birthDate"))
        .and_then(serde_json::Value::as_str)
        .and_then(|d| d.parse::<NaiveDate>().ok());
    if born != Some(admission.birth_date) {
        return Err(none());
    }
    let command = Command::AdmitResident(ResidenceRecorded {
        care_home,
        since: admission.since,
    });
    let plan = run(db, origin, row.plan_id, &command, Precondition::Any).await?;
    let resident = resident_of(&plan)?;
    let access = shown(&plan).access;
    Ok(Shown::new(resident, access))
}

/// The people a care home's staff may read the plans of: those whose active plan records that
/// they live there. Each is in the access log's entry, so each person sees their home looked.
///
/// # Errors
/// Forbidden for anyone but a care home's staff.
pub async fn list(db: &Database, actor: &Actor) -> Result<Shown<Vec<Resident>>, AppError> {
    use_cases::LIST_RESIDENTS.authorize(actor)?;
    let home = callers_home(actor)?;
    let rows = db.residents(home.ods_code.as_str()).await?;
    let mut residents = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(residence) = row
            .residence
            .and_then(|r| serde_json::from_value::<Residence>(r).ok())
        else {
            return Err(AppError::internal("a stored residence cannot be read"));
        };
        let text = |key: &str| {
            row.personal_information
                .as_ref()
                .and_then(|p| p.get(key))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        residents.push(Resident {
            plan_id: row.plan_id,
            nhs_number: row.nhs_number.to_string(),
            family_name: text("familyName"),
            given_name: text("givenName"),
            birth_date: text("birthDate").and_then(|d| d.parse().ok()),
            plan_version: row.version,
            residence,
        });
    }
    let access = Access {
        view: use_cases::LIST_RESIDENTS.view,
        search_criteria: Some(serde_json::json!({ "careHome": home.ods_code.as_str() })),
        returned_nhs_numbers: residents.iter().map(|r| r.nhs_number.clone()).collect(),
        search_results: serde_json::to_value(&residents).ok(),
        ..Access::default()
    };
    Ok(Shown::new(residents, access))
}

/// A change to where the person lives, by a clinician (record, confirm, end) or by the home
/// they leave (end).
///
/// # Errors
/// Forbidden (role; a home ending another home's residence), not found, stale, closed, a
/// residence that is not the one named (conflict), broken rules.
pub async fn change(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    command: &Command,
    precondition: Precondition,
) -> Result<Shown<ResidenceOutcome>, AppError> {
    let use_case: &UseCase = match command {
        Command::RecordResidence(_) => &use_cases::RECORD_RESIDENCE,
        Command::ConfirmResidence(_) => &use_cases::CONFIRM_RESIDENCE,
        Command::EndResidence(_) => &use_cases::END_RESIDENCE,
        other => {
            return Err(AppError::Internal(
                format!("{other:?} is not a change of residence").into(),
            ))
        }
    };
    use_case.authorize(origin.actor)?;
    if origin.actor.role.reads_residents_only() {
        // A home learns nothing of a plan of someone who does not live there: not whether it
        // exists, nor where they live now.
        let lives_here = db
            .plan(plan_id)
            .await?
            .is_some_and(|row| crate::visibility::lives_at_callers_home(origin.actor, &row));
        if !lives_here {
            return Err(AppError::NotFound(
                "There is no care plan with this id.".into(),
            ));
        }
    }
    let plan = run(db, origin, plan_id, command, precondition).await?;
    Ok(shown(&plan))
}

/// The person records the care home where they live, or that they left it: their own plan,
/// themselves (never a proxy).
///
/// # Errors
/// Forbidden for anyone but the person; not found when they have no plan; stale; closed;
/// broken rules.
pub async fn change_mine(
    db: &Database,
    origin: Origin<'_>,
    command: &Command,
    precondition: Precondition,
) -> Result<Shown<ResidenceOutcome>, AppError> {
    let use_case = match command {
        Command::RecordResidence(_) => &use_cases::RECORD_MY_RESIDENCE,
        Command::EndResidence(_) => &use_cases::END_MY_RESIDENCE,
        other => {
            return Err(AppError::Internal(
                format!("{other:?} is not a change of the person's residence").into(),
            ))
        }
    };
    use_case.authorize(origin.actor)?;
    let nhs = origin.actor.person_themselves()?;
    let row = crate::reads::own_plan(db, nhs).await?;
    let plan = run(db, origin, row.plan_id, command, precondition).await?;
    Ok(shown(&plan))
}
