//! `GET /metrics`: the application's Prometheus counters, and the middleware that counts every
//! response by status class.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};
use prometheus_client::encoding::text::encode;
use ucp_app::metrics::StatusClass;

use ucp_app::AppState;

/// Counts every response by status class.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let counters = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let res = next.call(req).await?;
    if let Some(counters) = counters {
        let class = format!("{}xx", res.status().as_u16() / 100);
        counters
            .requests
            .get_or_create(&StatusClass { class })
            .inc();
    }
    Ok(res)
}

/// Prometheus scrape endpoint.
#[utoipa::path(
    get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)),
    security(()),
)]
#[get("/metrics")]
pub async fn serve_metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut text = String::new();
    if encode(&mut text, &state.metrics.registry).is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text)
}
