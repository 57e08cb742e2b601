//! Acting for someone: a person's attorney for health and welfare (recorded on their plan), or
//! someone the person names, may be granted proxy access — to read the plan and write its
//! person-centred sections, never to withdraw it or their consent, nor to manage proxies. The
//! grant, each use and the revocation are events in the person's `proxy_access` stream; the
//! `proxy_grants` read model, kept in the same transaction, answers "may X act for Y now?".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::proxy_access::{
    decide, GrantState, ProxyAccess, ProxyAccessCommand, ProxyAccessEvent, ProxyGranted,
    ProxyRefusal,
};
use ucp_domain::{
    fold_name, Author, CarePlan, LongText, LpaReference, NhsNumber, PersonalContact, PlanSection,
    SectionContent, ShortText, YesNoUnknown,
};
use ucp_store::projections::proxies::{self, ProxyGrantRow};
use ucp_store::projections::replay::replay;
use ucp_store::{AppendRequest, Database, ExpectedVersion, NewEvent, StreamBound};
use uuid::Uuid;

use crate::audit::{Access, Shown};
use crate::use_cases::{self, UseCase};
use crate::{ActingFor, Actor, AppError, Metrics};

/// How soon after an author records someone as attorney a grant to that attorney by the same
/// author is flagged for the privacy officer: the path by which one clinician, anywhere, could
/// otherwise make anyone a proxy (write the contacts, then grant).
pub const FLAG_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// On what authority a proxy acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProxyBasis {
    /// A lasting power of attorney for health and welfare, recorded in the plan's contacts.
    LastingPowerOfAttorney,
    /// The person named them (only the person can).
    NamedByPerson,
}

impl ProxyBasis {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastingPowerOfAttorney => "lasting-power-of-attorney",
            Self::NamedByPerson => "named-by-person",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::LastingPowerOfAttorney, Self::NamedByPerson]
            .into_iter()
            .find(|b| b.as_str() == text)
    }
}

/// A grant asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantProxyRequest {
    /// The proxy's own NHS number: they sign in with NHS login, as themselves.
    pub nhs_number: NhsNumber,
    /// Their name; for an attorney, as the plan's contacts record it.
    pub name: ShortText,
    /// e.g. daughter, partner, friend.
    pub relationship: ShortText,
    pub basis: ProxyBasis,
    /// The Office of the Public Guardian's reference of the registered LPA for health and
    /// welfare: required when a clinician grants; when the plan records one, it must match.
    #[serde(default)]
    pub lpa_registration_reference: Option<LpaReference>,
}

/// A revocation asked for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeProxyRequest {
    /// Why (kept with the revocation).
    #[serde(default)]
    pub reason: Option<LongText>,
}

/// Whether a grant can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GrantStatus {
    Active,
    Revoked,
}

/// Who did something to a grant, and when.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantAct {
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A proxy grant as the person (and the proxy) see it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyGrantView {
    pub grant_id: Uuid,
    /// The person acted for.
    pub nhs_number: String,
    pub status: GrantStatus,
    pub proxy: ProxyPerson,
    pub basis: ProxyBasis,
    /// What the proxy may do.
    pub may: Vec<String>,
    pub granted: GrantAct,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<GrantAct>,
    /// How many requests the proxy has made with it.
    pub uses: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The proxy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyPerson {
    pub nhs_number: String,
    pub name: String,
    pub relationship: String,
}

/// What every proxy may do, and nothing more.
pub const PROXY_MAY: [&str; 2] = ["read the care plan", "write its person-centred sections"];

fn view(row: ProxyGrantRow) -> Result<ProxyGrantView, AppError> {
    let basis = ProxyBasis::parse(&row.basis)
        .ok_or_else(|| AppError::Internal(format!("stored proxy basis {:?}", row.basis).into()))?;
    Ok(ProxyGrantView {
        grant_id: row.grant_id,
        nhs_number: row.nhs_number,
        status: if row.revoked_at.is_some() {
            GrantStatus::Revoked
        } else {
            GrantStatus::Active
        },
        proxy: ProxyPerson {
            nhs_number: row.proxy_nhs_number,
            name: row.proxy_name,
            relationship: row.relationship,
        },
        basis,
        may: PROXY_MAY.iter().map(|s| (*s).to_owned()).collect(),
        granted: GrantAct {
            at: row.granted_at,
            by: row.granted_by,
            by_name: row.granted_by_name,
            by_role: Some(row.granted_by_role),
            reason: None,
        },
        revoked: match (row.revoked_at, row.revoked_by) {
            (Some(at), Some(by)) => Some(GrantAct {
                at,
                by,
                by_name: None,
                by_role: None,
                reason: row.revoked_reason,
            }),
            _ => None,
        },
        uses: row.uses,
        last_used_at: row.last_used_at,
    })
}

/// The person's grants as the rules need them, from the read model that holds them (the
/// stream itself grows with every use).
async fn access_of(db: &Database, person: NhsNumber) -> Result<ProxyAccess, AppError> {
    Ok(ProxyAccess {
        grants: db
            .proxy_grants(&person.to_string())
            .await?
            .into_iter()
            .map(|g| GrantState {
                grant_id: g.grant_id,
                proxy_nhs_number: g.proxy_nhs_number,
                active: g.revoked_at.is_none(),
            })
            .collect(),
    })
}

/// What the domain decides, for the person's grants as they are now.
async fn decided(
    db: &Database,
    person: NhsNumber,
    command: ProxyAccessCommand,
) -> Result<ProxyAccessEvent, AppError> {
    let state = access_of(db, person).await?;
    decide(&state, command).map_err(|refusal| refused(person, &refusal))
}

/// How a refusal of the rules reaches the caller.
fn refused(person: NhsNumber, refusal: &ProxyRefusal) -> AppError {
    match refusal {
        ProxyRefusal::NoActiveGrant => no_grant(person),
        ProxyRefusal::NoSuchGrant => AppError::NotFound("There is no such proxy grant.".into()),
        ProxyRefusal::AlreadyGranted | ProxyRefusal::AlreadyRevoked => {
            conflict(&refusal.to_string())
        }
    }
}

fn conflict(why: &str) -> AppError {
    AppError::Conflict {
        kind: crate::Conflict::ProxyGrant,
        detail: {
            let mut chars = why.chars();
            let first: String = chars
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default();
            format!("{first}{}.", chars.as_str())
        },
        location: None,
    }
}

async fn append(
    db: &Database,
    person: NhsNumber,
    event: &ProxyAccessEvent,
    actor: &Actor,
    request_id: Option<String>,
) -> Result<(), AppError> {
    let data = event
        .to_data()
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let request = AppendRequest {
        stream_id: proxies::stream_id(&person.to_string()),
        stream_type: proxies::STREAM_TYPE.to_owned(),
        // The stream's lock orders its appends; the read model refuses, under it, what a
        // writer decided on a state a racing write changed.
        expected: ExpectedVersion::Any,
        events: vec![NewEvent::new(
            event.event_type(),
            1,
            data,
            crate::commands::metadata(actor, request_id),
        )],
        idempotency: None,
        prior: None,
        audit: None,
    };
    match db.append(request).await {
        Ok(_) => Ok(()),
        Err(ucp_store::StoreError::Refused(why)) => Err(conflict(&why)),
        Err(e) => Err(e.into()),
    }
}

/// The attorney the plan records for a grant, and how they came to be recorded.
struct RecordedAttorney {
    contact: PersonalContact,
    /// Who recorded them (with the NHS number the grant names) and when.
    recorded_by: Author,
    recorded_at: DateTime<Utc>,
}

/// The plan a grant is judged against (`plan_id`, or else the person's own), folded from its
/// log, with every state along the way.
async fn plan_for_grant(
    db: &Database,
    person: NhsNumber,
    plan_id: Option<Uuid>,
) -> Result<Option<(Vec<CarePlan>, CarePlan)>, AppError> {
    let plan_id = match plan_id {
        Some(id) => id,
        None => match db.plan_for_person(person).await? {
            Some(row) => row.plan_id,
            None => return Ok(None),
        },
    };
    let events = db.read_stream(plan_id, StreamBound::All).await?;
    let mut states = Vec::with_capacity(events.len());
    for step in replay(&events, None) {
        if let Some(plan) = step?.plan {
            states.push(plan);
        }
    }
    let Some(current) = states.last().cloned() else {
        return Ok(None);
    };
    // A voided plan (made in error) records no one.
    if current.nhs_number != person || current.status == ucp_domain::PlanStatus::Voided {
        return Ok(None);
    }
    Ok(Some((states, current)))
}

/// An attorney for health and welfare on the plan matching the grant: by the proxy's NHS
/// number where the plan records one (a clinician's grant needs it), else, for the person's
/// own grant, by name.
fn matching_attorney(
    plan: &CarePlan,
    proxy: NhsNumber,
    name: &str,
    by_number_only: bool,
) -> Option<PersonalContact> {
    let Some(SectionContent::Contacts(contacts)) =
        plan.section(PlanSection::Contacts).map(|s| &s.content)
    else {
        return None;
    };
    let wanted = fold_name(name);
    contacts
        .personal
        .iter()
        .filter(|p| p.lpa_health_and_welfare == YesNoUnknown::Yes)
        .find(|p| match p.nhs_number {
            Some(n) => n == proxy,
            None => !by_number_only && fold_name(p.name.as_str()) == wanted,
        })
        .cloned()
}

/// When the attorney was recorded as they now are: the first state, of the latest unbroken
/// run in which the plan records them, and who wrote the contacts then.
fn recorded_attorney(
    states: &[CarePlan],
    proxy: NhsNumber,
    name: &str,
    by_number_only: bool,
) -> Option<RecordedAttorney> {
    let mut found: Option<RecordedAttorney> = None;
    for plan in states {
        match matching_attorney(plan, proxy, name, by_number_only) {
            Some(contact) => {
                if found.is_none() {
                    let section = plan.section(PlanSection::Contacts)?;
                    found = Some(RecordedAttorney {
                        contact,
                        recorded_by: section.changed_by.clone(),
                        recorded_at: section.changed_at,
                    });
                } else if let Some(f) = found.as_mut() {
                    f.contact = contact;
                }
            }
            None => found = None,
        }
    }
    found
}

/// Why a clinician's grant is flagged for the privacy officer, if it is: the attorney was
/// recorded within [`FLAG_WINDOW`] by the grantor (`attorney-recorded-by-grantor`), or the grantor's organisation became one caring for the
/// person within it, by changes to the plan (`grantor-organisation-joined-recently`). Either
/// is what a clinician making someone a proxy on their own say would have to do first.
fn flag_reasons(
    actor: &Actor,
    attorney: &RecordedAttorney,
    states: &[CarePlan],
    current: &CarePlan,
    now: DateTime<Utc>,
) -> Vec<&'static str> {
    let since = now - FLAG_WINDOW;
    let own_org = actor.org.as_deref();
    // By the author, not the organisation: a practice that records an attorney on a new plan
    // and has a colleague grant access the same day is the ordinary course of things.
    let same_grantor = attorney.recorded_by.actor == actor.sub;
    let mut reasons = Vec::new();
    if same_grantor && attorney.recorded_at > since {
        reasons.push("attorney-recorded-by-grantor");
    }
    let before = states.iter().rev().find(|p| p.updated_at <= since);
    let caring_then = before.map(ucp_domain::review::caring_organisations);
    let caring_now = ucp_domain::review::caring_organisations(current);
    if let (Some(org), Some(then)) = (own_org, caring_then) {
        if caring_now.iter().any(|o| o == org) && !then.iter().any(|o| o == org) {
            reasons.push("grantor-organisation-joined-recently");
        }
    }
    reasons
}

/// The person grants proxy access to their plan (either basis), or (see [`grant_to_attorney`]) a
/// clinician of an organisation caring for them, stating a purpose, for an attorney the plan
/// records with their NHS number, giving the LPA's registration reference (the person may no
/// longer be able to do it). An attorney is looked for on `plan_id` when given (the plan the
/// clinician named), else on the person's own plan. A grant by the author who recorded that
/// attorney within [`FLAG_WINDOW`] is made, and flagged: a log line, a metric and the access
/// log's `detail.flag`.
///
/// # Errors
/// Forbidden for anyone else, a clinician of another organisation, or naming someone the plan
/// does not record as attorney; 400 without a purpose; invalid values; a conflict when that
/// proxy already holds an active grant.
pub async fn grant_mine(
    db: &Database,
    metrics: &Metrics,
    actor: &Actor,
    request: GrantProxyRequest,
    request_id: Option<String>,
) -> Result<Shown<ProxyGrantView>, AppError> {
    use_cases::GRANT_MY_PROXY.authorize(actor)?;
    let person = actor.person_themselves()?;
    grant(db, metrics, actor, person, None, request, request_id).await
}

/// A clinician caring for the person grants their attorney for health and welfare, recorded on
/// the plan, access to it (see [`grant_mine`] for the rules).
///
/// # Errors
/// As [`grant_mine`]; not found for an unknown plan.
pub async fn grant_to_attorney(
    db: &Database,
    metrics: &Metrics,
    actor: &Actor,
    plan_id: Uuid,
    request: GrantProxyRequest,
    request_id: Option<String>,
) -> Result<Shown<ProxyGrantView>, AppError> {
    use_cases::GRANT_ATTORNEY_PROXY.authorize(actor)?;
    let row = db
        .plan(plan_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no care plan {plan_id}.")))?;
    grant(
        db,
        metrics,
        actor,
        row.nhs_number,
        Some(plan_id),
        request,
        request_id,
    )
    .await
}

/// The grant, by the person (`plan_id` none) or by a clinician on the plan, once the use case
/// has allowed the caller.
#[allow(clippy::too_many_lines)] // the rules of a grant, read in one place
async fn grant(
    db: &Database,
    metrics: &Metrics,
    actor: &Actor,
    person: NhsNumber,
    plan_id: Option<Uuid>,
    request: GrantProxyRequest,
    request_id: Option<String>,
) -> Result<Shown<ProxyGrantView>, AppError> {
    let by_clinician = plan_id.is_some();
    if by_clinician {
        if request.basis != ProxyBasis::LastingPowerOfAttorney {
            return Err(AppError::Forbidden(
                "Only the person names their own proxies; a clinician may grant access to an attorney for health and welfare recorded on the plan.".into(),
            ));
        }
        if request.lpa_registration_reference.is_none() {
            return Err(AppError::invalid_field(
                "/lpaRegistrationReference",
                "Give the Office of the Public Guardian's registration reference of the lasting power of attorney for health and welfare (e.g. 7000-1234-5678), as on the registered LPA.",
            ));
        }
    }
    let proxy = request.nhs_number;
    if proxy == person {
        return Err(AppError::invalid_field(
            "/nhsNumber",
            "A person cannot be their own proxy.",
        ));
    }
    let (name, relationship) = (request.name, request.relationship);
    let mut flag = None;
    let mut reference = request.lpa_registration_reference;
    if request.basis == ProxyBasis::LastingPowerOfAttorney {
        let (states, current) = plan_for_grant(db, person, plan_id).await?.ok_or_else(|| {
            AppError::invalid_field(
                "/nhsNumber",
                format!("{person} has no care plan recording an attorney for health and welfare."),
            )
        })?;
        if by_clinician {
            let caring = ucp_domain::review::caring_organisations(&current);
            let own = actor.org.as_deref().unwrap_or_default();
            if !caring.iter().any(|o| o == own) {
                return Err(AppError::Forbidden(format!(
                    "Only a clinician of an organisation caring for this person ({}) may grant their attorney access; your organisation is {}.",
                    if caring.is_empty() { "none is recorded".to_owned() } else { caring.join(", ") },
                    if own.is_empty() { "not given" } else { own }
                )));
            }
        }
        let attorney = recorded_attorney(&states, proxy, name.as_str(), by_clinician)
            .ok_or_else(|| {
                if by_clinician {
                    AppError::invalid_field(
                        "/nhsNumber",
                        format!(
                            "The care plan of {person} records no attorney for health and welfare with NHS number {proxy}: record the attorney's NHS number in Personal and Professional Contacts first."
                        ),
                    )
                } else {
                    AppError::invalid_field(
                        "/name",
                        format!(
                            "The care plan of {person} records no attorney for health and welfare named {:?}: record them in Personal and Professional Contacts first.",
                            name.as_str()
                        ),
                    )
                }
            })?;
        match (&attorney.contact.lpa_registration_reference, &reference) {
            (Some(recorded), Some(given)) if recorded != given => {
                return Err(AppError::invalid_field(
                    "/lpaRegistrationReference",
                    format!(
                        "The plan records the LPA's registration reference as {recorded}, not {given}."
                    ),
                ));
            }
            (Some(recorded), None) => reference = Some(recorded.clone()),
            _ => {}
        }
        let reasons = flag_reasons(actor, &attorney, &states, &current, chrono::Utc::now());
        if let Some(kind) = reasons.first() {
            metrics.proxy_grants_flagged.inc();
            tracing::warn!(
                grantor = %actor.sub,
                organisation = actor.org.as_deref().unwrap_or_default(),
                recorded_at = %attorney.recorded_at,
                reasons = ?reasons,
                "proxy granted to an attorney within the flag window of the grantor's own changes"
            );
            flag = Some(serde_json::json!({
                "kind": kind,
                "reasons": reasons,
                "recordedAt": attorney.recorded_at,
                "detail": "the grantor, or their organisation, recorded the attorney or joined this person's care shortly before this grant",
            }));
        }
    }
    let grant_id = Uuid::now_v7();
    let event = decided(
        db,
        person,
        ProxyAccessCommand::Grant(ProxyGranted {
            grant_id,
            nhs_number: person.to_string(),
            proxy_nhs_number: proxy.to_string(),
            proxy_name: name.as_str().to_owned(),
            relationship: relationship.as_str().to_owned(),
            basis: request.basis.as_str().to_owned(),
            lpa_registration_reference: reference.as_ref().map(ToString::to_string),
            purpose: actor.purpose.map(|p| p.as_str().to_owned()),
            flag: flag.clone(),
        }),
    )
    .await?;
    append(db, person, &event, actor, request_id).await?;
    let row = db
        .proxy_grant(grant_id)
        .await?
        .ok_or_else(|| AppError::Internal("a grant just made is not in the read model".into()))?;
    let mut detail = serde_json::json!({
        "grantId": grant_id,
        "proxyNhsNumber": proxy.to_string(),
        "basis": request.basis.as_str(),
    });
    if let Some(flag) = flag {
        detail["flag"] = flag;
    }
    Ok(Shown::new(
        view(row)?,
        Access {
            nhs_number: Some(person.to_string()),
            plan_id,
            detail: Some(detail),
            ..Access::default()
        },
    ))
}

/// Every grant of the person, newest first.
///
/// # Errors
/// When the database fails.
pub async fn list_mine(db: &Database, actor: &Actor) -> Result<Vec<ProxyGrantView>, AppError> {
    use_cases::LIST_MY_PROXIES.authorize(actor)?;
    let person = actor.person_themselves()?;
    db.proxy_grants(&person.to_string())
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// The active grants a proxy holds: whom they may act for.
///
/// # Errors
/// When the database fails.
pub async fn held_by_me(db: &Database, actor: &Actor) -> Result<Vec<ProxyGrantView>, AppError> {
    use_cases::LIST_ACTING_FOR.authorize(actor)?;
    let proxy = actor.person_themselves()?;
    db.proxy_grants_held(&proxy.to_string())
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// Revokes a grant of the person's; from then on the proxy is refused.
///
/// # Errors
/// Not found when the grant is not the person's; a conflict when it was already revoked.
pub async fn revoke(
    db: &Database,
    actor: &Actor,
    grant_id: Uuid,
    request: RevokeProxyRequest,
    request_id: Option<String>,
) -> Result<ProxyGrantView, AppError> {
    use_cases::REVOKE_MY_PROXY.authorize(actor)?;
    let person = actor.person_themselves()?;
    let event = decided(
        db,
        person,
        ProxyAccessCommand::Revoke {
            grant_id,
            reason: request.reason.as_ref().map(|r| r.as_str().to_owned()),
        },
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound(format!("You have no proxy grant {grant_id}.")),
        other => other,
    })?;
    append(db, person, &event, actor, request_id).await?;
    let row = db
        .proxy_grant(grant_id)
        .await?
        .ok_or_else(|| AppError::Internal("a revoked grant left the read model".into()))?;
    view(row)
}

/// [`UseCase::authorize`], and for a proxy naming the person they act for, their grant: its
/// use is recorded (an event on the person's proxy-access stream) once everything else allowed
/// it, and the actor returned acts for the person.
///
/// # Errors
/// As [`UseCase::authorize`]; forbidden without an active grant.
pub async fn admit(
    db: &Database,
    use_case: &UseCase,
    actor: &Actor,
    request_id: Option<String>,
) -> Result<Actor, AppError> {
    use_case.authorize(actor)?;
    let Some(person) = actor.on_behalf_of else {
        return Ok(actor.clone());
    };
    if let Some(acting) = &actor.acting_for {
        // Admitted already (a use case calling another): for the person it names only.
        return if acting.nhs_number == person {
            Ok(actor.clone())
        } else {
            Err(AppError::Forbidden(
                "A proxy acts for one person per request.".into(),
            ))
        };
    }
    let acting = begin_use(db, actor, person, use_case.operation, request_id).await?;
    let _ = crate::audit::ADMITTED.try_with(|a| *a.borrow_mut() = Some(acting.clone()));
    Ok(Actor {
        acting_for: Some(acting),
        ..actor.clone()
    })
}

/// Whether the proxy named on the request holds an active grant for the person, without
/// recording anything: asked before a proxy's request body is read, so that a proxy without a
/// grant is refused first. The use case's [`admit`] asks again, under the stream's lock, and
/// records the use.
///
/// # Errors
/// Forbidden as [`begin_use`] refuses.
pub async fn may_act(db: &Database, proxy: &Actor) -> Result<(), AppError> {
    let Some(person) = proxy.on_behalf_of else {
        return Ok(());
    };
    let own = proxy_of(proxy, person)?;
    decided(
        db,
        person,
        ProxyAccessCommand::Use {
            proxy_nhs_number: own.to_string(),
            action: String::new(),
        },
    )
    .await
    .map(|_| ())
}

/// The proxy's own NHS number, if they may act for anyone at all and `person` is not them.
fn proxy_of(proxy: &Actor, person: NhsNumber) -> Result<NhsNumber, AppError> {
    if !proxy.role.is_person() {
        return Err(AppError::Forbidden(
            "Only a person signed in with NHS login can act for someone.".into(),
        ));
    }
    proxy.proofed()?;
    let own = proxy.nhs_number.ok_or_else(|| {
        AppError::Forbidden(
            "Your sign-in carries no NHS number, so it cannot hold a proxy grant.".into(),
        )
    })?;
    if own == person {
        return Err(AppError::Forbidden(
            "You are this person: leave out UCP-On-Behalf-Of to act for yourself.".into(),
        ));
    }
    Ok(own)
}

fn no_grant(person: NhsNumber) -> AppError {
    AppError::Forbidden(format!(
        "You hold no active proxy grant for {person}: the person (or, for an attorney, their clinician) grants it, and the person can revoke it."
    ))
}

/// Records that `proxy` is acting for `person` in this request, if an active grant lets them:
/// the use is an event, appended (and the grant checked again under the stream's lock) before
/// anything is served.
///
/// # Errors
/// Forbidden when the caller holds no active grant for the person, or is not an NHS login
/// proofed to the required level.
pub async fn begin_use(
    db: &Database,
    proxy: &Actor,
    person: NhsNumber,
    action: &str,
    request_id: Option<String>,
) -> Result<ActingFor, AppError> {
    let own = proxy_of(proxy, person)?;
    let event = decided(
        db,
        person,
        ProxyAccessCommand::Use {
            proxy_nhs_number: own.to_string(),
            action: action.to_owned(),
        },
    )
    .await?;
    match append(db, person, &event, proxy, request_id).await {
        Ok(()) => Ok(ActingFor {
            grant_id: event.grant_id(),
            nhs_number: person,
        }),
        // Revoked between the look-up and the append.
        Err(AppError::Conflict { .. }) => Err(no_grant(person)),
        Err(e) => Err(e),
    }
}
