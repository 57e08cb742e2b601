//! The writes: who may make which change, carried out by [`crate::commands::execute`], each
//! returning the plan (or section) as the write left it and what it showed.

use ucp_domain::views::{PlanView, SectionView};
use ucp_domain::{
    Command, ConsentBasis, ConsentToShare, LongText, PersonalInformation, PlanSection,
    PlanWithdrawn, SectionContent, SectionRetracted,
};
use ucp_store::Database;
pub use ucp_store::IdempotencyKey;
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::commands::{execute, Order, Precondition};
use crate::reads::own_plan;
use crate::use_cases::{self, UseCase};
use crate::{Actor, AppError, Rule};

/// Where a write comes from: who, and the request's retry key and id.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    pub actor: &'a Actor,
    pub idempotency: Option<IdempotencyKey>,
    pub request_id: Option<String>,
    /// Who may sign as the senior responsible clinician in this deployment.
    pub signing: &'a ucp_domain::signing::SigningPolicy,
}

fn shown_plan(plan: PlanView, view: View, section: Option<PlanSection>) -> Shown<PlanView> {
    let access = Access {
        plan_id: Some(plan.id),
        nhs_number: Some(plan.nhs_number.to_string()),
        plan_version: Some(plan.version),
        view: Some(view),
        section: section.map(|s| s.name().to_owned()),
        ..Access::default()
    };
    Shown::new(plan, access)
}

fn saved_section(
    plan: Shown<PlanView>,
    section: PlanSection,
) -> Result<Shown<SectionView>, AppError> {
    let saved = plan
        .value
        .sections
        .get(section.name())
        .cloned()
        .ok_or_else(|| AppError::internal("saved section missing from the plan"))?;
    let mut access = plan.access;
    access.view = Some(View::Section);
    Ok(Shown::new(saved, access))
}

pub(crate) async fn run(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    command: &Command,
    precondition: Precondition,
) -> Result<PlanView, AppError> {
    Ok(execute(
        db,
        Order {
            plan_id,
            actor: origin.actor,
            command,
            precondition,
            idempotency: origin.idempotency,
            request_id: origin.request_id,
            signing: origin.signing,
        },
    )
    .await?
    .plan)
}

/// Creates a plan (a fresh id; a retry with the same `Idempotency-Key` returns the first).
///
/// # Errors
/// Forbidden for all but clinicians; conflicts, broken rules.
pub async fn create_plan(
    db: &Database,
    origin: Origin<'_>,
    command: &Command,
) -> Result<Shown<PlanView>, AppError> {
    use_cases::CREATE_CARE_PLAN.authorize(origin.actor)?;
    if let Command::CreateCarePlan { other_sections, .. } = command {
        // An out-of-hours GP starts a plan with the sections they write, and no others.
        for content in other_sections {
            use_cases::CREATE_CARE_PLAN.may_touch(origin.actor, content.section())?;
        }
    }
    let plan = run(db, origin, Uuid::now_v7(), command, Precondition::None).await?;
    Ok(shown_plan(plan, View::Plan, None))
}

/// Replaces one section.
///
/// # Errors
/// Forbidden (role, or ooh on another section), not found, stale, closed, broken rules.
pub async fn put_section(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    content: SectionContent,
    precondition: Precondition,
) -> Result<Shown<SectionView>, AppError> {
    let section = content.section();
    use_cases::PUT_SECTION.authorize_section(origin.actor, section)?;
    let plan = run(
        db,
        origin,
        plan_id,
        &Command::UpdateSection(content),
        precondition,
    )
    .await?;
    saved_section(shown_plan(plan, View::Plan, Some(section)), section)
}

/// Countersigns the Emergency Treatment Plan as it stands: the signer is the caller, named from
/// their sign-in, over the decision digest they read.
///
/// # Errors
/// Forbidden (role), not found (no plan, or no form to sign), stale, closed, a digest that is
/// no longer the form's or one the caller has signed already (conflicts), a bad registration or
/// designation (invalid).
pub async fn countersign(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    signature: ucp_domain::Countersignature,
    precondition: Precondition,
) -> Result<Shown<SectionView>, AppError> {
    let section = PlanSection::EmergencyTreatmentPlan;
    use_cases::COUNTERSIGN.authorize_section(origin.actor, section)?;
    let command = Command::SignEmergencyTreatmentPlan(signature);
    let plan = run(db, origin, plan_id, &command, precondition).await?;
    saved_section(shown_plan(plan, View::Plan, Some(section)), section)
}

/// Retracts a section entered in error.
///
/// # Errors
/// As [`put_section`]; invalid for the sections every plan needs.
pub async fn retract_section(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    section: PlanSection,
    reason: LongText,
    precondition: Precondition,
) -> Result<Shown<PlanView>, AppError> {
    use_cases::RETRACT_SECTION.authorize_section(origin.actor, section)?;
    let command = Command::RetractSection(SectionRetracted { section, reason });
    let plan = run(db, origin, plan_id, &command, precondition).await?;
    Ok(shown_plan(plan, View::Plan, Some(section)))
}

/// A lifecycle step or correction on the whole plan: review (clinicians and ooh), withdraw,
/// void, record or retract a death (clinicians).
///
/// # Errors
/// Forbidden, not found, stale, a status that does not allow it, broken rules.
pub async fn lifecycle(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    command: &Command,
    precondition: Precondition,
) -> Result<Shown<PlanView>, AppError> {
    let use_case = lifecycle_use_case(command)?;
    use_case.authorize(origin.actor)?;
    if let Command::WithdrawConsentToShare(_) = command {
        // Recorded for the person by a clinician caring for them, whom they told.
        let plan = db
            .plan_state(plan_id)
            .await?
            .ok_or_else(|| AppError::NotFound("There is no care plan with this id.".into()))?;
        let plan = Some(plan);
        let org = origin.actor.org.as_deref();
        if !plan.as_ref().is_some_and(|p| {
            org.is_some_and(|o| {
                ucp_domain::review::caring_organisations(p)
                    .iter()
                    .any(|c| c == o)
            })
        }) {
            return Err(AppError::Forbidden(
                "Only a clinician of an organisation caring for the person (the plan's creator, their GP practice, the team that recorded the Emergency Treatment Plan or last reviewed the plan) records their withdrawal of consent.".into(),
            ));
        }
    }
    let plan = run(db, origin, plan_id, command, precondition).await?;
    Ok(shown_plan(plan, View::Plan, None))
}

/// The use case of a lifecycle step or correction.
fn lifecycle_use_case(command: &Command) -> Result<&'static UseCase, AppError> {
    Ok(match command {
        Command::ReviewCarePlan(_) => &use_cases::REVIEW,
        Command::RecordDeath(_) => &use_cases::RECORD_DEATH,
        Command::RetractDeath(_) => &use_cases::RETRACT_DEATH,
        Command::WithdrawCarePlan(_) => &use_cases::WITHDRAW,
        Command::VoidCarePlan(_) => &use_cases::VOID,
        Command::WithdrawConsentToShare(_) => &use_cases::WITHDRAW_CONSENT,
        other => {
            return Err(AppError::Internal(
                format!("{other:?} is not a lifecycle step").into(),
            ))
        }
    })
}

/// The person starts their own plan: their Personal Information and any of their own forms;
/// they consent themselves, today.
///
/// # Errors
/// Forbidden for anyone but a patient; invalid for another person's NHS number; conflicts.
pub async fn start_my_plan(
    db: &Database,
    origin: Origin<'_>,
    sections: Vec<SectionContent>,
) -> Result<Shown<PlanView>, AppError> {
    use_cases::START_MY_PLAN.authorize(origin.actor)?;
    let nhs = origin.actor.person_themselves()?;
    let mut personal_information = None;
    let mut other_sections = Vec::new();
    for content in sections {
        match content {
            SectionContent::PersonalInformation(pi) => personal_information = Some(pi),
            other if other.section().is_person_centred() => other_sections.push(other),
            other => {
                return Err(AppError::Forbidden(format!(
                    "{} is written by professionals only.",
                    other.section()
                )))
            }
        }
    }
    let personal_information: PersonalInformation =
        personal_information.ok_or_else(|| AppError::Invalid {
            rule: Rule::Validation,
            detail: "Your plan starts with your Personal Information.".into(),
            errors: vec![ucp_domain::FieldError::new(
                "/personalInformation",
                "is required",
            )],
        })?;
    if personal_information.nhs_number != nhs {
        return Err(AppError::Invalid {
            rule: Rule::NotYourNhsNumber,
            detail: "A plan you start must carry your own NHS number.".into(),
            errors: vec![ucp_domain::FieldError::new(
                "/personalInformation/nhsNumber",
                "must be your own NHS number",
            )],
        });
    }
    let command = Command::CreateCarePlan {
        personal_information,
        consent_to_share: ConsentToShare {
            basis: ConsentBasis::PersonAgreed,
            decided_by: None,
            consulted: Vec::new(),
            date: chrono::Utc::now().date_naive(),
        },
        other_sections,
    };
    let plan = run(db, origin, Uuid::now_v7(), &command, Precondition::None).await?;
    Ok(shown_plan(plan, View::Plan, None))
}

/// The person replaces one of their own forms.
///
/// # Errors
/// Forbidden for clinical sections, identity changes or another person; stale; closed.
pub async fn put_my_section(
    db: &Database,
    origin: Origin<'_>,
    content: SectionContent,
    precondition: Precondition,
) -> Result<Shown<SectionView>, AppError> {
    use_cases::PUT_MY_SECTION.authorize(origin.actor)?;
    let section = content.section();
    // The person gives their own consent to share again (as they gave it when they started),
    // themselves: never a proxy.
    let own_consent = matches!(&content, SectionContent::ConsentToShare(c) if c.basis == ConsentBasis::PersonAgreed);
    if own_consent {
        origin.actor.person_themselves()?;
    } else if !section.is_person_centred() {
        return Err(AppError::Forbidden(format!(
            "{section} is written by professionals only; ask your care team to change it."
        )));
    }
    // Only now, allowed, is a proxy's use of their grant checked and recorded.
    let admitted = crate::proxies::admit(
        db,
        &use_cases::PUT_MY_SECTION,
        origin.actor,
        origin.request_id.clone(),
    )
    .await?;
    let origin = Origin {
        actor: &admitted,
        ..origin
    };
    let nhs = admitted.own_nhs_number()?;
    let row = own_plan(db, nhs).await?;
    let plan = run(
        db,
        origin,
        row.plan_id,
        &Command::UpdateSection(content),
        precondition,
    )
    .await?;
    let mut shown = shown_plan(plan, View::Plan, Some(section));
    shown.access.acting_for = admitted.acting_for.clone();
    saved_section(shown, section)
}

/// The person withdraws their plan, or their consent to share it.
///
/// # Errors
/// Forbidden for anyone but a patient; not found; stale; closed.
pub async fn withdraw_mine(
    db: &Database,
    origin: Origin<'_>,
    reason: LongText,
    consent_withdrawn: bool,
    precondition: Precondition,
) -> Result<Shown<PlanView>, AppError> {
    let use_case = if consent_withdrawn {
        &use_cases::WITHDRAW_MY_CONSENT
    } else {
        &use_cases::WITHDRAW_MY_PLAN
    };
    use_case.authorize(origin.actor)?;
    let nhs = origin.actor.person_themselves()?;
    let row = own_plan(db, nhs).await?;
    // Withdrawing consent to share is not withdrawing the plan: its own event and state.
    let command = if consent_withdrawn {
        Command::WithdrawConsentToShare(ucp_domain::ConsentWithdrawn {
            reason: Some(reason),
        })
    } else {
        Command::WithdrawCarePlan(PlanWithdrawn {
            reason: Some(reason),
            consent_withdrawn: false,
        })
    };
    let plan = run(db, origin, row.plan_id, &command, precondition).await?;
    Ok(shown_plan(plan, View::Plan, None))
}
