//! `/v1/patients`: a person's current plan and emergency summary by NHS number, and finding a
//! person without one.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use ucp_app::reads::PatientSearch;
use ucp_app::reads::{self, PatientCandidate};
use ucp_domain::views::{EmergencySummary, PlanView};
use ucp_domain::{fold_name, Postcode};
use utoipa::IntoParams;

use super::access::parse_nhs_number;
use super::respond::{audited, tagged_bytes_or_unchanged, tagged_shown};
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::problem::{ErrorCode, Problem};
use ucp_app::AppState;

/// Read a person's current care plan (the active one; for clinicians, else the latest).
#[utoipa::path(
    get, path = "/v1/patients/{nhsNumber}/care-plan", operation_id = "getPersonCarePlan", tag = "patients",
    params(("nhsNumber" = String, Path, description = "NHS number: 10 digits with a valid check digit, spaces or hyphens allowed", pattern = r"^[ -]*(?:[0-9][ -]*){10}$")),
    responses(
        (status = 200, description = "The plan", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Not a valid NHS number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No current plan", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The plan ended (withdrawn, voided, closed after death, or consent to share withdrawn): `plan_not_current` with a `notice` and no clinical content, for roles that read active plans only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients/{nhsNumber}/care-plan")]
pub async fn get_person_plan(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = parse_nhs_number(&path)?;
    let shown = reads::person_plan(&state.db, &actor, nhs).await?;
    Ok(tagged_shown(StatusCode::OK, shown))
}

/// What a crew needs first, precomputed.
#[utoipa::path(
    get, path = "/v1/patients/{nhsNumber}/emergency-summary", operation_id = "getEmergencySummary", tag = "patients",
    params(("nhsNumber" = String, Path, description = "NHS number: 10 digits with a valid check digit, spaces or hyphens allowed", pattern = r"^[ -]*(?:[0-9][ -]*){10}$"), ("If-None-Match" = Option<String>, Header, description = "The ETag you hold: 304 when nothing in the summary changed")),
    responses(
        (status = 200, description = "The summary", body = EmergencySummary, headers(("ETag" = String))),
        (status = 304, description = "Unchanged: the If-None-Match ETag is the current one", headers(("ETag" = String))),
        (status = 400, description = "Not a valid NHS number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No current plan", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The plan ended (withdrawn, voided, closed after death, or consent to share withdrawn): `plan_not_current` with a `notice` and no clinical content, for roles that read active plans only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients/{nhsNumber}/emergency-summary")]
pub async fn get_emergency_summary(
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = parse_nhs_number(&path)?;
    let today = chrono::Utc::now().date_naive();
    let shown = reads::summary(&state.db, &state.summaries, &actor, nhs, today).await?;
    let etag = shown.value.etag;
    Ok(tagged_bytes_or_unchanged(
        &req,
        &etag,
        shown.value.body,
        shown.access,
    ))
}

/// Who to look for, when the NHS number is not known.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PatientQuery {
    /// Family name (case and accents ignored; a prefix of at least 2 letters with birthDate,
    /// 3 without, matches).
    #[param(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub family: Option<String>,
    /// Given name (case and accents ignored; a prefix of at least 2 letters with birthDate,
    /// 3 without, matches).
    #[param(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub given: Option<String>,
    /// Date of birth, exact (YYYY-MM-DD).
    pub birth_date: Option<NaiveDate>,
    /// Postcode, any spacing or case.
    #[param(
        pattern = r"^ *[A-Za-z] *[A-Za-z]? *[0-9] *[A-Za-z0-9]? *[0-9] *[A-Za-z] *[A-Za-z] *$"
    )]
    pub postcode: Option<String>,
}

/// Find people by name, date of birth and postcode (at least two of them).
#[utoipa::path(
    get, path = "/v1/patients", operation_id = "searchPatients", tag = "patients",
    params(PatientQuery),
    responses(
        (status = 200, description = "Ranked candidates, best first (at most 50)", body = Vec<PatientCandidate>),
        (status = 400, description = "Fewer than two criteria, or a bad date or postcode", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients")]
pub async fn search_patients(
    query: web::Query<PatientQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let search = checked_search(&q)?;
    let criteria = serde_json::json!({
        "family": q.family, "given": q.given, "birthDate": q.birth_date, "postcode": q.postcode
    });
    let shown = reads::search(&state.db, &actor, search, criteria).await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown.value),
        shown.access,
    ))
}

/// The search the query asks for, if its shape is one this service answers: at least two
/// criteria, a valid postcode, and name prefixes long enough that the index cannot be walked
/// (2 letters with a birth date to narrow it, 3 without).
pub(crate) fn checked_search(q: &PatientQuery) -> Result<PatientSearch, ApiError> {
    for (pointer, name) in [("/family", &q.family), ("/given", &q.given)] {
        if let Some(name) = name {
            if name.chars().count() > 200 || name.chars().any(char::is_control) {
                return Err(ApiError::bad_field(
                    ErrorCode::BadQuery,
                    pointer,
                    "A name to search by is at most 200 characters, with no control characters.",
                ));
            }
        }
    }
    let folded = |s: &Option<String>| s.as_deref().map(fold_name).filter(|f| !f.is_empty());
    let postcode = match q
        .postcode
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(
            Postcode::parse(p)
                .map_err(|e| {
                    ApiError::bad_field(ErrorCode::BadPostcode, "/postcode", format!("{p:?}: {e}."))
                })?
                .to_string(),
        ),
        None => None,
    };
    let search = PatientSearch {
        family_folded: folded(&q.family),
        given_folded: folded(&q.given),
        birth_date: q.birth_date,
        postcode,
        active_only: true,
        limit: 50,
    };
    let given = [
        search.family_folded.is_some(),
        search.given_folded.is_some(),
        search.birth_date.is_some(),
        search.postcode.is_some(),
    ]
    .into_iter()
    .filter(|b| *b)
    .count();
    if given < 2 {
        return Err(ApiError::bad_field(
            ErrorCode::TooFewCriteria,
            "",
            "Give at least two of family, given, birthDate and postcode.",
        ));
    }
    let shortest = if search.birth_date.is_some() { 2 } else { 3 };
    let mut too_short = Vec::new();
    for (pointer, folded) in [
        ("/family", &search.family_folded),
        ("/given", &search.given_folded),
    ] {
        if folded
            .as_ref()
            .is_some_and(|f| f.chars().count() < shortest)
        {
            too_short.push(ucp_domain::FieldError::new(
                pointer,
                format!(
                    "give at least {shortest} letters (2 when birthDate is given, 3 otherwise)"
                ),
            ));
        }
    }
    if !too_short.is_empty() {
        return Err(ApiError::BadRequest {
            code: ErrorCode::NamePrefixTooShort,
            detail: format!(
                "A name to search by needs at least {shortest} letters, so that the index cannot \
                 be walked."
            ),
            errors: too_short,
        });
    }
    Ok(search)
}

/// Which changes of the summary.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummarySinceQuery {
    /// The plan version the reader's summary shows (its `planVersion`; 0: from the start).
    #[param(minimum = 0)]
    pub since: i64,
    /// Up to this version; default the current one.
    #[param(minimum = 0)]
    pub until: Option<i64>,
}

/// What changed in a person's emergency summary since a version, in the summary's own terms.
#[utoipa::path(
    get, path = "/v1/patients/{nhsNumber}/emergency-summary/changes", operation_id = "getEmergencySummaryChanges", tag = "patients",
    params(("nhsNumber" = String, Path, description = "NHS number: 10 digits with a valid check digit, spaces or hyphens allowed", pattern = r"^[ -]*(?:[0-9][ -]*){10}$"), SummarySinceQuery),
    responses(
        (status = 200, description = "The changes after `since`, oldest first", body = ucp_app::since::SummaryChanges),
        (status = 400, description = "Not a valid NHS number, or a bad query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No current plan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "since or until outside the plan's versions", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients/{nhsNumber}/emergency-summary/changes")]
pub async fn get_summary_changes(
    path: web::Path<String>,
    query: web::Query<SummarySinceQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = parse_nhs_number(&path)?;
    let range = ucp_app::since::Range {
        since: query.since,
        until: query.until,
    };
    let today = chrono::Utc::now().date_naive();
    let shown = ucp_app::since::summary_changes(&state.db, &actor, nhs, range, today).await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown.value),
        shown.access,
    ))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(search_patients)
        .service(get_person_plan)
        .service(get_emergency_summary)
        .service(get_summary_changes);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    get_person_plan,
    get_emergency_summary,
    get_summary_changes,
    search_patients
))]
pub struct Api;
