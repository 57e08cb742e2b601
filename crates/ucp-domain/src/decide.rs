use chrono::{DateTime, NaiveDate, Utc};

use crate::residence::{self, ResidenceConfirmed, ResidenceEnded, ResidenceRecorded};
use crate::signing::{self, Signer, SigningPolicy};
use crate::{
    Author, CarePlan, CarePlanEvent, ConsentToShare, Countersignature, DeathRecorded,
    DeathRetracted, DomainError, FieldError, PersonalInformation, PlanCreated, PlanReviewed,
    PlanSection, PlanStatus, PlanVoided, PlanWithdrawn, SectionContent, SectionRetracted,
};

/// Who is asking: the rules differ for the person and for professionals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorKind {
    Professional,
    Person,
}

/// Who decides, when, and under which signing policy: the signer of a signature is the author
/// of the command that makes it, never a name in its body.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub kind: AuthorKind,
    pub author: &'a Author,
    /// The professional registration the author's sign-in carries (CIS2 may give it).
    pub registration: Option<&'a str>,
    pub policy: &'a SigningPolicy,
    /// When the command is decided (UTC), for the rules about dates and signatures.
    pub now: DateTime<Utc>,
}

impl<'a> Context<'a> {
    /// A context under the default signing policy, with no registration from a sign-in.
    #[must_use]
    pub fn new(kind: AuthorKind, author: &'a Author, now: DateTime<Utc>) -> Self {
        Self {
            kind,
            author,
            registration: None,
            policy: SigningPolicy::default_ref(),
            now,
        }
    }

    fn signer(&self) -> Signer<'a> {
        Signer {
            author: self.author,
            registration: self.registration,
        }
    }
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
    /// Correct a death recorded in error.
    RetractDeath(DeathRetracted),
    /// Correct a section entered in error.
    RetractSection(SectionRetracted),
    /// The person withdraws their consent to share (told to the service by them, or by a
    /// clinician they told).
    WithdrawConsentToShare(crate::ConsentWithdrawn),
    /// Countersign the Emergency Treatment Plan as it stands.
    SignEmergencyTreatmentPlan(Countersignature),
    /// A care home admits the person (its own declaration that they live there).
    AdmitResident(ResidenceRecorded),
    /// A clinician or the person records the care home where the person lives.
    RecordResidence(ResidenceRecorded),
    /// A clinician confirms the residence a care home declared.
    ConfirmResidence(ResidenceConfirmed),
    /// The person left the care home.
    EndResidence(ResidenceEnded),
    /// A clinician marks the record sensitive.
    MarkSensitive(crate::sensitivity::SensitivityMarked),
    /// A clinician clears the mark.
    ClearSensitive(crate::sensitivity::SensitivityCleared),
}

impl Command {
    /// The create command for a plan's first sections: Personal Information and Consent to
    /// Share (which every plan carries) out of the list, the rest as they come.
    ///
    /// # Errors
    /// The [`FieldError`]s of the required sections that are missing.
    pub fn create_plan(contents: Vec<SectionContent>) -> Result<Self, Vec<FieldError>> {
        let mut personal_information = None;
        let mut consent_to_share = None;
        let mut other_sections = Vec::new();
        for content in contents {
            match content {
                SectionContent::PersonalInformation(pi) => personal_information = Some(pi),
                SectionContent::ConsentToShare(c) => consent_to_share = Some(c),
                other => other_sections.push(other),
            }
        }
        match (personal_information, consent_to_share) {
            (Some(personal_information), Some(consent_to_share)) => Ok(Self::CreateCarePlan {
                personal_information,
                consent_to_share,
                other_sections,
            }),
            (pi, consent) => Err([
                pi.is_none()
                    .then(|| FieldError::new("/personalInformation", "is required")),
                consent
                    .is_none()
                    .then(|| FieldError::new("/consentToShare", "is required")),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// Decides what happens, without changing anything.
///
/// # Errors
/// A [`DomainError`] naming the rule the command breaks.
#[allow(clippy::too_many_lines)] // one arm per command, each short
pub fn decide(
    state: Option<&CarePlan>,
    command: Command,
    ctx: &Context<'_>,
) -> Result<Vec<CarePlanEvent>, DomainError> {
    let author = ctx.kind;
    let now = ctx.now;
    let today = now.date_naive();
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
            let mut sections = Vec::with_capacity(other_sections.len());
            for content in other_sections {
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
                let (content, signing_errors) = signed(None, content, ctx);
                errors.extend(signing_errors.into_iter().map(|e| e.under(&key)));
                errors.extend(
                    check_section(
                        &content,
                        author,
                        now,
                        personal_information.birth_date.date(),
                    )?
                    .into_iter()
                    .map(|e| e.under(&key)),
                );
                sections.push(content);
            }
            let other_sections = sections;
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
            let content = match (content, author) {
                (SectionContent::Contacts(mine), AuthorKind::Person) => {
                    SectionContent::Contacts(keep_professionals(plan, mine)?)
                }
                (content, _) => content,
            };
            // The person gives their own consent to share again, as they gave it at the start.
            let own_consent = author == AuthorKind::Person
                && matches!(&content, SectionContent::ConsentToShare(c) if c.basis == crate::ConsentBasis::PersonAgreed);
            let author = if own_consent {
                AuthorKind::Professional
            } else {
                author
            };
            if !content.section().is_person_centred() {
                professional(author, content.section())?;
            }
            let (content, mut errors) = signed(Some(plan), content, ctx);
            errors.extend(check_section(&content, author, now, birth_date(plan))?);
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
            if withdrawal.reason.is_none() {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "/reason",
                    "say why the plan is withdrawn",
                )]));
            }
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
            // A wrong-patient plan is voided whatever became of it since.
            match plan.status {
                PlanStatus::Active | PlanStatus::Deceased | PlanStatus::Withdrawn => {
                    Ok(vec![CarePlanEvent::Voided(void)])
                }
                closed @ PlanStatus::Voided => Err(DomainError::PlanClosed(closed)),
            }
        }
        Command::RetractDeath(retraction) => {
            let plan = state.ok_or(DomainError::NoPlan)?;
            professional(author, PlanSection::EmergencyTreatmentPlan)?;
            match plan.status {
                PlanStatus::Deceased => Ok(vec![CarePlanEvent::DeathRetracted(retraction)]),
                _ => Err(DomainError::NotDeceased),
            }
        }
        Command::RetractSection(retraction) => {
            let plan = open_plan(state)?;
            professional(author, retraction.section)?;
            if matches!(
                retraction.section,
                PlanSection::PersonalInformation | PlanSection::ConsentToShare
            ) {
                return Err(DomainError::SectionCannotBeRetracted(retraction.section));
            }
            if plan.section(retraction.section).is_none() {
                return Err(DomainError::SectionNotRecorded(retraction.section));
            }
            Ok(vec![CarePlanEvent::SectionRetracted(retraction)])
        }
        Command::WithdrawConsentToShare(withdrawal) => {
            let plan = open_plan(state)?;
            if withdrawal.reason.is_none() {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "/reason",
                    "say why consent to share is withdrawn",
                )]));
            }
            if plan.consent_withdrawal.is_some() {
                return Err(DomainError::ConsentAlreadyWithdrawn);
            }
            Ok(vec![CarePlanEvent::ConsentToShareWithdrawn(withdrawal)])
        }
        Command::SignEmergencyTreatmentPlan(request) => {
            let plan = open_plan(state)?;
            professional(author, PlanSection::EmergencyTreatmentPlan)?;
            let Some(SectionContent::EmergencyTreatmentPlan(etp)) = plan
                .section(PlanSection::EmergencyTreatmentPlan)
                .map(|s| &s.content)
            else {
                return Err(DomainError::NothingToSign);
            };
            let signature = signing::countersign(etp, &request, ctx.signer(), ctx.policy, ctx.now)?;
            Ok(vec![CarePlanEvent::EmergencyTreatmentPlanSigned(signature)])
        }
        Command::AdmitResident(admission) => {
            let plan = open_plan(state)?;
            professional(author, PlanSection::PersonalInformation)?;
            residence::check_since(admission.since, today, birth_date(plan))?;
            match &plan.residence {
                Some(r) if r.care_home.ods_code == admission.care_home.ods_code => {
                    return Err(DomainError::AlreadyResident)
                }
                // A home's own declaration never takes a resident from another home: the move
                // is recorded by a clinician, or the other home records that they left.
                Some(_) => return Err(DomainError::ResidentElsewhere),
                None => {}
            }
            Ok(vec![CarePlanEvent::ResidentAdmitted(admission)])
        }
        Command::RecordResidence(record) => {
            let plan = open_plan(state)?;
            residence::check_since(record.since, today, birth_date(plan))?;
            // Recording again what is on record, as confirmed as it is, changes nothing.
            let same = plan.residence.as_ref().is_some_and(|r| {
                r.care_home == record.care_home
                    && r.since == record.since
                    && (r.confirmed || author == AuthorKind::Person)
            });
            if same {
                return Err(DomainError::AlreadyResident);
            }
            // A move from another home: that home's residence ends first, on the day of the
            // move (never before it began), so its staff stop reading the plan for a reason
            // on record.
            let mut events = Vec::new();
            if let Some(previous) = plan
                .residence
                .as_ref()
                .filter(|r| r.care_home.ods_code != record.care_home.ods_code)
            {
                events.push(CarePlanEvent::ResidenceEnded(ResidenceEnded {
                    ods_code: previous.care_home.ods_code.clone(),
                    date: record.since.max(previous.since),
                    reason: crate::LongText::parse(&format!("Moved to {}.", record.care_home.name))
                        .ok(),
                }));
            }
            events.push(CarePlanEvent::ResidenceRecorded(record));
            Ok(events)
        }
        Command::ConfirmResidence(confirmation) => {
            let plan = open_plan(state)?;
            professional(author, PlanSection::PersonalInformation)?;
            let current = residence::named(plan.residence.as_ref(), &confirmation.ods_code)?;
            if current.confirmed {
                return Err(DomainError::ResidenceConfirmedAlready);
            }
            Ok(vec![CarePlanEvent::ResidenceConfirmed(confirmation)])
        }
        Command::EndResidence(ending) => {
            let plan = open_plan(state)?;
            let current = residence::named(plan.residence.as_ref(), &ending.ods_code)?;
            residence::check_ended(current, ending.date, today)?;
            Ok(vec![CarePlanEvent::ResidenceEnded(ending)])
        }
        Command::MarkSensitive(mark) => {
            // Reads of a closed plan are reads of the person's record too: a plan in any
            // status may be marked.
            let plan = state.ok_or(DomainError::NoPlan)?;
            professional(author, PlanSection::PersonalInformation)?;
            if plan
                .sensitivity
                .as_ref()
                .is_some_and(|m| m.reason == mark.reason)
            {
                return Err(DomainError::SensitivityAsRecorded);
            }
            Ok(vec![CarePlanEvent::SensitivityMarked(mark)])
        }
        Command::ClearSensitive(clear) => {
            let plan = state.ok_or(DomainError::NoPlan)?;
            professional(author, PlanSection::PersonalInformation)?;
            if plan.sensitivity.is_none() {
                return Err(DomainError::SensitivityAsRecorded);
            }
            Ok(vec![CarePlanEvent::SensitivityCleared(clear)])
        }
    }
}

/// An Emergency Treatment Plan as it is to be recorded: signatures on record kept, new ones
/// only as the author's own act or their transcription of paper ([`signing::on_save`]). Other
/// sections pass as they are.
fn signed(
    plan: Option<&CarePlan>,
    content: SectionContent,
    ctx: &Context<'_>,
) -> (SectionContent, Vec<FieldError>) {
    let SectionContent::EmergencyTreatmentPlan(etp) = content else {
        return (content, Vec::new());
    };
    let prior = plan
        .and_then(|p| p.section(PlanSection::EmergencyTreatmentPlan))
        .and_then(|s| match &s.content {
            SectionContent::EmergencyTreatmentPlan(e) => Some(e),
            _ => None,
        });
    let kept = etp.clone();
    match signing::on_save(prior, etp, ctx.signer(), ctx.policy, ctx.now) {
        Ok(etp) => (SectionContent::EmergencyTreatmentPlan(etp), Vec::new()),
        Err(errors) => (SectionContent::EmergencyTreatmentPlan(kept), errors),
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
    now: DateTime<Utc>,
    birth_date: NaiveDate,
) -> Result<Vec<FieldError>, DomainError> {
    let section = content.section();
    if !section.is_person_centred() {
        professional(author, section)?;
    }
    let mut errors = content.rule_breaches();
    if let SectionContent::EmergencyTreatmentPlan(etp) = content {
        errors.extend(crate::etp_rules::breaches(etp, now, birth_date));
    }
    Ok(errors)
}

fn birth_date(plan: &CarePlan) -> NaiveDate {
    match plan
        .section(PlanSection::PersonalInformation)
        .map(|s| &s.content)
    {
        Some(SectionContent::PersonalInformation(pi)) => pi.birth_date.date(),
        // Every plan is created with Personal Information, which cannot be retracted.
        _ => NaiveDate::MIN,
    }
}

/// Ownership of the Contacts form is split: the person's own people are theirs to change, the
/// professionals involved are the professionals'. A person's save keeps the professional
/// contacts as they are; sending a different list of them is refused rather than ignored.
fn keep_professionals(
    plan: &CarePlan,
    mut mine: crate::Contacts,
) -> Result<crate::Contacts, DomainError> {
    let current = match plan.section(PlanSection::Contacts).map(|s| &s.content) {
        Some(SectionContent::Contacts(c)) => c.professional.clone(),
        _ => Vec::new(),
    };
    if !mine.professional.is_empty() && mine.professional != current {
        return Err(DomainError::ProfessionalContactsByPerson);
    }
    mine.professional = current;
    Ok(mine)
}
