//! `/v1/privacy/alerts`: the privacy officer's alerts, each with its evidence and outcome; and
//! `/v1/care-plans/{id}/sensitivity`, where a clinician marks a record whose reads are all
//! reviewed.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_app::alerts::review::{self, Outcome};
use ucp_app::alerts::{Alert, AlertKind, AlertOutcome, AlertQuery};
use ucp_app::sensitivity::{self, SensitivityOutcome};
use ucp_app::writes::Origin;
use ucp_app::AppState;
use ucp_domain::sensitivity::{SensitivityCleared, SensitivityMarked};
use ucp_domain::Command;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::access::{parse_nhs_number, parse_plan_id, text_filter};
use super::audit::AuditEntry;
use super::respond::{audited, tagged};
use crate::auth::Caller;
use crate::body::{parse, read_json};
use crate::headers::if_match;
use crate::paging::{decode_page_cursor, encode_cursor, limit};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::request_id::request_id;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlertState {
    /// Not yet reviewed, or reopened: more evidence arrived after the outcome.
    Open,
    /// Made moot by a later act: a clinician confirmed the residence a care home declared.
    Cleared,
    /// The privacy officer found a legitimate reason.
    ReviewedAppropriate,
    /// Passed on for investigation.
    Referred,
}

impl AlertState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Cleared => "cleared",
            Self::ReviewedAppropriate => "reviewed-appropriate",
            Self::Referred => "referred",
        }
    }

    fn of(text: &str) -> Self {
        match text {
            "cleared" => Self::Cleared,
            "reviewed-appropriate" => Self::ReviewedAppropriate,
            "referred" => Self::Referred,
            _ => Self::Open,
        }
    }
}

/// An outcome recorded on an alert.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertOutcomeView {
    pub outcome: Outcome,
    /// The privacy officer's note.
    pub note: String,
    /// Who recorded it (their sign-in's subject) and their name.
    pub by: String,
    pub by_name: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<AlertOutcome> for AlertOutcomeView {
    fn from(o: AlertOutcome) -> Self {
        Self {
            outcome: if o.outcome == "referred" {
                Outcome::Referred
            } else {
                Outcome::ReviewedAppropriate
            },
            note: o.note,
            by: o.by,
            by_name: o.by_name,
            at: o.at,
        }
    }
}

/// One alert.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyAlert {
    pub alert_id: Uuid,
    pub kind: AlertKind,
    pub state: AlertState,
    /// The time of the access that raised it.
    pub raised_at: DateTime<Utc>,
    /// The time of its newest evidence.
    pub last_at: DateTime<Utc>,
    /// The person it is about (none for bulk reads, which are about many).
    pub nhs_number: Option<String>,
    /// Whose access raised it: their sign-in's subject, name, role and organisation.
    pub actor: String,
    pub actor_name: Option<String>,
    pub role: String,
    pub organisation: Option<String>,
    /// Why, in words.
    pub reason: String,
    /// How many access-log entries are its evidence (the first 100 are kept with it; the rest
    /// are found with `/v1/audit?actor=…&from=<raisedAt>`).
    pub evidence_count: i64,
    /// How many people the evidence is about.
    pub people_count: usize,
    /// The access-log entry that cleared it (a clinician's confirmation of a residence).
    pub cleared_by: Option<Uuid>,
    pub cleared_at: Option<DateTime<Utc>>,
    /// The latest outcome, if one was recorded (it stands while `state` is not `open`).
    pub outcome: Option<AlertOutcomeView>,
    /// Send as `If-Match` with an outcome: the alert as you read it.
    pub etag: String,
}

fn etag(revision: i32) -> String {
    format!("\"alert-r{revision}\"")
}

impl From<Alert> for PrivacyAlert {
    fn from(a: Alert) -> Self {
        Self {
            state: AlertState::of(a.state()),
            alert_id: a.alert_id,
            kind: AlertKind::parse(&a.kind).unwrap_or(AlertKind::BulkReads),
            raised_at: a.raised_at,
            last_at: a.last_at,
            nhs_number: a.nhs_number,
            actor: a.actor,
            actor_name: a.actor_name,
            role: a.role,
            organisation: a.organisation,
            reason: a.reason,
            evidence_count: a.evidence_count,
            people_count: a.people.len(),
            cleared_by: a.cleared_by,
            cleared_at: a.cleared_at,
            outcome: a.outcome.map(AlertOutcomeView::from),
            etag: etag(a.revision),
        }
    }
}

/// One alert with its evidence.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyAlertDetail {
    pub alert: PrivacyAlert,
    /// Everyone whose record the evidence is about (at most 1,000).
    pub people: Vec<String>,
    /// The access-log entries that raised it, oldest first (at most 100).
    pub evidence: Vec<AuditEntry>,
    /// Every outcome recorded on it, oldest first.
    pub outcomes: Vec<AlertOutcomeView>,
}

/// A page of alerts, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyAlertPage {
    pub alerts: Vec<PrivacyAlert>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

/// Which alerts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub kind: Option<AlertKind>,
    /// The organisation (ODS code) of the actor whose access raised it.
    pub organisation: Option<String>,
    /// The actor whose access raised it (their sign-in's subject).
    pub actor: Option<String>,
    /// The person it is about, or among the people it is about.
    #[param(pattern = r"^[ -]*(?:[0-9][ -]*){10}$")]
    pub nhs_number: Option<String>,
    /// The `next` of the previous page.
    pub before: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The privacy officer's alerts, newest first (privacy officers). Each is raised from the
/// access log by an access that needs a reason.
#[utoipa::path(
    get, path = "/v1/privacy/alerts", operation_id = "listPrivacyAlerts", tag = "privacy",
    params(AlertFilter),
    responses(
        (status = 200, description = "Alerts, newest first", body = PrivacyAlertPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/privacy/alerts")]
pub async fn list_alerts(
    query: web::Query<AlertFilter>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let nhs_number = q
        .nhs_number
        .as_deref()
        .map(parse_nhs_number)
        .transpose()?
        .map(|n| n.to_string());
    let limit = limit(q.limit)?;
    let shown = review::list(
        &state.db,
        &actor,
        AlertQuery {
            state: q.state.map(|s| s.as_str().to_owned()),
            kind: q.kind.map(|k| k.as_str().to_owned()),
            organisation: text_filter("organisation", q.organisation)?,
            actor: text_filter("actor", q.actor)?,
            nhs_number,
            before: q
                .before
                .as_deref()
                .filter(|b| !b.is_empty())
                .map(decode_page_cursor)
                .transpose()?,
            limit,
        },
    )
    .await?;
    let next = (i64::try_from(shown.value.len()).unwrap_or(0) == limit)
        .then(|| {
            shown
                .value
                .last()
                .map(|a| encode_cursor(a.raised_at, a.alert_id))
        })
        .flatten();
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(PrivacyAlertPage {
                alerts: shown.value.into_iter().map(PrivacyAlert::from).collect(),
                next,
            }),
        shown.access,
    ))
}

fn alert_id(path: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(path)
        .map_err(|_| ApiError::bad_field(ErrorCode::BadId, "/alertId", "Not an alert id (a UUID)."))
}

/// One alert with its evidence: the access-log entries themselves, and every outcome recorded
/// (privacy officers).
#[utoipa::path(
    get, path = "/v1/privacy/alerts/{alertId}", operation_id = "getPrivacyAlert", tag = "privacy",
    params(("alertId" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, description = "The alert and its evidence", body = PrivacyAlertDetail, headers(("ETag" = String))),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/privacy/alerts/{alertId}")]
pub async fn get_alert(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = alert_id(&path)?;
    let shown = review::get(&state.db, &actor, id).await?;
    let value = shown.value;
    let people = value.alert.people.clone();
    let alert = PrivacyAlert::from(value.alert);
    let tag = alert.etag.clone();
    let detail = PrivacyAlertDetail {
        alert,
        people,
        evidence: value.evidence.into_iter().map(AuditEntry::from).collect(),
        outcomes: value
            .outcomes
            .into_iter()
            .map(AlertOutcomeView::from)
            .collect(),
    };
    Ok(audited(tagged(StatusCode::OK, &tag, &detail), shown.access))
}

/// The privacy officer's outcome on an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertOutcomeRequest {
    pub outcome: Outcome,
    /// What was found, and (for a referral) to whom it went.
    #[schema(example = "The crew attended a call at the address that night (CAD 4411).")]
    pub note: String,
}

fn alert_revision(req: &HttpRequest) -> Result<i32, ApiError> {
    let malformed = "If-Match is not an alert's ETag (\"alert-r<n>\").";
    let n = crate::headers::if_match_number(
        req,
        "alert-r",
        "Send If-Match with the alert's ETag as you read it, so that an outcome is never made on \
         evidence you have not seen.",
        malformed,
    )?;
    i32::try_from(n).map_err(|_| ApiError::bad_field(ErrorCode::BadIfMatch, "", malformed))
}

/// Record the outcome of an alert (privacy officers): reviewed as appropriate, or referred,
/// with a note. Closing an alert about a person tells them, in their access log, that an access
/// to their record was reviewed by the privacy officer. More evidence arriving later reopens it.
#[utoipa::path(
    post, path = "/v1/privacy/alerts/{alertId}/outcome", operation_id = "recordPrivacyAlertOutcome", tag = "privacy",
    params(("alertId" = Uuid, Path, description = "Alert id"), ("If-Match" = String, Header, description = "The alert's ETag")),
    request_body = AlertOutcomeRequest,
    responses(
        (status = 200, description = "The alert with its outcome", body = PrivacyAlert, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, an unknown field, a bad id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The alert changed since you read it (another outcome, or more evidence)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or overlong note", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/privacy/alerts/{alertId}/outcome")]
pub async fn record_outcome(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = alert_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let body: AlertOutcomeRequest = parse(json)?;
    let revision = alert_revision(&req)?;
    let shown =
        review::record_outcome(&state.db, &actor, id, revision, body.outcome, &body.note).await?;
    ucp_app::alerts::scanner::refresh_open_counts(&state).await;
    let alert = PrivacyAlert::from(shown.value);
    let tag = alert.etag.clone();
    Ok(audited(tagged(StatusCode::OK, &tag, &alert), shown.access))
}

async fn change_sensitivity(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    actor: ucp_app::Actor,
    state: web::Data<AppState>,
    make: fn(serde_json::Value) -> Result<Command, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let command = make(json)?;
    let precondition = if_match(&req, None)?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = sensitivity::change(&state.db, origin, plan_id, &command, precondition).await?;
    Ok(audited(
        tagged(StatusCode::OK, &shown.value.etag, &shown.value),
        shown.access,
    ))
}

/// Mark the record sensitive (clinicians): the person is a member of staff, a public figure,
/// or at risk if found. From now on every professional's read of it raises an alert for the
/// privacy officer, and every reader of the plan is told that reads are reviewed (the reason
/// is in the plan's history, not on the plan).
#[utoipa::path(
    post, path = "/v1/care-plans/{id}/sensitivity", operation_id = "markSensitive", tag = "privacy",
    params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = String, Header, description = "The plan's ETag")),
    request_body = SensitivityMarked,
    responses(
        (status = 200, description = "The record's mark", body = SensitivityOutcome, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, an unknown field or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Marked already for this reason", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The plan changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-plans/{id}/sensitivity")]
pub async fn mark_sensitive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_sensitivity(req, path, payload, actor, state, |json| {
        Ok(Command::MarkSensitive(parse(json)?))
    })
    .await
}

/// Clear the record's sensitivity mark (clinicians): `{}`, with the plan's `If-Match`, which binds
/// it to the mark you saw.
#[utoipa::path(
    post, path = "/v1/care-plans/{id}/sensitivity/clear", operation_id = "clearSensitive", tag = "privacy",
    params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = String, Header, description = "The plan's ETag")),
    request_body = SensitivityCleared,
    responses(
        (status = 200, description = "The record's mark", body = SensitivityOutcome, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, an unknown field or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not marked", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The plan changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-plans/{id}/sensitivity/clear")]
pub async fn clear_sensitive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_sensitivity(req, path, payload, actor, state, |json| {
        Ok(Command::ClearSensitive(parse(json)?))
    })
    .await
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_alerts)
        .service(get_alert)
        .service(record_outcome)
        .service(mark_sensitive)
        .service(clear_sensitive);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_alerts,
        get_alert,
        record_outcome,
        mark_sensitive,
        clear_sensitive
    ),
    components(schemas(SensitivityMarked, SensitivityCleared))
)]
pub struct Api;
