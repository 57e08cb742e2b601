//! `/v1/worklists`: the plans due or overdue for review (clinicians and admins).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ucp_app::worklist::{self, Filter, OrganisationCounts, WorklistItem};
use ucp_app::AppState;
use ucp_domain::{OdsCode, PlanStatus};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::respond::audited;
use crate::auth::Caller;
use crate::paging::page_size;
use crate::problem::{ApiError, ErrorCode, Problem};

/// Which plans.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Plans this organisation answers for (ODS code): the registered GP practice, or the
    /// team that last reviewed or recorded the Emergency Treatment Plan.
    #[param(pattern = r"^[A-Za-z0-9]{3,10}$")]
    pub organisation: Option<String>,
    /// Due before this date.
    pub due_before: Option<NaiveDate>,
    /// Only plans whose review date has passed.
    pub overdue: Option<bool>,
    /// The plans' status; default `active`.
    pub status: Option<PlanStatus>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// 1 to 500; default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A page of the worklist.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPage {
    /// By due date, the longest overdue first.
    pub items: Vec<WorklistItem>,
    /// Ask for the next page with `after=<next>`; absent on the last page.
    pub next: Option<String>,
}

fn organisation(text: Option<&str>) -> Result<Option<String>, ApiError> {
    text.map(|o| {
        OdsCode::parse(o).map(|c| c.to_string()).map_err(|e| {
            ApiError::bad_field(ErrorCode::BadQuery, "/organisation", format!("{o:?}: {e}."))
        })
    })
    .transpose()
}

fn encode_cursor(item: &WorklistItem) -> String {
    let priority = i16::from(!item.said_no_longer_valid);
    URL_SAFE_NO_PAD.encode(format!("{priority}|{}|{}", item.due_date, item.plan_id))
}

fn decode_cursor(text: &str) -> Result<(i16, NaiveDate, Uuid), ApiError> {
    let bad = || {
        ApiError::bad_field(
            ErrorCode::BadCursor,
            "/after",
            "This is not a cursor this service issued.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let parts: Vec<&str> = text.splitn(3, '|').collect();
    // A cursor issued before the worklist had priorities ("date|id") continues where it was.
    let (priority, date, id) = match parts.as_slice() {
        [priority, date, id] => (priority.parse::<i16>().map_err(|_| bad())?, *date, *id),
        [date, id] => (1, *date, *id),
        _ => return Err(bad()),
    };
    if !(0..=1).contains(&priority) {
        return Err(bad());
    }
    Ok((
        priority,
        date.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

/// Plans due or overdue for review: decisions a review said are no longer valid first, then
/// by due date (overdue before due).
#[utoipa::path(
    get, path = "/v1/worklists/reviews", operation_id = "getReviewWorklist", tag = "worklists",
    params(ReviewQuery),
    responses(
        (status = 200, description = "Plans due for review: said no longer valid first, then by due date", body = ReviewPage),
        (status = 400, description = "Bad organisation, date, status, cursor or limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/worklists/reviews")]
pub async fn get_review_worklist(
    query: web::Query<ReviewQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = page_size(q.limit, 100, 500)?;
    let filter = Filter {
        organisation: organisation(q.organisation.as_deref())?,
        due_before: q.due_before,
        overdue_only: q.overdue.unwrap_or(false),
        status: q.status.unwrap_or(PlanStatus::Active),
        after: q
            .after
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(decode_cursor)
            .transpose()?,
        limit,
    };
    let today = chrono::Utc::now().date_naive();
    let shown = worklist::list(&state.db, &actor, filter, today).await?;
    let next = (i64::try_from(shown.value.len()).unwrap_or(0) == limit)
        .then(|| shown.value.last().map(encode_cursor))
        .flatten();
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(ReviewPage {
                items: shown.value,
                next,
            }),
        shown.access,
    ))
}

/// Whose counts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// One organisation (ODS code); absent: every organisation with plans to review.
    #[param(pattern = r"^[A-Za-z0-9]{3,10}$")]
    pub organisation: Option<String>,
}

/// Per organisation: active plans due this month and overdue.
#[utoipa::path(
    get, path = "/v1/worklists/reviews/summary", operation_id = "getReviewWorklistSummary", tag = "worklists",
    params(CountsQuery),
    responses(
        (status = 200, description = "Counts per organisation", body = Vec<OrganisationCounts>),
        (status = 400, description = "Bad organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/worklists/reviews/summary")]
pub async fn get_review_worklist_summary(
    query: web::Query<CountsQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org = organisation(query.organisation.as_deref())?;
    let today = chrono::Utc::now().date_naive();
    let counts = worklist::counts(&state.db, &actor, org.as_deref(), today).await?;
    Ok(HttpResponse::Ok().json(counts))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_review_worklist_summary)
        .service(get_review_worklist);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_review_worklist, get_review_worklist_summary))]
pub struct Api;
