//! `GET /check/{code}`: the page the QR code on a printed plan opens. Anyone holding the
//! paper — a crew at the door, a care-home nurse, a hospital doctor — learns whether this copy
//! is still the plan, without signing in. It shows no name, no NHS number and nothing
//! clinical; the code is signed by the service, so it can be neither guessed nor forged.
//!
//! HTML for a person (large type, no JavaScript, WCAG 2.2 AA), JSON with
//! `Accept: application/json`. Every check is an access-log entry against the person, and
//! checks are rate-limited by client address (`UCP_CHECK_RATE_LIMIT`).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;
use serde::Serialize;
use ucp_app::printed_copies::{self, CopyCheck};
use ucp_app::{AppError, AppState};

use super::check_page;
use super::respond::audited;
use crate::problem::ApiError;
use crate::rate_limit::{client_address, AnonymousRateLimit};

/// The budget of printed-copy checks per client address (`UCP_CHECK_RATE_LIMIT`), apart from
/// the API's: a phone on a care home's wifi checking a few copies is never held back by
/// anyone else's API calls.
#[derive(Debug)]
pub struct CheckRateLimit(pub AnonymousRateLimit);

/// What a printed copy's check says, as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrintedCopyCheck {
    #[serde(flatten)]
    pub check: CopyCheck,
    /// The one line to take away, as the HTML page says it ("This printed plan (version 7,
    /// printed 3 Dec 2026) is CURRENT").
    pub message: String,
}

/// Whether the caller asked for JSON rather than a page: `Accept` names JSON and not HTML.
fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    accept.contains("json") && !accept.contains("text/html")
}

fn page(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// Headers every answer carries: never cached (the answer changes when the plan does), never
/// indexed, the code never sent on as a referrer, and nothing but the page's own style.
fn guarded(mut res: HttpResponse) -> HttpResponse {
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::VARY, "Accept"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    res
}

/// Whether a printed plan is still the plan.
///
/// The code is the last part of the link printed under the QR code on every page. The answer
/// is `current` (nothing the paper shows has changed since it was printed), `superseded` (the
/// plan changed after it was printed: do not rely on the copy), or `not-current` (withdrawn,
/// voided as made in error, or closed after the person's death). A withdrawal of consent to
/// share leaves a copy current: it changes who the plan is shared with, not what it says. An
/// HTML page by default; JSON with `Accept: application/json`. Each check is recorded in the
/// person's access log.
#[utoipa::path(
    get, path = "/check/{code}", operation_id = "checkPrintedCopy", tag = "printed-copies",
    params(("code" = String, Path, description = "The code printed with the QR code of a printed plan")),
    responses(
        (status = 200, description = "What became of the copy: a page for a person, or JSON with Accept: application/json",
            content(
                (PrintedCopyCheck = "application/json"),
                (String = "text/html"),
            )),
        (status = 404, description = "Not a code this service printed, or one whose key was retired",
            content(
                (crate::problem::Problem = "application/problem+json"),
                (String = "text/html"),
            )),
        (status = 429, description = "Too many checks from this address",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again")),
            content(
                (crate::problem::Problem = "application/problem+json"),
                (String = "text/html"),
            )),
    ),
    security(()),
)]
#[get("/{code}")]
pub async fn check_printed_copy(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    settings: web::Data<ucp_app::print::PrintSettings>,
    limit: web::Data<CheckRateLimit>,
) -> HttpResponse {
    let json = wants_json(&req);
    let now = Utc::now();
    if let Some(address) = client_address(&req) {
        if let Err(wait) = limit.0.check(address) {
            let secs = wait.as_secs().max(1);
            let mut res = if json {
                ApiError::TooManyRequests(secs).error_response()
            } else {
                page(StatusCode::TOO_MANY_REQUESTS, check_page::too_many(secs))
            };
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return guarded(res);
        }
    }
    let res = match printed_copies::check(&state.db, &settings.check_keys, &path, now).await {
        Ok(shown) => {
            let message = shown.value.headline();
            let res = if json {
                HttpResponse::Ok().json(PrintedCopyCheck {
                    check: shown.value,
                    message,
                })
            } else {
                page(StatusCode::OK, check_page::verdict(&shown.value))
            };
            audited(res, shown.access)
        }
        Err(AppError::NotFound(detail)) if !json => {
            tracing::debug!(%detail, "printed-copy code not recognised");
            page(StatusCode::NOT_FOUND, check_page::not_recognised())
        }
        Err(e) => {
            let res = ApiError::from(e).error_response();
            if json {
                res
            } else {
                page(res.status(), check_page::unavailable())
            }
        }
    };
    guarded(res)
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(check_printed_copy);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(check_printed_copy))]
pub struct Api;
