//! `GET /metrics`: the application's Prometheus counters, and the middleware that counts every
//! response by status class.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};
use prometheus_client::encoding::text::encode;
use ucp_app::metrics::StatusClass;

use ucp_app::AppState;

/// Counts every response by status class, and times it by route template (never the path,
/// which may hold an NHS number), method and status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let counters = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    if let Some(counters) = counters {
        let status = res.status().as_u16();
        let class = format!("{}xx", status / 100);
        counters
            .requests
            .get_or_create(&StatusClass { class })
            .inc();
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        counters.request(&route, &method, status, started.elapsed());
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
    // A scrape must answer even when the database does not: the lag gauges then keep their
    // last values, and the pool's state (read locally) says why.
    state.refresh_gauges().await;
    let mut text = String::new();
    if encode(&mut text, &state.metrics.registry).is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text)
}
