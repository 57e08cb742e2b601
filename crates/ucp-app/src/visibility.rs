//! Who may see which plan: the one place this rule lives.

use ucp_domain::notice::ConsentWithdrawal;
use ucp_domain::{NhsNumber, PlanStatus};
use ucp_store::PlanRow;

use crate::{Actor, AppError};

/// Whether the caller may see a plan of this person in this status: clinicians see every
/// status; a person sees only their own plan, never a voided one, and only when their NHS
/// login is proofed to this deployment's minimum (the HTTP layer refuses them sooner; this
/// holds for every other way in); a care home's staff see none here (only a resident's, by
/// [`may_see_row`], which knows where the person lives); everyone else (ambulance, 111, OOH,
/// dispatch) sees active plans only.
#[must_use]
pub fn may_see(actor: &Actor, nhs_number: NhsNumber, status: PlanStatus) -> bool {
    if actor.role.reads_residents_only() {
        false
    } else if actor.role.keeps_plans() {
        true
    } else if actor.role.is_person() {
        actor.proofed().is_ok()
            && actor.nhs_number == Some(nhs_number)
            && status != PlanStatus::Voided
    } else {
        status == PlanStatus::Active
    }
}

/// Whether the person's withdrawal of consent to share keeps the plan from this caller: it
/// stays with the person (and those acting for them) and with clinicians of the organisations
/// caring for them; everyone else is told that consent was withdrawn.
#[must_use]
pub fn withheld(actor: &Actor, withdrawal: Option<&ConsentWithdrawal>) -> bool {
    let Some(w) = withdrawal else {
        return false;
    };
    if actor.role.is_person() {
        false
    } else if actor.role.keeps_plans() {
        !actor
            .org
            .as_ref()
            .is_some_and(|org| w.caring_organisations.contains(org))
    } else {
        true
    }
}

/// The withdrawal of consent a plan's row records, if consent is withdrawn.
///
/// # Errors
/// When the row records one that cannot be read: an internal error, so that the plan is kept
/// from the caller rather than shown (fail closed).
pub fn consent_withdrawal(row: &PlanRow) -> Result<Option<ConsentWithdrawal>, AppError> {
    match row.document.get("consentWithdrawn") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| AppError::Internal(Box::new(e))),
    }
}

/// The code of the care home where a plan's row says the person lives, if any.
#[must_use]
pub fn residence_of(row: &PlanRow) -> Option<&str> {
    row.document
        .get("residence")?
        .get("careHome")?
        .get("odsCode")?
        .as_str()
}

/// Whether the caller works at the care home where the person lives (by the organisation their
/// sign-in carries): the only way a care home's staff see a plan.
#[must_use]
pub fn lives_at_callers_home(actor: &Actor, row: &PlanRow) -> bool {
    actor.role.reads_residents_only()
        && actor
            .org
            .as_deref()
            .and_then(|org| ucp_domain::OdsCode::parse(org).ok())
            .is_some_and(|org| residence_of(row) == Some(org.as_str()))
}

/// [`may_see`], or for a care home's staff the plan of a resident of theirs, in this status.
#[must_use]
fn may_see_plan(actor: &Actor, row: &PlanRow) -> bool {
    if actor.role.reads_residents_only() {
        lives_at_callers_home(actor, row) && row.status == PlanStatus::Active
    } else {
        may_see(actor, row.nhs_number, row.status)
    }
}

/// [`may_see`] for a plan's row (for a care home: a resident's), and not [`withheld`] from
/// the caller (nor unreadable).
#[must_use]
pub fn may_see_row(actor: &Actor, row: &PlanRow) -> bool {
    may_see_plan(actor, row) && consent_withdrawal(row).is_ok_and(|w| !withheld(actor, w.as_ref()))
}

/// What a caller who may not see a plan because consent was withdrawn is answered: the notice
/// for those who could have read it (crews, 111, out-of-hours, dispatch, clinicians), "not
/// found" for anyone else.
#[must_use]
pub fn refused_for_consent(actor: &Actor, withdrawal: &ConsentWithdrawal) -> AppError {
    if told_when_plans_end(actor) || actor.role.keeps_plans() {
        AppError::PlanEnded(withdrawal.notice())
    } else {
        AppError::NotFound("There is no care plan with this id.".into())
    }
}

/// Whether the caller reads active plans only and so, once the person's plan has ended, is
/// told so with a notice rather than a silence: every professional but the clinicians who keep
/// plans (crews, 111, out-of-hours and dispatch, who may hold or be shown a printed copy).
#[must_use]
pub fn told_when_plans_end(actor: &Actor) -> bool {
    !actor.role.keeps_plans() && !actor.role.is_person()
}

/// The plan if this caller may see it ([`may_see`]), once its use case has allowed the caller.
/// What the caller may not see is "not found", so that a person cannot learn whether someone
/// else has a plan.
///
/// # Errors
/// Not found, or the notice of a withdrawal of consent, as above.
pub fn ensure_visible(actor: &Actor, row: Option<PlanRow>) -> Result<PlanRow, AppError> {
    // A second line behind the use case: a role that reads no plan sees none here either.
    if !crate::use_cases::GET_CARE_PLAN.roles.contains(&actor.role) {
        return Err(AppError::Forbidden(format!(
            "The {} role may not read care plans.",
            actor.role.as_str()
        )));
    }
    let row =
        row.ok_or_else(|| AppError::NotFound("There is no care plan with this id.".into()))?;
    // A care home learns nothing of a plan of someone who does not live there, not even that
    // it ended.
    if actor.role.reads_residents_only() && !lives_at_callers_home(actor, &row) {
        return Err(AppError::NotFound(
            "There is no care plan with this id.".into(),
        ));
    }
    if may_see_plan(actor, &row) {
        if let Some(w) = consent_withdrawal(&row)?.filter(|w| withheld(actor, Some(w))) {
            return Err(refused_for_consent(actor, &w));
        }
        Ok(row)
    } else if told_when_plans_end(actor) {
        Err(AppError::NotFound(format!(
            "There is no current care plan: the plan is {}.",
            row.status
        )))
    } else {
        Err(AppError::NotFound(
            "There is no care plan with this id.".into(),
        ))
    }
}
