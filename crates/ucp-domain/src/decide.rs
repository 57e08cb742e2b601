use chrono::NaiveDate;

use crate::{
    CarePlan, CarePlanEvent, ConsentToShare, DeathRecorded, DomainError, FieldError,
    PersonalInformation, PlanCreated, PlanReviewed, PlanStatus, PlanVoided, PlanWithdrawn,
    SectionContent,
};

/// Who is asking: the rules differ for the person and for professionals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorKind {
    Professional,
    Person,
}

/// Everything one can ask of a care plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start a plan: Personal Information and Consent to Share are required; any other
    /// sections may come along.
    CreateCarePlan {
        personal_information: PersonalInformation,
        consent_to_share: ConsentToShare,
        other_sections: Vec<SectionContent>,
    },
    /// Replace one section whole.
    UpdateSection(SectionContent),
    ReviewCarePlan(PlanReviewed),
    WithdrawCarePlan(PlanWithdrawn),
    RecordDeath(DeathRecorded),
    VoidCarePlan(PlanVoided),
}

/// Decides what happens, without changing anything. `today` is the date the command is
/// decided on (UTC), for the rules about dates.
///
/// # Errors
/// A [`DomainError`] naming the rule the command breaks.
pub fn decide(
    state: Option<&CarePlan>,
    command: Command,
    author: AuthorKind,
    today: NaiveDate,
) -> Result<Vec<CarePlanEvent>, DomainError> {
    match command {
        Command::CreateCarePlan {
            personal_information,
            consent_to_share,
            other_sections,
        } => {
            if state.is_some() {
                return Err(DomainError::PlanExists);
            }
            // Consent is a clinical section, but a person starting their own plan consents
            // themselves: only their own agreement is theirs to record.
            let mut errors =
                SectionContent::ConsentToShare(consent_to_share.clone()).rule_breaches();
            if author == AuthorKind::Person
                && consent_to_share.basis != crate::ConsentBasis::PersonAgreed
            {
                return Err(DomainError::ClinicalSectionByPerson(
                    crate::PlanSection::ConsentToShare,
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for content in &other_sections {
                let section = content.section();
                let key = format!("/{}", section.json_key());
                if matches!(
                    section,
                    crate::PlanSection::PersonalInformation | crate::PlanSection::ConsentToShare
                ) || !seen.insert(section)
                {
                    errors.push(FieldError::new(key, "this section is given more than once"));
                    continue;
                }
                errors.extend(
                    check_section(content, author)?
                        .into_iter()
                        .map(|e| e.under(&key)),
                );
            }
            if !errors.is_empty() {
                return Err(DomainError::Invalid(errors));
            }
            let mut events = vec![CarePlanEvent::Created(PlanCreated {
                personal_information,
                consent_to_share,
            })];
            events.extend(
                other_sections
                    .into_iter()
                    .map(CarePlanEvent::SectionChanged),
            );
            Ok(events)
        }
        Command::UpdateSection(content) => {
            let plan = open_plan(state)?;
            if let SectionContent::PersonalInformation(pi) = &content {
                if pi.nhs_number != plan.nhs_number {
                    return Err(DomainError::NhsNumberCannotChange);
                }
                if author == AuthorKind::Person {
                    person_keeps_identity(plan, pi)?;
                }
            }
            let errors = check_section(&content, author)?;
            if !errors.is_empty() {
                return Err(DomainError::Invalid(errors));
            }
            Ok(vec![CarePlanEvent::SectionChanged(content)])
        }
        Command::ReviewCarePlan(review) => {
            open_plan(state)?;
            professional(author, crate::PlanSection::EmergencyTreatmentPlan)?;
            if review.next_review_date <= today {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "/nextReviewDate",
                    "the next review must be after today",
                )]));
            }
            Ok(vec![CarePlanEvent::Reviewed(review)])
        }
        Command::WithdrawCarePlan(withdrawal) => {
            open_plan(state)?;
            Ok(vec![CarePlanEvent::Withdrawn(withdrawal)])
        }
        Command::RecordDeath(death) => {
            open_plan(state)?;
            professional(author, crate::PlanSection::EmergencyTreatmentPlan)?;
            if death.date_of_death > today {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "/dateOfDeath",
                    "the date of death cannot be in the future",
                )]));
            }
            Ok(vec![CarePlanEvent::PersonDied(death)])
        }
        Command::VoidCarePlan(void) => {
            let plan = state.ok_or(DomainError::NoPlan)?;
            professional(author, crate::PlanSection::EmergencyTreatmentPlan)?;
            match plan.status {
                PlanStatus::Active | PlanStatus::Deceased => Ok(vec![CarePlanEvent::Voided(void)]),
                closed => Err(DomainError::PlanClosed(closed)),
            }
        }
    }
}

/// The person may change how to reach them, not who they are: name and date of birth stay as
/// a professional recorded them.
fn person_keeps_identity(plan: &CarePlan, new: &PersonalInformation) -> Result<(), DomainError> {
    let Some(SectionContent::PersonalInformation(old)) = plan
        .section(crate::PlanSection::PersonalInformation)
        .map(|s| &s.content)
    else {
        return Ok(());
    };
    for (field, same) in [
        ("familyName", old.family_name == new.family_name),
        ("givenName", old.given_name == new.given_name),
        ("birthDate", old.birth_date == new.birth_date),
    ] {
        if !same {
            return Err(DomainError::IdentityByPerson(field));
        }
    }
    Ok(())
}

/// The plan, if it still takes changes.
fn open_plan(state: Option<&CarePlan>) -> Result<&CarePlan, DomainError> {
    let plan = state.ok_or(DomainError::NoPlan)?;
    match plan.status {
        PlanStatus::Active => Ok(plan),
        PlanStatus::Deceased => Err(DomainError::OnlyVoidAfterDeath),
        closed => Err(DomainError::PlanClosed(closed)),
    }
}

fn professional(author: AuthorKind, section: crate::PlanSection) -> Result<(), DomainError> {
    match author {
        AuthorKind::Professional => Ok(()),
        AuthorKind::Person => Err(DomainError::ClinicalSectionByPerson(section)),
    }
}

/// The person may write only person-centred forms; every section must keep its own rules.
fn check_section(
    content: &SectionContent,
    author: AuthorKind,
) -> Result<Vec<FieldError>, DomainError> {
    let section = content.section();
    if !section.is_person_centred() {
        professional(author, section)?;
    }
    Ok(content.rule_breaches())
}
