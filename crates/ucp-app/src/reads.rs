//! The reads: a plan now or as it was, a section, the history, a person's plan and emergency
//! summary, search, and replaying exactly what an access-log entry showed. Each checks who may
//! see what and returns what it showed, for the access log.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use ucp_domain::views::{plan_etag, EmergencySummary, PlanView};
use ucp_domain::{Author, NhsNumber, PlanSection, PlanStatus};
use ucp_store::projections::replay::{fold, replay};
pub use ucp_store::PatientSearch;
use ucp_store::{AccessEntry, AccessQuery, Database, StreamBound};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::judged_summaries::{Judged, JudgedSummaries, Key};
use crate::visibility::{
    ensure_visible, lives_at_callers_home, may_see, refused_for_consent, told_when_plans_end,
    withheld,
};
use crate::{use_cases, Actor, AppError};

/// Which state of a plan to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Now,
    Version(i64),
    At(DateTime<Utc>),
}

impl AsOf {
    /// How much of the stream this reads, for a plan now at `current`.
    ///
    /// # Errors
    /// Not found for a version the plan never had.
    pub fn bound(self, current: i64) -> Result<StreamBound, AppError> {
        match self {
            Self::Now => Ok(StreamBound::All),
            Self::Version(v) if v < 1 || v > current => Err(AppError::NotFound(format!(
                "The plan has versions 1 to {current}."
            ))),
            Self::Version(v) => Ok(StreamBound::UpToVersion(v)),
            Self::At(at) => Ok(StreamBound::AsOf(at)),
        }
    }
}

/// A document with its entity tag.
#[derive(Debug, Clone)]
pub struct Tagged {
    pub etag: String,
    pub body: serde_json::Value,
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(Box::new(e)))
}

fn plan_access(plan_id: Uuid, nhs: NhsNumber, version: i64, view: Option<View>) -> Access {
    Access {
        plan_id: Some(plan_id),
        nhs_number: Some(nhs.to_string()),
        plan_version: Some(version),
        view,
        ..Access::default()
    }
}

/// A plan, now (as stored) or as it was at a version or an instant.
///
/// # Errors
/// Forbidden for roles that do not read plans; not found for a plan the caller may not see or
/// a version it never had.
pub async fn plan(
    db: &Database,
    actor: &Actor,
    plan_id: Uuid,
    as_of: AsOf,
) -> Result<Shown<Tagged>, AppError> {
    use_cases::GET_CARE_PLAN.authorize(actor)?;
    now_only_for_homes(actor, as_of)?;
    let row = ensure_visible(actor, db.plan(plan_id).await?)?;
    if as_of == AsOf::Now {
        // Served as stored: the read model is the plan now.
        let access = plan_access(
            plan_id,
            row.nhs_number,
            row.version,
            read_as(actor, use_cases::GET_CARE_PLAN.view),
        );
        let tagged = Tagged {
            etag: plan_etag(row.version),
            body: for_reader(actor, row.document),
        };
        return Ok(Shown::new(tagged, access));
    }
    let history = db.read_stream(plan_id, as_of.bound(row.version)?).await?;
    let view = fold(&history)?
        .map(|p| PlanView::of(plan_id, &p))
        .ok_or_else(|| AppError::NotFound("The plan did not exist at that instant.".into()))?;
    let access = plan_access(
        plan_id,
        row.nhs_number,
        view.version,
        use_cases::GET_CARE_PLAN.view,
    );
    Ok(Shown::new(
        Tagged {
            etag: view.etag.clone(),
            body: for_reader(actor, to_json(&view)?),
        },
        access,
    ))
}

/// A plan document as this reader may see it: how to get into the home stays with those who
/// attend, the person and the clinicians who keep the plan (111 reads it withheld); a care
/// home's staff read the person's own forms and the Emergency Treatment Plan, no other section.
fn for_reader(actor: &Actor, mut body: serde_json::Value) -> serde_json::Value {
    if !attends(actor) && !actor.role.keeps_plans() {
        ucp_domain::views::withhold_way_in_everywhere(&mut body);
    }
    if actor.role.reads_residents_only() {
        as_care_home_reads(&mut body);
    }
    body
}

/// A plan document as a care home's staff read it: the person's own forms and the Emergency
/// Treatment Plan, no other section (the way into the home is withheld as from every reader
/// who does not attend).
pub fn as_care_home_reads(body: &mut serde_json::Value) {
    let allowed = |name: &str| {
        PlanSection::from_name(name).is_some_and(|s| use_cases::CARE_HOME_SECTIONS.contains(&s))
    };
    ucp_domain::views::withhold_way_in_everywhere(body);
    if let Some(serde_json::Value::Object(sections)) = body.get_mut("sections") {
        sections.retain(|name, _| allowed(name));
    }
    if let serde_json::Value::Object(plan) = body {
        // Another home's leaving (its name, who ended it and why) is none of this home's.
        plan.remove("residenceEnded");
        // A reviewer's note and the reasons for corrections (a retracted death, another
        // section) are clinical.
        if let Some(serde_json::Value::Object(review)) = plan.get_mut("lastReview") {
            review.remove("note");
        }
        if let Some(serde_json::Value::Array(corrections)) = plan.get_mut("corrections") {
            corrections.retain(|c| c["section"].as_str().is_some_and(allowed));
        }
    }
}

/// The access log's name for what this reader was shown.
fn read_as(actor: &Actor, view: Option<View>) -> Option<View> {
    view.map(|v| v.read_by(actor))
}

/// A care home's staff read a resident's plan as it stands, never as it was (before the person
/// lived there, it was none of theirs).
fn now_only_for_homes(actor: &Actor, as_of: AsOf) -> Result<(), AppError> {
    if actor.role.reads_residents_only() && as_of != AsOf::Now {
        return Err(AppError::Forbidden(
            "A care home reads its residents' plans as they stand now.".into(),
        ));
    }
    Ok(())
}

/// One section of a plan, as it stands.
///
/// # Errors
/// As [`plan`]; not found when the plan has no such section.
pub async fn section(
    db: &Database,
    actor: &Actor,
    plan_id: Uuid,
    section: PlanSection,
) -> Result<Shown<Tagged>, AppError> {
    use_cases::GET_SECTION.authorize_section(actor, section)?;
    let row = ensure_visible(actor, db.plan(plan_id).await?)?;
    let mut access = plan_access(
        plan_id,
        row.nhs_number,
        row.version,
        read_as(actor, use_cases::GET_SECTION.view),
    );
    access.section = Some(section.name().to_owned());
    let body = row
        .document
        .get("sections")
        .and_then(|s| s.get(section.name()))
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("The plan has no {section} section yet.")))?;
    let etag = body
        .get("etag")
        .and_then(|e| e.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok(Shown::new(
        Tagged {
            etag,
            body: for_reader(actor, body),
        },
        access,
    ))
}

/// One change in a plan's history.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub section: Option<PlanSection>,
    pub changed_by: Author,
    pub at: DateTime<Utc>,
    /// What the change recorded: a section's whole new content, or the lifecycle details.
    pub change: serde_json::Value,
    /// The plan's status after the change.
    pub status_after: PlanStatus,
}

/// Every change to a plan, oldest first.
///
/// # Errors
/// As [`plan`].
pub async fn history(
    db: &Database,
    actor: &Actor,
    plan_id: Uuid,
) -> Result<Shown<Vec<HistoryEntry>>, AppError> {
    use_cases::GET_HISTORY.authorize(actor)?;
    let row = ensure_visible(actor, db.plan(plan_id).await?)?;
    let mut entries = history_to(db, plan_id, row.version).await?;
    for e in &mut entries {
        e.change = for_reader(actor, std::mem::take(&mut e.change));
    }
    Ok(Shown::new(
        entries,
        plan_access(
            plan_id,
            row.nhs_number,
            row.version,
            use_cases::GET_HISTORY.view,
        ),
    ))
}

/// A plan's history up to a version (what was shown to whom is replayed with the same code).
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn history_to(
    db: &Database,
    plan_id: Uuid,
    version: i64,
) -> Result<Vec<HistoryEntry>, AppError> {
    let events = db
        .read_stream(plan_id, StreamBound::UpToVersion(version))
        .await?;
    replay(&events, None)
        .map(|step| {
            let step = step?;
            let env = ucp_store::projections::replay::envelope(step.recorded);
            Ok(HistoryEntry {
                version: step.recorded.stream_version,
                event_id: step.recorded.event_id,
                event_type: step.recorded.event_type.clone(),
                section: step.event.section(),
                changed_by: env.author,
                at: step.recorded.recorded_at,
                // A sensitivity mark's reason is the privacy officer's, not the readers'.
                change: if ucp_domain::sensitivity::WITHHELD
                    .contains(&step.recorded.event_type.as_str())
                {
                    serde_json::json!({})
                } else {
                    step.recorded.data.clone()
                },
                status_after: step.plan.as_ref().map_or(PlanStatus::Active, |p| p.status),
            })
        })
        .collect()
}

/// The person's current plan: the active one, else (for clinicians and the person) the latest.
///
/// # Errors
/// As [`plan`]; not found when there is no current plan the caller may see.
pub async fn person_plan(
    db: &Database,
    actor: &Actor,
    nhs: NhsNumber,
) -> Result<Shown<Tagged>, AppError> {
    use_cases::GET_PERSON_PLAN.authorize(actor)?;
    let found = db.plan_for_person(nhs).await?;
    let row = match ensure_visible(actor, found) {
        Ok(row) => row,
        Err(AppError::NotFound(_)) => {
            let none = || AppError::NotFound(format!("There is no current care plan for {nhs}."));
            if told_when_plans_end(actor) {
                if let Some(stored) = db.stored_summary_for_person(nhs).await? {
                    return Err(ended(&stored).unwrap_or_else(none));
                }
            }
            return Err(none());
        }
        Err(other) => return Err(other),
    };
    let access = plan_access(
        row.plan_id,
        nhs,
        row.version,
        use_cases::GET_PERSON_PLAN.view,
    );
    Ok(Shown::new(
        Tagged {
            etag: plan_etag(row.version),
            body: for_reader(actor, row.document),
        },
        access,
    ))
}

/// What a crew needs first: the stored summary, judged as of `today` (a review falls overdue
/// without anything being written). A judgement of this version on this day for this kind of
/// reader is sent as it was encoded (see [`crate::judged_summaries`]).
///
/// # Errors
/// Forbidden for roles that do not read summaries; not found when there is no plan the caller
/// may see.
pub async fn summary(
    db: &Database,
    judged: &JudgedSummaries,
    actor: &Actor,
    nhs: NhsNumber,
    today: NaiveDate,
) -> Result<Shown<TaggedSummary>, AppError> {
    use_cases::GET_SUMMARY.authorize(actor)?;
    let none = || AppError::NotFound(format!("There is no current care plan for {nhs}."));
    let stored = db.stored_summary_for_person(nhs).await?.ok_or_else(none)?;
    if actor.role.reads_residents_only() {
        // A care home learns nothing of someone who does not live there, not even that their
        // plan ended; a resident's ended plan is told as it is to crews.
        let row = db.plan(stored.plan_id).await?.ok_or_else(none)?;
        if !lives_at_callers_home(actor, &row) {
            return Err(none());
        }
        if stored.status != PlanStatus::Active {
            return Err(ended(&stored).unwrap_or_else(none));
        }
    } else if !may_see(actor, nhs, stored.status) {
        if told_when_plans_end(actor) {
            return Err(ended(&stored).unwrap_or_else(none));
        }
        return Err(none());
    }
    let key = Key {
        plan_id: stored.plan_id,
        version: stored.version,
        changed_at: stored.changed_at,
        written_by: stored.written_by,
        day: today,
        way_in: attends(actor),
    };
    let shown = match judged.get(&key) {
        Some(hit) => hit,
        None => {
            let (fresh, keep) = judge(db, &stored, nhs, today, key.way_in).await?;
            let fresh = std::sync::Arc::new(fresh);
            if keep {
                judged.put(key, fresh.clone());
            }
            fresh
        }
    };
    if let Some(w) = shown
        .consent_withdrawn
        .as_ref()
        .filter(|w| withheld(actor, Some(w)))
    {
        return Err(refused_for_consent(actor, w));
    }
    let mut access = plan_access(
        stored.plan_id,
        nhs,
        shown.plan_version,
        read_as(actor, use_cases::GET_SUMMARY.view),
    );
    // How to get into the home (a key safe's code) is for those who attend, and the person.
    if shown.access_to_home && key.way_in {
        access.detail = Some(serde_json::json!({ "accessToHomeShown": true }));
    }
    Ok(Shown::new(
        TaggedSummary {
            etag: shown.etag.clone(),
            body: shown.body.clone(),
        },
        access,
    ))
}

/// The stored summary judged as of `today` for a reader who does or does not attend, encoded
/// once (the same bytes are tagged and sent), and whether the judgement may be kept.
async fn judge(
    db: &Database,
    stored: &ucp_store::StoredSummary,
    nhs: NhsNumber,
    today: NaiveDate,
    way_in: bool,
) -> Result<(Judged, bool), AppError> {
    let summary = stored.decode()?;
    // Its printed copies come from the access log, which changes without a new version.
    let keep = summary
        .cpr
        .as_ref()
        .is_none_or(|c| c.previous_decision.is_none());
    let mut summary =
        with_printed_copies(db, summary.as_of(today), stored.plan_id, nhs, today).await?;
    let access_to_home = summary.alerts.access_to_home.is_some();
    if access_to_home && !way_in {
        summary = summary.without_way_in();
    }
    let body = serde_json::to_vec(&summary).map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok((
        Judged {
            plan_version: summary.plan_version,
            etag: etag_of(summary.plan_version, &body),
            body,
            consent_withdrawn: summary.consent_withdrawn,
            access_to_home,
        },
        keep,
    ))
}

/// Whether the caller goes to the person's home in an emergency, or is the person: they read
/// how to get in.
#[must_use]
pub fn attends(actor: &Actor) -> bool {
    actor.role.attends_home()
}

/// A summary whose decision changed or was retracted within the trace period, with the printed
/// copies of the plan that said the earlier decision (from the access log: printing is
/// audited). Only such summaries pay for the query.
async fn with_printed_copies(
    db: &Database,
    mut summary: EmergencySummary,
    plan_id: Uuid,
    nhs: NhsNumber,
    today: NaiveDate,
) -> Result<EmergencySummary, AppError> {
    let Some(previous) = summary
        .cpr
        .as_mut()
        .and_then(|c| c.previous_decision.take())
    else {
        return Ok(summary);
    };
    let printed: Vec<_> = db
        .printed_versions(&nhs.to_string(), plan_id)
        .await?
        .iter()
        .map(|p| (p.version, p.last_at))
        .collect();
    if let Some(cpr) = summary.cpr.as_mut() {
        cpr.previous_decision = Some(previous.with_printed(&printed));
    }
    Ok(summary.as_of(today))
}

/// The notice of a person's plan that has ended, from its stored summary (`None` while it is
/// active, or if the stored summary cannot be read: then the caller gets "no current plan").
fn ended(stored: &ucp_store::StoredSummary) -> Option<AppError> {
    if stored.status == PlanStatus::Active {
        return None;
    }
    stored
        .decode()
        .ok()?
        .ended_notice()
        .map(AppError::PlanEnded)
}

/// A summary's JSON and its entity tag.
#[derive(Debug, Clone)]
pub struct TaggedSummary {
    pub etag: String,
    /// The summary as sent: the bytes the tag was computed from.
    pub body: Vec<u8>,
}

/// The summary's entity tag: its plan version and a digest of everything in it, so that it
/// changes whenever anything in the summary does — a review falling overdue included.
///
/// # Errors
/// When the summary cannot be serialised (never).
pub fn summary_etag(summary: &EmergencySummary) -> Result<String, AppError> {
    let bytes = serde_json::to_vec(summary).map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(etag_of(summary.plan_version, &bytes))
}

/// The tag of a summary at `version` whose JSON is `bytes`.
fn etag_of(version: i64, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    format!("\"summary.{version}.{}\"", hex::encode(&digest[..8]))
}

/// A candidate person.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientCandidate {
    pub nhs_number: String,
    pub family_name: String,
    pub given_name: String,
    pub birth_date: NaiveDate,
    pub postcode: String,
    pub plan_id: Uuid,
    pub plan_status: PlanStatus,
    /// Higher is a closer match: exact family name 2, exact given name 1.
    pub score: i32,
}

/// People matching a search (the HTTP layer has checked its shape), recorded with the
/// criteria and every NHS number returned, so each person sees that they were found.
///
/// # Errors
/// Forbidden for roles that do not search.
pub async fn search(
    db: &Database,
    actor: &Actor,
    mut search: PatientSearch,
    criteria: serde_json::Value,
) -> Result<Shown<Vec<PatientCandidate>>, AppError> {
    use_cases::SEARCH_PATIENTS.authorize(actor)?;
    search.active_only = !actor.role.keeps_plans();
    let candidates: Vec<PatientCandidate> = db
        .search_patients(&search)
        .await?
        .into_iter()
        .map(|m| PatientCandidate {
            nhs_number: m.nhs_number.to_string(),
            family_name: m.family_name,
            given_name: m.given_name,
            birth_date: m.birth_date,
            postcode: m.postcode,
            plan_id: m.plan_id,
            plan_status: m.status,
            score: m.score,
        })
        .collect();
    let access = Access {
        view: use_cases::SEARCH_PATIENTS.view,
        search_criteria: Some(criteria),
        returned_nhs_numbers: candidates.iter().map(|c| c.nhs_number.clone()).collect(),
        search_results: Some(to_json(&candidates)?),
        ..Access::default()
    };
    Ok(Shown::new(candidates, access))
}

/// The person's own plan, whatever its status except voided.
///
/// # Errors
/// Forbidden for anyone but a patient; not found when they have no plan.
pub async fn my_plan(
    db: &Database,
    actor: &Actor,
    request_id: Option<String>,
) -> Result<Shown<Tagged>, AppError> {
    let actor = crate::proxies::admit(db, &use_cases::GET_MY_PLAN, actor, request_id).await?;
    let nhs = actor.own_nhs_number()?;
    let row = own_plan(db, nhs).await?;
    let mut access = plan_access(row.plan_id, nhs, row.version, use_cases::GET_MY_PLAN.view);
    access.acting_for = actor.acting_for;
    Ok(Shown::new(
        Tagged {
            etag: plan_etag(row.version),
            body: row.document,
        },
        access,
    ))
}

/// The person's plan row, if they have one they may see (anything but voided).
///
/// # Errors
/// Not found otherwise.
pub async fn own_plan(db: &Database, nhs: NhsNumber) -> Result<ucp_store::PlanRow, AppError> {
    db.plan_for_person(nhs)
        .await?
        .filter(|row| row.status != PlanStatus::Voided)
        .ok_or_else(|| AppError::NotFound("You do not have a care plan yet.".into()))
}

/// Entries of the access log (admin). Looking at who saw a person is itself an access to
/// that person's record: the entry of this call carries the NHS number searched for.
///
/// # Errors
/// Forbidden for anyone but an admin.
pub async fn access_log(
    db: &Database,
    actor: &Actor,
    query: AccessQuery,
) -> Result<Shown<Vec<AccessEntry>>, AppError> {
    use_cases::SEARCH_AUDIT.authorize(actor)?;
    // The person searched for: named, or the owner of the plan named.
    let person = match (&query.nhs_number, query.plan_id) {
        (Some(n), _) => Some(n.clone()),
        (None, Some(plan_id)) => db.plan(plan_id).await?.map(|p| p.nhs_number.to_string()),
        (None, None) => None,
    };
    let entries = db.access_log(&query).await?;
    // Everyone whose accesses came back (a search by actor, by time, or none) learns that
    // their log was looked at: each entry's person, the person a proxy acted for, and those an
    // entry's search returned.
    let mut returned: Vec<String> = Vec::new();
    for n in entries.iter().flat_map(|e| {
        [e.nhs_number.as_ref(), e.on_behalf_of.as_ref()]
            .into_iter()
            .flatten()
            .chain(e.returned_nhs_numbers.iter())
    }) {
        if !returned.contains(n) {
            returned.push(n.clone());
        }
    }
    let access = Access {
        nhs_number: person,
        plan_id: query.plan_id,
        search_criteria: Some(serde_json::json!({
            "nhsNumber": query.nhs_number, "actor": query.actor, "planId": query.plan_id,
            "from": query.from, "to": query.to,
        })),
        returned_nhs_numbers: returned,
        ..Access::default()
    };
    Ok(Shown::new(entries, access))
}

/// The person's own access log: who viewed or changed their plan, including searches that
/// returned them.
///
/// # Errors
/// Forbidden for anyone but a patient.
pub async fn my_access_log(
    db: &Database,
    actor: &Actor,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<AccessEntry>, AppError> {
    use_cases::GET_MY_ACCESS_LOG.authorize(actor)?;
    let nhs = actor.person_themselves()?;
    Ok(db
        .access_log(&AccessQuery {
            nhs_number: Some(nhs.to_string()),
            before,
            include_searches: true,
            limit,
            ..AccessQuery::default()
        })
        .await?)
}

/// The plan as a printable PDF, now or as it was, produced at `now`.
///
/// # Errors
/// As [`plan`]; forbidden for roles that do not print.
pub async fn document(
    db: &Database,
    actor: &Actor,
    plan_id: Uuid,
    as_of: AsOf,
    now: DateTime<Utc>,
    settings: &crate::print::PrintSettings,
) -> Result<Shown<Vec<u8>>, AppError> {
    use_cases::GET_DOCUMENT.authorize(actor)?;
    now_only_for_homes(actor, as_of)?;
    let row = ensure_visible(actor, db.plan(plan_id).await?)?;
    let history = db.read_stream(plan_id, as_of.bound(row.version)?).await?;
    let plan = fold(&history)?
        .ok_or_else(|| AppError::NotFound("The plan did not exist at that instant.".into()))?;
    // A version the plan has moved on from prints as superseded, from its first change since
    // (a change that leaves printed copies standing, such as consent to share withdrawn, does
    // not count): paper of an old version must not read as the plan. Asked of the primary
    // whatever the row says, which a replica may serve a moment behind.
    let superseded_at = db
        .first_change_after(
            plan_id,
            plan.version,
            crate::printed_copies::events_leaving_copies_standing(&row),
        )
        .await?;
    let pdf = crate::print::care_plan_pdf(plan_id, &plan, now, settings, superseded_at)?;
    Ok(Shown::new(
        pdf,
        plan_access(
            plan_id,
            row.nhs_number,
            plan.version,
            read_as(actor, use_cases::GET_DOCUMENT.view),
        ),
    ))
}
