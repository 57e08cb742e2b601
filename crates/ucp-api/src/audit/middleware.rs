use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use chrono::Utc;
use ucp_store::AccessEntry;
use utoipa::OpenApi;
use uuid::Uuid;

use super::{AuditNote, AuditWriter};
use crate::auth::Actor;
use crate::{ApiDoc, ApiError};

/// The header that says why a record is being accessed (e.g. `emergency`, `direct-care`).
pub const PURPOSE_HEADER: &str = "x-purpose-of-use";

/// The paths whose requests touch plan data.
fn touches_plan_data(path: &str) -> bool {
    ["/v1/care-plans", "/v1/patients", "/v1/me/", "/v1/feed"]
        .iter()
        .any(|p| path.starts_with(p))
        || path == "/v1/me"
}

/// (method, route pattern) → operation id, from the OpenAPI document.
fn operation_ids() -> &'static HashMap<(String, String), String> {
    static IDS: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let doc = ApiDoc::openapi();
        let mut ids = HashMap::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
            ] {
                if let Some(id) = op.as_ref().and_then(|o| o.operation_id.clone()) {
                    ids.insert((method.to_owned(), path.clone()), id);
                }
            }
        }
        ids
    })
}

/// Writes one access-log entry for every request that touches plan data — served or refused —
/// and lets the response leave only once the entry is committed. If it cannot be committed, the
/// client gets 503 and none of the data.
pub async fn record_access(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !touches_plan_data(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let writer = req.app_data::<web::Data<AuditWriter>>().cloned();
    let purpose = req
        .headers()
        .get(PURPOSE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(100).collect::<String>());
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let response = next.call(req).await?;
    let Some(writer) = writer else {
        return Ok(response.map_into_boxed_body());
    };
    let (http_req, res) = response.into_parts();
    let action = http_req
        .match_pattern()
        .and_then(|p| operation_ids().get(&(method.clone(), p)).cloned())
        .unwrap_or_else(|| "unknown".to_owned());
    let actor = http_req.extensions().get::<Actor>().cloned();
    let note = http_req
        .extensions()
        .get::<AuditNote>()
        .cloned()
        .unwrap_or_default();
    let request_id = crate::routes::care_plans::request_id(&http_req);
    let entry = AccessEntry {
        entry_id: Uuid::now_v7(),
        at: Utc::now(),
        actor: actor
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), |a| a.sub.clone()),
        actor_name: actor.as_ref().and_then(|a| a.name.clone()),
        role: actor
            .as_ref()
            .map_or("none", |a| a.role.as_str())
            .to_owned(),
        organisation: actor.as_ref().and_then(|a| a.org.clone()),
        purpose,
        action,
        method,
        path,
        plan_id: note.plan_id,
        nhs_number: note.nhs_number.or_else(|| {
            actor
                .as_ref()
                .and_then(|a| a.nhs_number.map(|n| n.to_string()))
        }),
        plan_version: note.plan_version,
        view: note.view.map(|v| v.as_str().to_owned()),
        section: note.section,
        search_criteria: note.search_criteria,
        search_results: note.search_results,
        returned_nhs_numbers: note.returned_nhs_numbers,
        request_id,
        status: i16::try_from(res.status().as_u16()).unwrap_or(0),
    };
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
