//! One declaration per use case: who may do it, why they must say they are doing it, whether a
//! proxy may do it for the person, whether a replica may serve it, and what the access log
//! calls what it showed. The application function of each use case calls [`UseCase::authorize`]
//! (or `proxies::admit`, which also checks a proxy's grant and records its use) before it reads
//! or writes anything. The HTTP layer finds the use case of a route by its OpenAPI operation id
//! and asks the same declaration before it reads a body (and whether a replica may serve it, and
//! what the API reference says of a refusal). Adding a role means adding it to [`Role`] and to
//! the `roles` of the use cases it may do, here, and nowhere else.

use ucp_domain::PlanSection;

use crate::audit::View;
use crate::{Actor, AppError, Purpose, Role};

/// Whether the caller must say why (`X-Purpose-Of-Use`). Roles whose purpose is fixed
/// ([`Role::fixed_purpose`]) and the person themselves never have to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurposeRule {
    /// A read of someone's record: a professional states a purpose.
    Stated,
    /// This act is done for one purpose only, and the professional says it.
    Exactly(Purpose),
    /// A write: the purpose is kept when given.
    Optional,
}

/// A use case, as its rules are declared.
#[derive(Debug, Clone, Copy)]
pub struct UseCase {
    /// The OpenAPI operation id; for a use case served once per section, the prefix its
    /// operation ids share (`getSection` for `getSectionWhatMatters`).
    pub operation: &'static str,
    /// Served once per section, one operation id each.
    pub per_section: bool,
    /// The roles that may do it.
    pub roles: &'static [Role],
    pub purpose: PurposeRule,
    /// A proxy (`UCP-On-Behalf-Of`) may do it for the person, under an active grant.
    pub proxy: bool,
    /// A read a replica may serve (read-your-writes with `UCP-Consistency`).
    pub replica: bool,
    /// What the access log calls what it showed (none: it shows no one's plan).
    pub view: Option<View>,
    /// A role listed here may do it for these sections only.
    pub sections_only: &'static [(Role, &'static [PlanSection])],
    /// What the API reference says of its refusal (403), for whoever reads it there.
    pub refused: &'static str,
}

impl UseCase {
    const fn read(operation: &'static str, roles: &'static [Role], view: View) -> Self {
        Self {
            operation,
            per_section: false,
            roles,
            purpose: PurposeRule::Stated,
            proxy: false,
            replica: false,
            view: Some(view),
            sections_only: &[],
            refused: "",
        }
    }

    const fn write(operation: &'static str, roles: &'static [Role]) -> Self {
        Self {
            operation,
            per_section: false,
            roles,
            purpose: PurposeRule::Optional,
            proxy: false,
            replica: false,
            view: Some(View::Plan),
            sections_only: &[],
            refused: "",
        }
    }

    const fn administration(operation: &'static str, purpose: PurposeRule) -> Self {
        Self {
            operation,
            per_section: false,
            roles: ADMINS,
            purpose,
            proxy: false,
            replica: false,
            view: None,
            sections_only: &[],
            refused: ADMINS_ONLY,
        }
    }

    const fn on_replica(self) -> Self {
        Self {
            replica: true,
            ..self
        }
    }

    const fn for_proxies(self) -> Self {
        Self {
            proxy: true,
            ..self
        }
    }

    const fn each_section(self) -> Self {
        Self {
            per_section: true,
            ..self
        }
    }

    const fn refusing(self, refused: &'static str) -> Self {
        Self { refused, ..self }
    }

    const fn viewing(self, view: Option<View>) -> Self {
        Self { view, ..self }
    }

    const fn limited(self, sections_only: &'static [(Role, &'static [PlanSection])]) -> Self {
        Self {
            sections_only,
            ..self
        }
    }

    /// Whether an OpenAPI operation id is this use case's.
    #[must_use]
    pub fn serves(&self, operation_id: &str) -> bool {
        if self.per_section {
            // The generic operation (before the document writes one per section), or one of
            // its sections'.
            operation_id
                .strip_prefix(self.operation)
                .is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase())
                })
        } else {
            operation_id == self.operation
        }
    }

    /// Refuses the caller unless this use case's rules let them do it: their role, the proofing
    /// of a person's sign-in, a proxy where a proxy may not act, a missing purpose of use.
    ///
    /// # Errors
    /// [`AppError::Forbidden`], or [`AppError::PurposeRequired`] (a 400).
    pub fn authorize(&self, actor: &Actor) -> Result<(), AppError> {
        if !self.roles.contains(&actor.role) {
            return Err(AppError::Forbidden(format!(
                "The {} role may not do this.",
                actor.role.as_str()
            )));
        }
        // A person whose NHS login is proofed below this deployment's minimum reaches no use
        // case at all, whatever the protocol (`/v1`, `/fhir/R4`, the PDF).
        actor.proofed()?;
        if (actor.on_behalf_of.is_some() || actor.acting_for.is_some()) && !self.proxy {
            return Err(AppError::Forbidden(format!(
                "A proxy may read the person's care plan ({}) and write its person-centred sections ({}); nothing else on their behalf.",
                GET_MY_PLAN.operation, PUT_MY_SECTION.operation
            )));
        }
        if actor.role.states_purpose() {
            match self.purpose {
                PurposeRule::Stated if actor.purpose.is_none() => {
                    return Err(AppError::PurposeRequired(format!(
                        "Say why you are reading this record: send X-Purpose-Of-Use with direct-care, emergency or audit (the {} role must state a purpose on every read).",
                        actor.role.as_str()
                    )))
                }
                PurposeRule::Exactly(p) if actor.purpose != Some(p) => {
                    return Err(AppError::PurposeRequired(format!(
                        "This is done for {} only: send X-Purpose-Of-Use: {}.",
                        p.as_str(),
                        p.as_str()
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// [`Self::authorize`] for a use case on one section: a role limited to some sections is
    /// refused the others.
    ///
    /// # Errors
    /// As [`Self::authorize`]; [`AppError::Forbidden`] for a section outside the role's.
    pub fn authorize_section(&self, actor: &Actor, section: PlanSection) -> Result<(), AppError> {
        self.authorize(actor)?;
        self.may_touch(actor, section)
    }

    /// Whether the caller's role may do this to `section` (no other check).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for a section outside the role's.
    pub fn may_touch(&self, actor: &Actor, section: PlanSection) -> Result<(), AppError> {
        match self.sections_only.iter().find(|(r, _)| *r == actor.role) {
            Some((role, sections)) if !sections.contains(&section) => {
                Err(AppError::Forbidden(format!(
                    "The {} role {} {} only.",
                    role.as_str(),
                    // Reads state why; writes need not.
                    if self.purpose == PurposeRule::Stated {
                        "reads"
                    } else {
                        "writes"
                    },
                    sections
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(" and ")
                )))
            }
            _ => Ok(()),
        }
    }
}

const ADMINS: &[Role] = &[Role::Admin];
/// Who looks into how records were used: admins, and the privacy officers and Caldicott
/// guardians whose work it is (without admin's other powers).
const AUDITORS: &[Role] = &[Role::Admin, Role::PrivacyOfficer];
const AUDITORS_ONLY: &str = "Admins and privacy officers only";
const ADMINS_ONLY: &str = "Admins only";
const READS_PLANS: &str = "Role may not read plans";
const READS_SUMMARIES: &str = "Role may not read summaries";
const PATIENTS_ONLY: &str = "Patients only";
const THE_PERSON: &str = "Not the person themselves, or identity proofing too low";
const MAY_NOT: &str = "Role may not do this";
const FOLLOWERS_ONLY: &str = "Dispatch and admin only";
const CLINICIANS_AND_ADMINS: &str = "Clinicians and admins only";
const FHIR_REFUSED: &str = "The token's role may not do this";
/// Whole plans: clinicians, the urgent-care roles, and the person their own.
const PLAN_READERS: &[Role] = &[
    Role::Clinician,
    Role::Ambulance,
    Role::Nhs111,
    Role::Ooh,
    Role::Patient,
];
/// A plan now, or one section of it: whoever reads plans, and a care home its residents'.
const PLAN_NOW_READERS: &[Role] = &[
    Role::Clinician,
    Role::Ambulance,
    Role::Nhs111,
    Role::Ooh,
    Role::Patient,
    Role::CareHome,
];
/// Emergency summaries: whoever reads plans, and dispatch.
const SUMMARY_READERS: &[Role] = &[
    Role::Clinician,
    Role::Ambulance,
    Role::Nhs111,
    Role::Ooh,
    Role::Dispatch,
    Role::Patient,
];
/// The summary now: its readers, and a care home its residents'.
const SUMMARY_NOW_READERS: &[Role] = &[
    Role::Clinician,
    Role::Ambulance,
    Role::Nhs111,
    Role::Ooh,
    Role::Dispatch,
    Role::Patient,
    Role::CareHome,
];
/// What a care home's staff read of a resident's plan: the person's own forms and the
/// Emergency Treatment Plan (with the summary and the printed plan).
pub const CARE_HOME_SECTIONS: &[PlanSection] = &[
    PlanSection::PersonalInformation,
    PlanSection::Contacts,
    PlanSection::CommunicationAndAccessibility,
    PlanSection::WhatMatters,
    PlanSection::ThinkingAhead,
    PlanSection::SupportNeeds,
    PlanSection::EmergencyTreatmentPlan,
];
const CARE_HOME_READS: &[(Role, &[PlanSection])] = &[(Role::CareHome, CARE_HOME_SECTIONS)];
const CARE_HOMES: &[Role] = &[Role::CareHome];
/// Where the person lives is ended by a clinician or by the home itself (the person ends it
/// through their own operation).
const RESIDENCE_ENDERS: &[Role] = &[Role::Clinician, Role::CareHome];
/// Searching for people: professionals who read plans.
const SEARCHERS: &[Role] = &[Role::Clinician, Role::Ambulance, Role::Nhs111, Role::Ooh];
/// Out-of-hours GPs complete ReSPECT forms at home visits: they record and review Emergency
/// Treatment Plans, update anticipatory medicines, start a plan where there is none, and
/// record a death (they verify expected deaths).
const ETP_WRITERS: &[Role] = &[Role::Clinician, Role::Ooh];
const CLINICIANS: &[Role] = &[Role::Clinician];
const PERSON: &[Role] = &[Role::Patient];
const FOLLOWERS: &[Role] = &[Role::Dispatch, Role::Admin];
const WORKLIST_READERS: &[Role] = &[Role::Clinician, Role::Admin];
const OOH_SECTIONS: &[(Role, &[PlanSection])] = &[(
    Role::Ooh,
    &[
        PlanSection::EmergencyTreatmentPlan,
        PlanSection::AnticipatoryMedicines,
    ],
)];

// Reads of a plan.
pub const GET_CARE_PLAN: UseCase = UseCase::read("getCarePlan", PLAN_NOW_READERS, View::Plan)
    .on_replica()
    .refusing(READS_PLANS);
pub const GET_SECTION: UseCase = UseCase::read("getSection", PLAN_NOW_READERS, View::Section)
    .each_section()
    .limited(CARE_HOME_READS)
    .refusing(READS_PLANS);
pub const GET_HISTORY: UseCase =
    UseCase::read("getCarePlanHistory", PLAN_READERS, View::History).refusing(READS_PLANS);
pub const GET_CHANGES: UseCase =
    UseCase::read("getCarePlanChanges", PLAN_READERS, View::Changes).refusing(READS_PLANS);
/// The printed plan: for the plan's clinicians and the person, who print it; crews read the
/// paper, or the plan itself.
pub const GET_DOCUMENT: UseCase = UseCase::read(
    "getCarePlanDocument",
    &[Role::Clinician, Role::Patient, Role::CareHome],
    View::Document,
)
.refusing("Clinicians, the person and their care home only");
pub const GET_PERSON_PLAN: UseCase = UseCase::read("getPersonCarePlan", PLAN_READERS, View::Plan)
    .on_replica()
    .refusing(READS_PLANS);
pub const GET_SUMMARY: UseCase =
    UseCase::read("getEmergencySummary", SUMMARY_NOW_READERS, View::Summary)
        .on_replica()
        .refusing(READS_SUMMARIES);
pub const GET_SUMMARY_CHANGES: UseCase =
    UseCase::read("getEmergencySummaryChanges", SUMMARY_READERS, View::Changes)
        .refusing(READS_SUMMARIES);
pub const SEARCH_PATIENTS: UseCase = UseCase::read("searchPatients", SEARCHERS, View::Search)
    .on_replica()
    .refusing("Role may not search");
pub const GET_WORKLIST: UseCase =
    UseCase::read("getReviewWorklist", WORKLIST_READERS, View::Worklist)
        .refusing(CLINICIANS_AND_ADMINS);
pub const GET_WORKLIST_SUMMARY: UseCase =
    UseCase::read("getReviewWorklistSummary", WORKLIST_READERS, View::Worklist)
        .viewing(None)
        .refusing(CLINICIANS_AND_ADMINS);

// The person's own.
pub const GET_MY_PLAN: UseCase = UseCase::read("getMyCarePlan", PERSON, View::Plan)
    .for_proxies()
    .refusing(PATIENTS_ONLY);
pub const GET_MY_ACCESS_LOG: UseCase = UseCase::read("getMyAccessLog", PERSON, View::Plan)
    .viewing(None)
    .refusing(PATIENTS_ONLY);
pub const LIST_MY_PROXIES: UseCase = UseCase::read("listMyProxies", PERSON, View::Plan)
    .viewing(None)
    .refusing(THE_PERSON);
pub const LIST_ACTING_FOR: UseCase = UseCase::read("listActingFor", PERSON, View::Plan)
    .viewing(None)
    .refusing("Not an NHS login, or identity proofing too low");
pub const START_MY_PLAN: UseCase =
    UseCase::write("startMyCarePlan", PERSON).refusing(PATIENTS_ONLY);
pub const PUT_MY_SECTION: UseCase = UseCase::write("putMySection", PERSON)
    .each_section()
    .for_proxies()
    .refusing("Clinical sections (consent to share on another basis than your own agreement, or by a proxy), or your name, NHS number or birth date");
pub const WITHDRAW_MY_PLAN: UseCase =
    UseCase::write("withdrawMyCarePlan", PERSON).refusing(PATIENTS_ONLY);
pub const WITHDRAW_MY_CONSENT: UseCase =
    UseCase::write("withdrawMyConsent", PERSON).refusing(PATIENTS_ONLY);
pub const GRANT_MY_PROXY: UseCase = UseCase::write("grantMyProxy", PERSON)
    .viewing(None)
    .refusing(THE_PERSON);
pub const REVOKE_MY_PROXY: UseCase = UseCase::write("revokeMyProxy", PERSON)
    .viewing(None)
    .refusing(THE_PERSON);

// Writes of a plan.
pub const CREATE_CARE_PLAN: UseCase = UseCase::write("createCarePlan", ETP_WRITERS)
    .limited(OOH_SECTIONS)
    .refusing("Role may not create plans");
pub const PUT_SECTION: UseCase = UseCase::write("putSection", ETP_WRITERS)
    .each_section()
    .limited(OOH_SECTIONS)
    .refusing("Role may not write plans");
pub const RETRACT_SECTION: UseCase = UseCase::write("retractSection", ETP_WRITERS)
    .each_section()
    .limited(OOH_SECTIONS)
    .refusing("Role may not retract this section");
pub const COUNTERSIGN: UseCase = UseCase::write("countersignEmergencyTreatmentPlan", ETP_WRITERS)
    .limited(OOH_SECTIONS)
    .refusing("Role may not sign an Emergency Treatment Plan");
pub const REVIEW: UseCase = UseCase::write("reviewCarePlan", ETP_WRITERS).refusing(MAY_NOT);
pub const RECORD_DEATH: UseCase = UseCase::write("recordDeath", ETP_WRITERS).refusing(MAY_NOT);
pub const WITHDRAW: UseCase = UseCase::write("withdrawCarePlan", CLINICIANS).refusing(MAY_NOT);
pub const VOID: UseCase = UseCase::write("voidCarePlan", CLINICIANS).refusing(MAY_NOT);
pub const RETRACT_DEATH: UseCase = UseCase::write("retractDeath", CLINICIANS).refusing(MAY_NOT);
/// Recorded for the person by a clinician caring for them, whom they told.
pub const WITHDRAW_CONSENT: UseCase =
    UseCase::write("withdrawConsentToShare", CLINICIANS).refusing(MAY_NOT);
/// A clinician grants an attorney for health and welfare access, as part of direct care.
pub const GRANT_ATTORNEY_PROXY: UseCase = UseCase {
    purpose: PurposeRule::Exactly(Purpose::DirectCare),
    ..UseCase::write("grantAttorneyProxy", CLINICIANS)
        .viewing(None)
        .refusing("Clinicians of an organisation caring for the person only, and for a lasting power of attorney only")
};

// Where the person lives.
/// A care home admits a resident (by NHS number and date of birth): its own declaration.
pub const ADMIT_RESIDENT: UseCase =
    UseCase::write("admitResident", CARE_HOMES).refusing("Care homes only");
pub const LIST_RESIDENTS: UseCase =
    UseCase::read("listResidents", CARE_HOMES, View::Residents).refusing("Care homes only");
pub const RECORD_RESIDENCE: UseCase =
    UseCase::write("recordResidence", CLINICIANS).refusing(MAY_NOT);
pub const CONFIRM_RESIDENCE: UseCase =
    UseCase::write("confirmResidence", CLINICIANS).refusing(MAY_NOT);
pub const END_RESIDENCE: UseCase = UseCase::write("endResidence", RESIDENCE_ENDERS)
    .refusing("Clinicians, and the care home the person leaves, only");
pub const RECORD_MY_RESIDENCE: UseCase =
    UseCase::write("recordMyResidence", PERSON).refusing(THE_PERSON);
pub const END_MY_RESIDENCE: UseCase = UseCase::write("endMyResidence", PERSON).refusing(THE_PERSON);

// Records whose reads are reviewed.
pub const MARK_SENSITIVE: UseCase =
    UseCase::write("markSensitive", CLINICIANS).refusing("Clinicians only");
pub const CLEAR_SENSITIVE: UseCase =
    UseCase::write("clearSensitive", CLINICIANS).refusing("Clinicians only");

// The person's choice of messages about their plan: theirs alone, never a proxy's.
pub const GET_MY_NOTIFICATIONS: UseCase = UseCase::read("getMyNotifications", PERSON, View::Plan)
    .refusing(THE_PERSON)
    .viewing(None);
pub const PUT_MY_NOTIFICATIONS: UseCase = UseCase::write("putMyNotifications", PERSON)
    .refusing(THE_PERSON)
    .viewing(None);

// The privacy officer's alerts.
/// Only the privacy officer (or Caldicott guardian) works the alerts: admin does not.
const PRIVACY_OFFICERS: &[Role] = &[Role::PrivacyOfficer];
const PRIVACY_OFFICERS_ONLY: &str = "Privacy officers only";
pub const LIST_ALERTS: UseCase = UseCase {
    roles: PRIVACY_OFFICERS,
    refused: PRIVACY_OFFICERS_ONLY,
    ..UseCase::administration("listPrivacyAlerts", PurposeRule::Stated).viewing(Some(View::Alerts))
};
pub const GET_ALERT: UseCase = UseCase {
    roles: PRIVACY_OFFICERS,
    refused: PRIVACY_OFFICERS_ONLY,
    ..UseCase::administration("getPrivacyAlert", PurposeRule::Stated).viewing(Some(View::Alert))
};
pub const RECORD_ALERT_OUTCOME: UseCase = UseCase {
    roles: PRIVACY_OFFICERS,
    refused: PRIVACY_OFFICERS_ONLY,
    ..UseCase::administration("recordPrivacyAlertOutcome", PurposeRule::Optional)
        .viewing(Some(View::Alert))
};

// Followers of changes.
pub const READ_FEED: UseCase =
    UseCase::read("readFeed", FOLLOWERS, View::Feed).refusing(FOLLOWERS_ONLY);
pub const STREAM_FEED: UseCase =
    UseCase::read("streamFeed", FOLLOWERS, View::Feed).refusing(FOLLOWERS_ONLY);
pub const READ_SNAPSHOT: UseCase =
    UseCase::read("readFeedSnapshot", FOLLOWERS, View::Snapshot).refusing(FOLLOWERS_ONLY);

// Administration.
pub const LIST_SUBSCRIPTIONS: UseCase =
    UseCase::administration("listSubscriptions", PurposeRule::Stated);
pub const CREATE_SUBSCRIPTION: UseCase =
    UseCase::administration("createSubscription", PurposeRule::Optional);
pub const DELETE_SUBSCRIPTION: UseCase =
    UseCase::administration("deleteSubscription", PurposeRule::Optional);
pub const LIST_DEAD_LETTERS: UseCase =
    UseCase::administration("listDeadLetters", PurposeRule::Stated)
        .viewing(Some(View::DeadLetters));
pub const REDELIVER_DEAD_LETTER: UseCase =
    UseCase::administration("redeliverDeadLetter", PurposeRule::Optional)
        .viewing(Some(View::DeadLetters));
pub const SEARCH_AUDIT: UseCase = UseCase {
    roles: AUDITORS,
    refused: AUDITORS_ONLY,
    ..UseCase::administration("searchAuditLog", PurposeRule::Stated)
};
pub const GET_AUDIT_SHOWN: UseCase = UseCase {
    roles: AUDITORS,
    refused: AUDITORS_ONLY,
    ..UseCase::administration("getAuditShown", PurposeRule::Stated).viewing(Some(View::Replay))
};
pub const LIST_NOTIFICATION_DEAD_LETTERS: UseCase =
    UseCase::administration("listNotificationDeadLetters", PurposeRule::Stated)
        .viewing(Some(View::DeadLetters));
pub const REDELIVER_NOTIFICATION_DEAD_LETTER: UseCase =
    UseCase::administration("redeliverNotificationDeadLetter", PurposeRule::Optional)
        .viewing(Some(View::DeadLetters));
pub const LIST_NRL_DEAD_LETTERS: UseCase =
    UseCase::administration("listNrlDeadLetters", PurposeRule::Stated)
        .viewing(Some(View::DeadLetters));
pub const REDELIVER_NRL_DEAD_LETTER: UseCase =
    UseCase::administration("redeliverNrlDeadLetter", PurposeRule::Optional)
        .viewing(Some(View::DeadLetters));

// FHIR R4: the same reads in FHIR's resources.
pub const FHIR_READ: UseCase =
    UseCase::read("fhirRead", PLAN_READERS, View::Fhir).refusing(FHIR_REFUSED);
pub const FHIR_READ_VERSION: UseCase =
    UseCase::read("fhirReadCarePlanVersion", PLAN_READERS, View::Fhir).refusing(FHIR_REFUSED);
pub const FHIR_EVERYTHING: UseCase =
    UseCase::read("fhirPatientEverything", PLAN_READERS, View::Fhir).refusing(FHIR_REFUSED);
/// `fhirSearch` of a patient's resources (`?patient=`).
pub const FHIR_SEARCH: UseCase =
    UseCase::read("fhirSearch", PLAN_READERS, View::Fhir).refusing(FHIR_REFUSED);
/// `fhirSearch` for people (`Patient?family=&birthdate=`): searching, as `searchPatients`.
pub const FHIR_SEARCH_PATIENTS: UseCase =
    UseCase::read("fhirSearch", SEARCHERS, View::Search).refusing(FHIR_REFUSED);

/// Every use case, in the order of the API reference.
pub const ALL: &[&UseCase] = &[
    &GET_CARE_PLAN,
    &GET_SECTION,
    &GET_HISTORY,
    &GET_CHANGES,
    &GET_DOCUMENT,
    &GET_PERSON_PLAN,
    &GET_SUMMARY,
    &GET_SUMMARY_CHANGES,
    &SEARCH_PATIENTS,
    &GET_WORKLIST,
    &GET_WORKLIST_SUMMARY,
    &GET_MY_PLAN,
    &GET_MY_ACCESS_LOG,
    &LIST_MY_PROXIES,
    &LIST_ACTING_FOR,
    &START_MY_PLAN,
    &PUT_MY_SECTION,
    &WITHDRAW_MY_PLAN,
    &WITHDRAW_MY_CONSENT,
    &GRANT_MY_PROXY,
    &REVOKE_MY_PROXY,
    &CREATE_CARE_PLAN,
    &PUT_SECTION,
    &RETRACT_SECTION,
    &COUNTERSIGN,
    &REVIEW,
    &RECORD_DEATH,
    &WITHDRAW,
    &VOID,
    &RETRACT_DEATH,
    &WITHDRAW_CONSENT,
    &GRANT_ATTORNEY_PROXY,
    &ADMIT_RESIDENT,
    &LIST_RESIDENTS,
    &RECORD_RESIDENCE,
    &CONFIRM_RESIDENCE,
    &END_RESIDENCE,
    &RECORD_MY_RESIDENCE,
    &END_MY_RESIDENCE,
    &GET_MY_NOTIFICATIONS,
    &PUT_MY_NOTIFICATIONS,
    &MARK_SENSITIVE,
    &CLEAR_SENSITIVE,
    &LIST_ALERTS,
    &GET_ALERT,
    &RECORD_ALERT_OUTCOME,
    &READ_FEED,
    &STREAM_FEED,
    &READ_SNAPSHOT,
    &LIST_SUBSCRIPTIONS,
    &CREATE_SUBSCRIPTION,
    &DELETE_SUBSCRIPTION,
    &LIST_DEAD_LETTERS,
    &REDELIVER_DEAD_LETTER,
    &SEARCH_AUDIT,
    &GET_AUDIT_SHOWN,
    &LIST_NOTIFICATION_DEAD_LETTERS,
    &REDELIVER_NOTIFICATION_DEAD_LETTER,
    &LIST_NRL_DEAD_LETTERS,
    &REDELIVER_NRL_DEAD_LETTER,
    &FHIR_READ,
    &FHIR_READ_VERSION,
    &FHIR_EVERYTHING,
    &FHIR_SEARCH,
    &FHIR_SEARCH_PATIENTS,
];

/// The use case an OpenAPI operation id names (the first, where two share one: `fhirSearch`).
#[must_use]
pub fn of_operation(operation_id: &str) -> Option<&'static UseCase> {
    ALL.iter().copied().find(|u| u.serves(operation_id))
}

/// Whether a replica may serve the operation (unknown operations: no).
#[must_use]
pub fn replica_may_serve(operation_id: &str) -> bool {
    of_operation(operation_id).is_some_and(|u| u.replica)
}

#[cfg(test)]
mod tests;
