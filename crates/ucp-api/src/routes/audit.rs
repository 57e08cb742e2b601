//! `/v1/audit`: who saw what, when — and exactly what they were shown.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_app::audit::{AccessEntry, AccessQuery};
use ucp_app::reads;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::access::parse_nhs_number;
use super::respond::audited;
use crate::auth::Caller;
use crate::paging::{decode_page_cursor, limit, next_page};
use crate::problem::ApiError;
use crate::problem::{ErrorCode, Problem};
use ucp_app::AppState;

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
    /// What the entry records beyond its columns: the subscription a delivery went to, the
    /// entry an admin replayed, the range of a changes read, where a replay started.
    pub detail: Option<serde_json::Value>,
    /// The trusted issuer that vouched for the caller (`development` for the development
    /// secret).
    pub issuer: Option<String>,
    /// What in the credential granted the role: for CIS2, the selected access role and the
    /// line of the mapping (e.g. `R8000 (rule 2)`).
    pub credential: Option<String>,
    /// NHS login: the identity proofing level of the sign-in (P0, P5, P9).
    pub proofing_level: Option<String>,
    /// The NHS number of the person a proxy acted for: this access was by `actor` on their
    /// behalf.
    pub on_behalf_of: Option<String>,
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
            detail: e.detail,
            issuer: e.issuer,
            credential: e.credential,
            proofing_level: e.proofing_level,
            on_behalf_of: e.on_behalf_of,
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
    #[param(pattern = r"^[ -]*(?:[0-9][ -]*){10}$")]
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
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Search the access log (admin).
#[utoipa::path(
    get, path = "/v1/audit", operation_id = "searchAuditLog", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries, newest first", body = AuditPage),
        (status = 400, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn search_audit(
    query: web::Query<AuditQuery>,
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
    let shown = reads::access_log(
        &state.db,
        &actor,
        AccessQuery {
            nhs_number,
            actor: super::access::text_filter("actor", q.actor)?,
            plan_id: q.plan_id,
            from: q.from,
            to: q.to,
            before: q
                .before
                .as_deref()
                .filter(|b| !b.is_empty())
                .map(decode_page_cursor)
                .transpose()?,
            include_searches: false,
            limit,
        },
    )
    .await?;
    let next = next_page(&shown.value, limit);
    Ok(audited(
        HttpResponse::Ok().json(AuditPage {
            entries: shown.value.into_iter().map(AuditEntry::from).collect(),
            next,
        }),
        shown.access,
    ))
}

/// Exactly the document an entry served, rebuilt from the log at the recorded version (admin).
#[utoipa::path(
    get, path = "/v1/audit/{entryId}/shown", operation_id = "getAuditShown", tag = "audit",
    params(("entryId" = Uuid, Path, description = "Access log entry id")),
    responses(
        (status = 200, description = "The document as it was served", body = Object),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry, or it showed nothing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit/{entryId}/shown")]
pub async fn get_shown(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path).map_err(|_| {
        ApiError::bad_field(
            ErrorCode::BadEntryId,
            "/entryId",
            "Not an entry id (a UUID).",
        )
    })?;
    let shown = ucp_app::replay::replay_entry(&state.db, &actor, id).await?;
    Ok(audited(HttpResponse::Ok().json(shown.value), shown.access))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(search_audit).service(get_shown);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(search_audit, get_shown))]
pub struct Api;
