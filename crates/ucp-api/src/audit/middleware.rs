//! The one decision point of the access log. It wraps the whole `/v1` scope, so the router —
//! not a string test on the raw path — decides what is audited: a percent-encoded, trailing
//! slash or case-varied path that reaches a handler reaches it through here, and one that
//! matches no route is logged as the refusal it is. Handlers cannot opt out: [`Actor`], the
//! extractor every `/v1` handler needs, refuses to work outside this scope.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use ucp_domain::NhsNumber;
use ucp_store::AccessEntry;
use uuid::Uuid;

use ucp_app::audit::{entry as entry_of, Access, AuditWriter};

use crate::auth::{Actor, AuditScope, Refusal, PURPOSE_HEADER};
use crate::operation_ids::OperationIds;
use crate::problem::ApiError;
use crate::proxy::ON_BEHALF_OF_HEADER;
use crate::request_id::request_id;
use ucp_app::AppState;

/// Writes one access-log entry for every request under `/v1` — served or refused — and lets the
/// response leave only once the entry is committed. If it cannot be committed, the client gets
/// 503 and none of the data.
pub async fn record_access(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writer = req.app_data::<web::Data<AuditWriter>>().cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(writer) = writer else {
        // Without a writer nothing may be served: refuse rather than serve unrecorded.
        let refusal = ApiError::AuditUnavailable("no access-log writer".into()).error_response();
        return Ok(req.into_response(refusal));
    };
    req.extensions_mut().insert(AuditScope);
    let purpose = req
        .headers()
        .get(PURPOSE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(100).collect::<String>());
    let response = next.call(req).await?;
    let (http_req, res) = response.into_parts();
    let status = res.status().as_u16();
    // What the handler's result showed travels with its response.
    let mut note = res
        .extensions()
        .get::<Access>()
        .cloned()
        .unwrap_or_default();
    if note.plan_id.is_none() || note.nhs_number.is_none() {
        target_from_path(
            &http_req,
            &mut note,
            state.as_ref().map(|s| s.get_ref()),
            status,
        )
        .await;
    }
    let actor = http_req.extensions().get::<Actor>().cloned();
    let refusal = http_req.extensions().get::<Refusal>().cloned();
    let ids = http_req.app_data::<web::Data<OperationIds>>().cloned();
    let entry = entry(
        &http_req,
        ids.as_ref().map(|i| i.get_ref()),
        actor.as_ref(),
        note,
        purpose,
        status,
    );
    let entry = with_refusal(entry, refusal);
    match writer.record(entry).await {
        Ok(()) => Ok(ServiceResponse::new(http_req, res.map_into_boxed_body())),
        Err(e) => {
            let refusal = ApiError::AuditUnavailable(e.to_string()).error_response();
            Ok(ServiceResponse::new(
                http_req,
                refusal.map_into_boxed_body(),
            ))
        }
    }
}

/// What the matched route's path names, for requests whose handler noted nothing (chiefly
/// refusals: the person sees attempts on their plan that were turned away). A plan named only
/// by id is looked up for its NHS number when the request was refused.
async fn target_from_path(
    req: &HttpRequest,
    note: &mut Access,
    state: Option<&AppState>,
    status: u16,
) {
    let params = req.match_info();
    if note.nhs_number.is_none() {
        note.nhs_number = params
            .get("nhsNumber")
            .and_then(|n| NhsNumber::parse(n).ok())
            .map(|n| n.to_string());
    }
    if note.plan_id.is_none() {
        note.plan_id = params.get("id").and_then(|id| Uuid::parse_str(id).ok());
    }
    if let (Some(plan_id), None, Some(state), true) =
        (note.plan_id, &note.nhs_number, state, status >= 400)
    {
        match state.db.plan(plan_id).await {
            Ok(Some(row)) => note.nhs_number = Some(row.nhs_number.to_string()),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot find the person a refused request aimed at")
            }
        }
    }
}

/// A token turned away says why, and, once its signature was good, whose it was.
fn with_refusal(mut entry: AccessEntry, refusal: Option<Refusal>) -> AccessEntry {
    let Some(refusal) = refusal else {
        return entry;
    };
    if let Some(subject) = refusal.subject {
        entry.actor = subject;
    }
    entry.issuer = refusal.issuer;
    add_detail(&mut entry, "refused", refusal.message);
    entry
}

/// Adds one key to the entry's `detail` object (a detail that is no object is kept under
/// `detail`).
fn add_detail(entry: &mut AccessEntry, key: &str, value: String) {
    let mut detail = match entry.detail.take() {
        Some(serde_json::Value::Object(map)) => map,
        Some(other) => serde_json::Map::from_iter([("detail".to_owned(), other)]),
        None => serde_json::Map::new(),
    };
    detail.insert(key.to_owned(), serde_json::Value::String(value));
    entry.detail = Some(serde_json::Value::Object(detail));
}

fn entry(
    req: &HttpRequest,
    ids: Option<&OperationIds>,
    actor: Option<&Actor>,
    access: Access,
    purpose: Option<String>,
    status: u16,
) -> AccessEntry {
    let method = req.method().as_str();
    let action = req
        .match_pattern()
        .and_then(|pattern| {
            ids.and_then(|ids| {
                ids.get(method, &pattern, |name| req.match_info().get(name))
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let mut entry = entry_of(actor, &action, access, status);
    entry.method = method.to_owned();
    entry.path = req.path().to_owned();
    // The purpose as the caller's checks read it; the raw header only when there is no caller.
    if entry.purpose.is_none() {
        entry.purpose = purpose;
    }
    entry.request_id = request_id(req);
    attempted_for(req, actor, &mut entry);
    entry
}

/// A proxy turned away before acting (no grant, revoked, a route a proxy may not use): the
/// entry is about the person they tried to act for, so that person sees the attempt.
fn attempted_for(req: &HttpRequest, actor: Option<&Actor>, entry: &mut AccessEntry) {
    if entry.status < 400 || actor.is_some_and(|a| a.acting_for.is_some()) {
        return;
    }
    let Some(person) = req
        .headers()
        .get(ON_BEHALF_OF_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| NhsNumber::parse(v.trim()).ok())
    else {
        return;
    };
    entry.nhs_number = Some(person.to_string());
    add_detail(entry, "attemptedOnBehalfOf", person.to_string());
}
