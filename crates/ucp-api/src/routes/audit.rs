//! `/v1/audit`: who saw what, when — and exactly what they were shown.

use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::views::EmergencySummary;
use ucp_store::projections::care_plans::fold;
use ucp_store::{AccessEntry, AccessQuery, StreamBound};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::access::parse_nhs_number;
use crate::audit::{note, View};
use crate::auth::{Actor, Role};
use crate::commands::plan_at;
use crate::problem::Problem;
use crate::{ApiError, AppState};

/// One access, as the admin sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub entry_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_name: Option<String>,
    pub role: String,
    pub organisation: Option<String>,
    /// From `X-Purpose-Of-Use`.
    pub purpose: Option<String>,
    /// The operation id.
    pub action: String,
    pub method: String,
    pub path: String,
    pub plan_id: Option<Uuid>,
    pub nhs_number: Option<String>,
    pub plan_version: Option<i64>,
    /// What was served: plan, section, summary, history or search.
    pub view: Option<String>,
    pub section: Option<String>,
    pub search_criteria: Option<serde_json::Value>,
    pub returned_nhs_numbers: Vec<String>,
    pub request_id: Option<String>,
    pub status: i16,
}

impl From<AccessEntry> for AuditEntry {
    fn from(e: AccessEntry) -> Self {
        Self {
            entry_id: e.entry_id,
            at: e.at,
            actor: e.actor,
            actor_name: e.actor_name,
            role: e.role,
            organisation: e.organisation,
            purpose: e.purpose,
            action: e.action,
            method: e.method,
            path: e.path,
            plan_id: e.plan_id,
            nhs_number: e.nhs_number,
            plan_version: e.plan_version,
            view: e.view,
            section: e.section,
            search_criteria: e.search_criteria,
            returned_nhs_numbers: e.returned_nhs_numbers,
            request_id: e.request_id,
            status: e.status,
        }
    }
}

/// A page of entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

/// Which entries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub nhs_number: Option<String>,
    pub actor: Option<String>,
    pub plan_id: Option<Uuid>,
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Up to this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// The `next` of the previous page.
    pub before: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<i64>,
}

pub(crate) fn encode_page_cursor(entry: &AccessEntry) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", entry.at.to_rfc3339(), entry.entry_id))
}

/// The cursor of the page after a full one; none after a short (last) page.
pub(crate) fn next_page(entries: &[AccessEntry], limit: i64) -> Option<String> {
    (i64::try_from(entries.len()).unwrap_or(0) == limit)
        .then(|| entries.last().map(encode_page_cursor))
        .flatten()
}

pub(crate) fn decode_page_cursor(text: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || {
        ApiError::bad_field(
            "bad_cursor",
            "/before",
            "This is not a cursor this service issued.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id))
}

pub(crate) fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_field(
            "bad_limit",
            "/limit",
            "limit runs from 1 to 200.",
        )),
    }
}

/// Search the access log (admin).
#[utoipa::path(
    get, path = "/v1/audit", operation_id = "searchAuditLog", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries, newest first", body = AuditPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn search_audit(
    req: HttpRequest,
    query: web::Query<AuditQuery>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let q = query.into_inner();
    let nhs_number = q
        .nhs_number
        .as_deref()
        .map(parse_nhs_number)
        .transpose()?
        .map(|n| n.to_string());
    // Looking at who saw a person is itself an access to that person's record.
    note(&req, |n| {
        n.nhs_number.clone_from(&nhs_number);
        n.plan_id = q.plan_id;
        n.search_criteria = Some(serde_json::json!({
            "nhsNumber": nhs_number, "actor": q.actor, "planId": q.plan_id,
            "from": q.from, "to": q.to,
        }));
    });
    let limit = limit(q.limit)?;
    let entries = state
        .db
        .access_log(&AccessQuery {
            nhs_number,
            actor: q.actor,
            plan_id: q.plan_id,
            from: q.from,
            to: q.to,
            before: q.before.as_deref().map(decode_page_cursor).transpose()?,
            include_searches: false,
            limit,
        })
        .await?;
    let next = next_page(&entries, limit);
    Ok(HttpResponse::Ok().json(AuditPage {
        entries: entries.into_iter().map(AuditEntry::from).collect(),
        next,
    }))
}

/// Exactly the document an entry served, rebuilt from the log at the recorded version (admin).
#[utoipa::path(
    get, path = "/v1/audit/{entryId}/shown", operation_id = "getAuditShown", tag = "audit",
    params(("entryId" = Uuid, Path, description = "Access log entry id")),
    responses(
        (status = 200, description = "The document as it was served", body = Object),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry, or it showed nothing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit/{entryId}/shown")]
pub async fn get_shown(
    req: HttpRequest,
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let id = Uuid::parse_str(&path).map_err(|_| {
        ApiError::bad_field("bad_entry_id", "/entryId", "Not an entry id (a UUID).")
    })?;
    let entry = state
        .db
        .access_entry(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("There is no such access log entry.".into()))?;
    // A replay shows the person's data again: it is an access of its own, in their log as
    // "replayed for audit".
    note(&req, |n| {
        n.plan_id = entry.plan_id;
        n.nhs_number.clone_from(&entry.nhs_number);
        n.plan_version = entry.plan_version;
        n.section.clone_from(&entry.section);
        n.view = Some(View::Replay);
        n.returned_nhs_numbers
            .clone_from(&entry.returned_nhs_numbers);
        n.detail = Some(serde_json::json!({
            "replayedEntry": entry.entry_id,
            "replayedActor": entry.actor,
            "replayedAt": entry.at,
            "replayedView": entry.view,
        }));
    });
    let nothing = || {
        ApiError::NotFound(
            "This access showed no plan data (it was refused or showed nothing).".into(),
        )
    };
    if entry.status >= 400 {
        return Err(nothing());
    }
    let shown = match (entry.view.as_deref(), entry.plan_id, entry.plan_version) {
        (Some("search"), _, _) => entry.search_results.clone().ok_or_else(nothing)?,
        (Some("plan"), Some(plan), Some(version)) => {
            to_json(&plan_at(&state.db, plan, version).await?)?
        }
        (Some("section"), Some(plan), Some(version)) => {
            let view = plan_at(&state.db, plan, version).await?;
            let section = entry.section.clone().unwrap_or_default();
            to_json(view.sections.get(&section).ok_or_else(nothing)?)?
        }
        (Some("summary"), Some(plan), Some(version)) => {
            let history = state
                .db
                .read_stream(plan, StreamBound::UpToVersion(version))
                .await?;
            let state_then = fold(&history)?.ok_or_else(nothing)?;
            to_json(
                &EmergencySummary::of(plan, &state_then, entry.at.date_naive())
                    .ok_or_else(nothing)?,
            )?
        }
        (Some("history"), Some(plan), Some(version)) => {
            to_json(&super::care_plans::history(&state.db, plan, version).await?)?
        }
        _ => return Err(nothing()),
    };
    Ok(HttpResponse::Ok().json(shown))
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(Box::new(e)))
}
