//! `/v1/patients`: a person's current plan and emergency summary by NHS number, and finding a
//! person without one.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ucp_domain::views::{plan_etag, EmergencySummary, PlanView};
use ucp_domain::{fold_name, PlanStatus, Postcode};
use ucp_store::{PatientSearch, PlanRow};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::access::{ensure_visible, may_see, parse_nhs_number};
use super::respond::tagged;
use crate::audit::{note, View};
use crate::auth::{Actor, Role};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use actix_web::http::StatusCode;

/// Read a person's current care plan (the active one; for clinicians, else the latest).
#[utoipa::path(
    get, path = "/v1/patients/{nhsNumber}/care-plan", operation_id = "getPersonCarePlan", tag = "patients",
    params(("nhsNumber" = String, Path, description = "NHS number, with or without spaces")),
    responses(
        (status = 200, description = "The plan", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Not a valid NHS number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No current plan", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients/{nhsNumber}/care-plan")]
pub async fn get_person_plan(
    req: HttpRequest,
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[
        Role::Clinician,
        Role::Ambulance,
        Role::Nhs111,
        Role::Ooh,
        Role::Patient,
    ])?;
    let nhs = parse_nhs_number(&path)?;
    note(&req, |n| n.nhs_number = Some(nhs.to_string()));
    let found = state.db.plan_for_person(&nhs.to_string()).await?;
    if let Some(row) = &found {
        note(&req, |n| n.plan_id = Some(row.plan_id));
    }
    let row: PlanRow = ensure_visible(&actor, found)
        .map_err(|_| ApiError::NotFound(format!("There is no current care plan for {nhs}.")))?;
    note(&req, |n| {
        n.plan_version = Some(row.version);
        n.view = Some(View::Plan);
    });
    Ok(tagged(
        StatusCode::OK,
        &plan_etag(row.version),
        &row.document,
    ))
}

/// What a crew needs first, precomputed.
#[utoipa::path(
    get, path = "/v1/patients/{nhsNumber}/emergency-summary", operation_id = "getEmergencySummary", tag = "patients",
    params(("nhsNumber" = String, Path, description = "NHS number, with or without spaces")),
    responses(
        (status = 200, description = "The summary", body = EmergencySummary),
        (status = 400, description = "Not a valid NHS number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read summaries", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No current plan", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients/{nhsNumber}/emergency-summary")]
pub async fn get_emergency_summary(
    req: HttpRequest,
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[
        Role::Clinician,
        Role::Ambulance,
        Role::Nhs111,
        Role::Ooh,
        Role::Dispatch,
        Role::Patient,
    ])?;
    let nhs = parse_nhs_number(&path)?;
    note(&req, |n| n.nhs_number = Some(nhs.to_string()));
    let none = || ApiError::NotFound(format!("There is no current care plan for {nhs}."));
    let row = state
        .db
        .summary_for_person(&nhs.to_string())
        .await?
        .ok_or_else(none)?;
    let allowed = may_see(&actor, &nhs.to_string(), &row.status);
    note(&req, |n| n.plan_id = Some(row.plan_id));
    if !allowed {
        return Err(none());
    }
    note(&req, |n| {
        n.plan_version = row
            .summary
            .get("planVersion")
            .and_then(serde_json::Value::as_i64);
        n.view = Some(View::Summary);
    });
    // Stored as of the plan's last change; judged again as of today (a review falls overdue
    // without anything being written).
    let summary: EmergencySummary =
        serde_json::from_value(row.summary).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let summary = summary.as_of(chrono::Utc::now().date_naive());
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(summary))
}

/// Who to look for, when the NHS number is not known.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PatientQuery {
    /// Family name (case and accents ignored; a prefix of at least 2 letters with birthDate,
    /// 3 without, matches).
    pub family: Option<String>,
    /// Given name (case and accents ignored; a prefix of at least 2 letters with birthDate,
    /// 3 without, matches).
    pub given: Option<String>,
    /// Date of birth, exact (YYYY-MM-DD).
    pub birth_date: Option<NaiveDate>,
    /// Postcode, any spacing or case.
    pub postcode: Option<String>,
}

/// A candidate person.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientCandidate {
    pub nhs_number: String,
    pub family_name: String,
    pub given_name: String,
    pub birth_date: NaiveDate,
    pub postcode: String,
    pub plan_id: Uuid,
    pub plan_status: PlanStatus,
    /// Higher is a closer match: exact family name 2, exact given name 1.
    pub score: i32,
}

/// Find people by name, date of birth and postcode (at least two of them).
#[utoipa::path(
    get, path = "/v1/patients", operation_id = "searchPatients", tag = "patients",
    params(PatientQuery),
    responses(
        (status = 200, description = "Ranked candidates, best first (at most 50)", body = Vec<PatientCandidate>),
        (status = 400, description = "Fewer than two criteria, or a bad date or postcode", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not search", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/patients")]
pub async fn search_patients(
    req: HttpRequest,
    query: web::Query<PatientQuery>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Clinician, Role::Ambulance, Role::Nhs111, Role::Ooh])?;
    let q = query.into_inner();
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
                    ApiError::bad_field("bad_postcode", "/postcode", format!("{p:?}: {e}."))
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
        active_only: actor.role != Role::Clinician,
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
            "too_few_criteria",
            "",
            "Give at least two of family, given, birthDate and postcode.",
        ));
    }
    // Short prefixes would let the index be walked a page at a time: a name prefix must be
    // 2 letters long with a date of birth to narrow it, 3 without.
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
            code: "name_prefix_too_short",
            detail: format!(
                "A name to search by needs at least {shortest} letters, so that the index cannot \
                 be walked."
            ),
            errors: too_short,
        });
    }
    let candidates: Vec<PatientCandidate> = state
        .db
        .search_patients(&search)
        .await?
        .into_iter()
        .map(|m| PatientCandidate {
            plan_status: match m.status.as_str() {
                "withdrawn" => PlanStatus::Withdrawn,
                "deceased" => PlanStatus::Deceased,
                "voided" => PlanStatus::Voided,
                _ => PlanStatus::Active,
            },
            nhs_number: m.nhs_number,
            family_name: m.family_name,
            given_name: m.given_name,
            birth_date: m.birth_date,
            postcode: m.postcode,
            plan_id: m.plan_id,
            score: m.score,
        })
        .collect();
    let results = serde_json::to_value(&candidates).map_err(|e| ApiError::Internal(Box::new(e)))?;
    note(&req, |n| {
        n.view = Some(View::Search);
        n.search_criteria = Some(serde_json::json!({
            "family": q.family, "given": q.given, "birthDate": q.birth_date, "postcode": q.postcode
        }));
        n.returned_nhs_numbers = candidates.iter().map(|c| c.nhs_number.clone()).collect();
        n.search_results = Some(results);
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(candidates))
}
