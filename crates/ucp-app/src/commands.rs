//! Carrying out a command: read the plan from the log (once), check the client's precondition,
//! decide, append with the version read — the projections get the state already folded, so a
//! write reads the stream once. A section write that loses a race to a write of another section
//! is decided again (its own section is unchanged, so it does not conflict).

use chrono::Utc;
use ucp_domain::signing::SigningPolicy;
use ucp_domain::views::PlanView;
use ucp_domain::{decide, CarePlan, CarePlanEvent, Command, Context, DomainError, PlanSection};
use ucp_store::projections::care_plans::STREAM_TYPE;
use ucp_store::projections::replay::{fold, fold_from};
use ucp_store::{
    AppendRequest, Database, EventMetadata, ExpectedVersion, IdempotencyKey, NewEvent, StoreError,
    StreamBound,
};
use uuid::Uuid;

use crate::{Actor, AppError, Conflict};

/// What the client said it last saw (`If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// A create: there must be no plan.
    None,
    /// The plan's ETag: any change to the plan since is a conflict.
    Plan(i64),
    /// A section's ETag: only a change to that section since is a conflict.
    Section(PlanSection, i64),
    /// A well-formed tag of another section: it can never match this write, but whether the
    /// plan exists is answered first (404 before 412).
    Never,
    /// The plan must exist; the change is decided on whatever version it is at (a care home's
    /// admission, which names the person, not a version: the rules are checked against the
    /// plan as it stands, and a race with another write is decided again).
    Any,
}

/// An `If-Match` that is not an entity tag this service issues (`"plan.7"`,
/// `"what-matters.4"`): `*`, weak tags, lists and anything else. A write must name the version it
/// was based on, so none of these is evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("If-Match {0:?} is not an ETag of this service: send the ETag you last read, e.g. \"plan.7\" or \"what-matters.4\" (quotes included; * and weak tags are not accepted).")]
pub struct MalformedEtag(pub String);

impl Precondition {
    /// Reads an entity tag this service issued: `"plan.N"` always, `"<section>.N"` when a
    /// section is named (the inverse of `views::plan_etag` and `views::section_etag`).
    ///
    /// # Errors
    /// [`MalformedEtag`] for anything that is not such a tag.
    pub fn from_etag(value: &str, section: Option<PlanSection>) -> Result<Self, MalformedEtag> {
        let malformed = || MalformedEtag(value.to_owned());
        let tag = value
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(malformed)?;
        let (name, version) = tag.rsplit_once('.').ok_or_else(malformed)?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let version: i64 = version.parse().map_err(|_| malformed())?;
        if name == "plan" {
            return Ok(Self::Plan(version));
        }
        if PlanSection::from_name(name).is_none() {
            return Err(malformed());
        }
        match section {
            Some(s) if s.name() == name => Ok(Self::Section(s, version)),
            _ => Ok(Self::Never),
        }
    }
}

/// A command to carry out on one plan.
#[derive(Debug, Clone)]
pub struct Order<'a> {
    pub plan_id: Uuid,
    pub actor: &'a Actor,
    pub command: &'a Command,
    pub precondition: Precondition,
    pub idempotency: Option<IdempotencyKey>,
    pub request_id: Option<String>,
    pub signing: &'a SigningPolicy,
}

/// The plan as a write left it, and whether the write was a retry answered from its first
/// attempt (an `Idempotency-Key` seen before).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub plan: PlanView,
    pub replayed: bool,
}

const ATTEMPTS: usize = 5;

/// Carries out a command against one plan and returns the plan as the write left it. A create
/// always names a fresh plan id, so a retried create with its `Idempotency-Key` reaches the
/// store, which answers with the first create's plan (returned as that write left it).
///
/// # Errors
/// Not found, a stale precondition, conflicts and closed plans, broken rules.
pub async fn execute(db: &Database, order: Order<'_>) -> Result<Outcome, AppError> {
    let Order {
        plan_id,
        actor,
        command,
        precondition,
        idempotency,
        request_id,
        signing,
    } = order;
    let author = actor.author();
    for _ in 0..ATTEMPTS {
        let state = db.plan_state(plan_id).await?;
        // While consent to share is withdrawn, only the person and the organisations caring for
        // them change the plan (and see it in the answer).
        if let Some(w) = state
            .as_ref()
            .and_then(ucp_domain::notice::ConsentWithdrawal::of)
            .filter(|w| crate::visibility::withheld(actor, Some(w)))
        {
            return Err(crate::visibility::refused_for_consent(actor, &w));
        }
        check(state.as_ref(), precondition)?;
        let ctx = Context {
            kind: actor.kind(),
            author: &author,
            registration: actor.registration.as_deref(),
            policy: signing,
            now: Utc::now(),
        };
        let events = decide(state.as_ref(), command.clone(), &ctx)?;
        let expected = state.as_ref().map_or(ExpectedVersion::NoStream, |s| {
            ExpectedVersion::Exact(s.version)
        });
        let new_events = events
            .iter()
            .map(|e| new_event(e, actor, request_id.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        // The request's access-log entry, committed with the events (when a layer above makes
        // entries: HTTP does; the seed and the CLI do not).
        let audit = crate::audit::ENTRY_IN_WRITE
            .try_with(|w| {
                let (access, status) = write_access(plan_id, state.as_ref(), command, events.len());
                (w.build)(actor, access, status)
            })
            .ok();
        let result = db
            .append(AppendRequest {
                stream_id: plan_id,
                stream_type: STREAM_TYPE.to_owned(),
                expected,
                events: new_events,
                idempotency: idempotency.clone(),
                audit,
                prior: state
                    .clone()
                    .map(|s| std::sync::Arc::new(s) as ucp_store::State),
            })
            .await;
        match result {
            Ok(outcome) if outcome.replayed => {
                // Another request's events: read them back as that request left the plan.
                let plan = plan_at(db, outcome.stream_id, outcome.version()).await?;
                return Ok(Outcome {
                    plan,
                    replayed: true,
                });
            }
            Ok(outcome) => {
                let _ = crate::audit::ENTRY_IN_WRITE.try_with(|w| w.written.set(true));
                // The plan as this write left it: folded once, by the inline projection, from
                // the state decided on and the events just appended.
                let folded = outcome
                    .state
                    .and_then(|s| s.downcast::<CarePlan>().ok())
                    .map(|s| std::sync::Arc::try_unwrap(s).unwrap_or_else(|s| (*s).clone()));
                let next = match folded {
                    Some(next) => next,
                    None => fold_from(&outcome.events, state)?
                        .ok_or_else(|| AppError::internal("an appended plan folded to nothing"))?,
                };
                db.write_states().put(plan_id, next.clone());
                let plan = PlanView::of(plan_id, &next);
                return Ok(Outcome {
                    plan,
                    replayed: false,
                });
            }
            Err(StoreError::VersionConflict { .. }) => {
                db.write_states().forget(plan_id);
                match precondition {
                    Precondition::Section(..) | Precondition::Any => {}
                    Precondition::Plan(_) | Precondition::Never => {
                        return Err(AppError::PreconditionFailed(
                            "The plan changed since the ETag you sent; read it again.".into(),
                        ))
                    }
                    Precondition::None => {
                        return Err(AppError::Conflict {
                            kind: Conflict::PlanExists,
                            detail: "A plan with this id already exists.".into(),
                            location: Some(format!("/v1/care-plans/{plan_id}")),
                        })
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict {
        kind: Conflict::ConcurrentChange,
        detail: "The plan is being changed by others right now; try again.".into(),
        location: None,
    })
}

/// What a write shows, as its answer will say (`writes.rs`): the plan at the version the write
/// makes, viewed as the section it wrote (a section's write or signature) or as the plan; and
/// the status of the answer (201 for a new plan).
fn write_access(
    plan_id: Uuid,
    state: Option<&CarePlan>,
    command: &Command,
    events: usize,
) -> (crate::audit::Access, u16) {
    use crate::audit::View;
    let (view, section) = match command {
        Command::UpdateSection(content) => (View::Section, Some(content.section())),
        Command::SignEmergencyTreatmentPlan(_) => {
            (View::Section, Some(PlanSection::EmergencyTreatmentPlan))
        }
        Command::RetractSection(r) => (View::Plan, Some(r.section)),
        Command::AdmitResident(_)
        | Command::RecordResidence(_)
        | Command::ConfirmResidence(_)
        | Command::EndResidence(_) => (View::Residence, None),
        _ => (View::Plan, None),
    };
    // The home a change of residence names: a clinician's confirmation clears that home's
    // admission alert (`alerts`).
    let care_home = match command {
        Command::AdmitResident(r) | Command::RecordResidence(r) => Some(&r.care_home.ods_code),
        Command::ConfirmResidence(c) => Some(&c.ods_code),
        Command::EndResidence(e) => Some(&e.ods_code),
        _ => None,
    };
    // A confirmation (or a clinician's record of the same home) names the residence it
    // confirms by the plan version that recorded it: only that admission's alert is cleared.
    let confirmed = match command {
        Command::ConfirmResidence(_) | Command::RecordResidence(_) => state
            .and_then(|plan| plan.residence.as_ref())
            .filter(|r| Some(&r.care_home.ods_code) == care_home)
            .map(|r| r.version),
        _ => None,
    };
    let detail = care_home.map(|home| match confirmed {
        Some(version) => serde_json::json!({ "careHome": home, "residenceVersion": version }),
        None => serde_json::json!({ "careHome": home }),
    });
    let nhs_number = match (state, command) {
        (Some(plan), _) => Some(plan.nhs_number.to_string()),
        (
            None,
            Command::CreateCarePlan {
                personal_information,
                ..
            },
        ) => Some(personal_information.nhs_number.to_string()),
        (None, _) => None,
    };
    let version = state.map_or(0, |s| s.version) + i64::try_from(events).unwrap_or(i64::MAX);
    let status = if matches!(command, Command::CreateCarePlan { .. }) {
        201
    } else {
        200
    };
    (
        crate::audit::Access {
            plan_id: Some(plan_id),
            nhs_number,
            plan_version: Some(version),
            view: Some(view),
            section: section.map(|s| s.name().to_owned()),
            detail,
            ..crate::audit::Access::default()
        },
        status,
    )
}

fn check(state: Option<&CarePlan>, precondition: Precondition) -> Result<(), AppError> {
    let stale = || {
        AppError::PreconditionFailed(
            "The ETag you sent is not the current one: someone changed this since you read it. \
             Read it again."
                .into(),
        )
    };
    match (precondition, state) {
        (Precondition::None, Some(_)) => Err(DomainError::PlanExists.into()),
        (Precondition::None, None) => Ok(()),
        (_, None) => Err(AppError::NotFound(
            "There is no care plan with this id.".into(),
        )),
        (Precondition::Any, Some(_)) => Ok(()),
        (Precondition::Never, Some(_)) => Err(AppError::PreconditionFailed(
            "The ETag you sent names another part of the plan: send this section's ETag or the \
             plan's."
                .into(),
        )),
        (Precondition::Plan(v), Some(plan)) if plan.version != v => Err(stale()),
        (Precondition::Section(s, v), Some(plan))
            if plan.section(s).map_or(0, |st| st.version) != v =>
        {
            Err(stale())
        }
        _ => Ok(()),
    }
}

/// A decided event as the log stores it, with who caused it.
///
/// # Errors
/// When the event cannot be serialised (a bug).
pub fn new_event(
    event: &CarePlanEvent,
    actor: &Actor,
    request_id: Option<String>,
) -> Result<NewEvent, AppError> {
    let data = event
        .to_data()
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(NewEvent::new(
        event.event_type(),
        event.schema_version(),
        data,
        metadata(actor, request_id),
    ))
}

/// Who an event is by, as its metadata records it: the actor, as what, for whom.
#[must_use]
pub fn metadata(actor: &Actor, request_id: Option<String>) -> EventMetadata {
    EventMetadata {
        actor: actor.sub.clone(),
        actor_name: actor.name.clone(),
        role: actor.role_name().to_owned(),
        organisation: actor.org.clone(),
        on_behalf_of: actor.acting_for.as_ref().map(|p| p.nhs_number.to_string()),
        request_id,
        correlation_id: None,
        causation_id: None,
    }
}

/// The plan as it was at a version, from the log.
///
/// # Errors
/// Not found when the plan had no such version.
pub async fn plan_at(db: &Database, plan_id: Uuid, version: i64) -> Result<PlanView, AppError> {
    let history = db
        .read_stream(plan_id, StreamBound::UpToVersion(version))
        .await?;
    fold(&history)?
        .map(|plan| PlanView::of(plan_id, &plan))
        .ok_or_else(|| AppError::NotFound("The plan had no such version.".into()))
}
