use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use crate::problem::ApiError;
use ucp_app::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(
    get, path = "/healthz", operation_id = "healthz", tag = "operations",
    responses((status = 200, description = "Serving", body = Health)),
    security(()),
)]
/// The process is up and serving. Says nothing about the database, so that an orchestrator
/// does not restart a healthy process while the database is away.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    status: &'static str,
    migration: i64,
}

/// Readiness: the database answers and is fully migrated.
#[utoipa::path(
    get, path = "/readyz", operation_id = "readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Database unreachable or not migrated", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
/// Ready to take traffic: the database answers and carries every migration this build expects.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let status = state
        .migration_status()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    if !status.is_current() {
        return Err(ApiError::Unavailable(format!(
            "database is at migration {:?}, this build expects {}",
            status.applied, status.expected
        )));
    }
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        migration: status.expected,
    }))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(crate::metrics::serve_metrics);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz, crate::metrics::serve_metrics))]
pub struct Api;
