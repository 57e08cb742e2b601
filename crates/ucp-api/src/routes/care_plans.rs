//! `/v1/care-plans`: create, read (now, at a version, at an instant), replace a section,
//! lifecycle commands, history.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ucp_domain::views::{PlanView, SectionView};
use ucp_domain::{
    Author, CarePlanEvent, Command, DeathRecorded, DeathRetracted, PlanReviewed, PlanSection,
    PlanStatus, PlanVoided, PlanWithdrawn, SectionContent, SectionRetracted,
};
use ucp_store::projections::care_plans::{envelope, fold};
use ucp_store::{IdempotencyKey, StreamBound};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::access::{ensure_visible, parse_plan_id, parse_section};
use super::respond::tagged;
use crate::audit::{note, View};
use crate::auth::{Actor, Role};
use crate::body::{field_problem, parse, read_json};
use crate::commands::{execute, parse_if_match, plan_at, Precondition};
use crate::problem::Problem;
use crate::request_id::request_id;
use crate::{ApiError, AppState};
use actix_web::http::StatusCode;

const WRITERS: &[Role] = &[Role::Clinician];
/// Out-of-hours GPs complete ReSPECT forms at home visits: they record and review Emergency
/// Treatment Plans, and nothing else.
const ETP_WRITERS: &[Role] = &[Role::Clinician, Role::Ooh];
const READERS: &[Role] = &[
    Role::Clinician,
    Role::Ambulance,
    Role::Nhs111,
    Role::Ooh,
    Role::Patient,
];

/// A new plan: Personal Information and Consent to Share, and any other sections.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCarePlanRequest {
    pub personal_information: ucp_domain::PersonalInformation,
    pub consent_to_share: ucp_domain::ConsentToShare,
    pub contacts: Option<ucp_domain::Contacts>,
    pub communication_and_accessibility: Option<ucp_domain::CommunicationAndAccessibility>,
    pub what_matters: Option<ucp_domain::WhatMatters>,
    pub thinking_ahead: Option<ucp_domain::ThinkingAhead>,
    pub support_needs: Option<ucp_domain::SupportNeeds>,
    pub emergency_treatment_plan: Option<ucp_domain::EmergencyTreatmentPlan>,
    pub clinical_background: Option<ucp_domain::ClinicalBackground>,
    pub anticipatory_medicines: Option<ucp_domain::AnticipatoryMedicines>,
    pub sickle_cell_plan: Option<ucp_domain::SickleCellPlan>,
    pub mental_health_crisis_plan: Option<ucp_domain::MentalHealthCrisisPlan>,
}

impl CreateCarePlanRequest {
    /// The command this request asks for.
    #[must_use]
    pub fn into_command(self) -> Command {
        let others = [
            self.contacts.map(SectionContent::Contacts),
            self.communication_and_accessibility
                .map(SectionContent::CommunicationAndAccessibility),
            self.what_matters.map(SectionContent::WhatMatters),
            self.thinking_ahead.map(SectionContent::ThinkingAhead),
            self.support_needs.map(SectionContent::SupportNeeds),
            self.emergency_treatment_plan
                .map(SectionContent::EmergencyTreatmentPlan),
            self.clinical_background
                .map(SectionContent::ClinicalBackground),
            self.anticipatory_medicines
                .map(SectionContent::AnticipatoryMedicines),
            self.sickle_cell_plan.map(SectionContent::SickleCellPlan),
            self.mental_health_crisis_plan
                .map(SectionContent::MentalHealthCrisisPlan),
        ];
        Command::CreateCarePlan {
            personal_information: self.personal_information,
            consent_to_share: self.consent_to_share,
            other_sections: others.into_iter().flatten().collect(),
        }
    }
}

pub(crate) fn idempotency_key(
    req: &HttpRequest,
    actor: &Actor,
    body: &[u8],
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::bad_field(
                "bad_idempotency_key",
                "",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
        })?;
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(req.path());
    hasher.update([0]);
    hasher.update(body);
    let fingerprint = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Some(IdempotencyKey {
        scope: actor.sub.clone(),
        key: key.to_owned(),
        fingerprint,
    }))
}

fn plan_response(status: actix_web::http::StatusCode, view: &PlanView) -> HttpResponse {
    tagged(status, &view.etag, view)
}

fn if_match(req: &HttpRequest, section: Option<PlanSection>) -> Result<Precondition, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::PreconditionRequired(
                "Send If-Match with the ETag you last read, so nobody overwrites a change they \
                 have not seen."
                    .into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed("If-Match is not a valid ETag.".into()))?;
    parse_if_match(value, section)
}

/// Create a care plan.
#[utoipa::path(
    post, path = "/v1/care-plans", operation_id = "createCarePlan", tag = "care-plans",
    request_body = CreateCarePlanRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body return the first result")),
    responses(
        (status = 201, description = "Created", body = PlanView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not create plans", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person already has an active plan", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, or an Idempotency-Key reused for another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-plans")]
pub async fn create_care_plan(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(WRITERS)?;
    let (json, bytes) = read_json(&req, payload).await?;
    let command = parse::<CreateCarePlanRequest>(json)?.into_command();
    let key = idempotency_key(&req, &actor, &bytes)?;
    let plan_id = Uuid::now_v7();
    let (view, _replayed) = execute(
        &state.db,
        plan_id,
        &actor,
        &command,
        Precondition::None,
        key,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.plan_id = Some(view.id);
        n.nhs_number = Some(view.nhs_number.to_string());
        n.plan_version = Some(view.version);
        n.view = Some(View::Plan);
    });
    let mut res = plan_response(actix_web::http::StatusCode::CREATED, &view);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/v1/care-plans/{}", view.id))
            .map_err(|e| ApiError::Internal(Box::new(e)))?,
    );
    Ok(res)
}

/// Which state of the plan to read: now (default), at a version, or at an instant.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AsOf {
    /// The plan as it was at this version.
    pub version: Option<i64>,
    /// The plan as it was at this instant (RFC 3339).
    pub at: Option<DateTime<Utc>>,
}

/// Read a care plan, now or as it was.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}", operation_id = "getCarePlan", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id"), AsOf),
    responses(
        (status = 200, description = "The plan", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Bad id, version or instant", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or not one this caller may see)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}")]
pub async fn get_care_plan(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<AsOf>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(READERS)?;
    let plan_id = parse_plan_id(&path)?;
    note(&req, |n| n.plan_id = Some(plan_id));
    let row = state.db.plan(plan_id).await?;
    if let Some(row) = &row {
        note(&req, |n| n.nhs_number = Some(row.nhs_number.clone()));
    }
    let row = ensure_visible(&actor, row)?;
    let view = match (query.version, query.at) {
        (None, None) => {
            note(&req, |n| {
                n.plan_version = Some(row.version);
                n.view = Some(View::Plan);
            });
            return Ok(tagged(
                StatusCode::OK,
                &ucp_domain::views::plan_etag(row.version),
                &row.document,
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_field(
                "bad_query",
                "",
                "Ask for a version or an instant, not both.",
            ))
        }
        (Some(v), None) => {
            if v < 1 || v > row.version {
                return Err(ApiError::NotFound(format!(
                    "The plan has versions 1 to {}.",
                    row.version
                )));
            }
            plan_at(&state.db, plan_id, v).await?
        }
        (None, Some(at)) => {
            let history = state.db.read_stream(plan_id, StreamBound::AsOf(at)).await?;
            fold(&history)?
                .map(|p| PlanView::of(plan_id, &p))
                .ok_or_else(|| {
                    ApiError::NotFound("The plan did not exist at that instant.".into())
                })?
        }
    };
    note(&req, |n| {
        n.plan_version = Some(view.version);
        n.view = Some(View::Plan);
    });
    Ok(plan_response(actix_web::http::StatusCode::OK, &view))
}

/// Read one section of a care plan.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}/sections/{section}", operation_id = "getSection", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id"), ("section" = PlanSection, Path, description = "Section name")),
    responses(
        (status = 200, description = "The section", body = SectionView, headers(("ETag" = String))),
        (status = 400, description = "Bad id or section name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan or section", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}/sections/{section}")]
pub async fn get_section(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(READERS)?;
    let (id, name) = path.into_inner();
    let plan_id = parse_plan_id(&id)?;
    let section = parse_section(&name)?;
    note(&req, |n| {
        n.plan_id = Some(plan_id);
        n.section = Some(section.name().to_owned());
    });
    let row = state.db.plan(plan_id).await?;
    if let Some(row) = &row {
        note(&req, |n| n.nhs_number = Some(row.nhs_number.clone()));
    }
    let row = ensure_visible(&actor, row)?;
    note(&req, |n| {
        n.plan_version = Some(row.version);
        n.view = Some(View::Section);
    });
    let view = row
        .document
        .get("sections")
        .and_then(|s| s.get(section.name()))
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("The plan has no {section} section yet.")))?;
    let etag = view
        .get("etag")
        .and_then(|e| e.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok(tagged(StatusCode::OK, &etag, &view))
}

/// Replace one section of a care plan.
#[utoipa::path(
    put, path = "/v1/care-plans/{id}/sections/{section}", operation_id = "putSection", tag = "care-plans",
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        ("section" = PlanSection, Path, description = "Section name"),
        ("If-Match" = String, Header, description = "The section's ETag (or the plan's)"),
    ),
    request_body(content = SectionContent, description = "The section's whole new content, in the schema of the section named in the path"),
    responses(
        (status = 200, description = "The section as saved", body = SectionView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, unknown field, bad id or section", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not write plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The section changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values or broken rules", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/care-plans/{id}/sections/{section}")]
pub async fn put_section(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(ETP_WRITERS)?;
    let (id, name) = path.into_inner();
    let plan_id = parse_plan_id(&id)?;
    let section = parse_section(&name)?;
    writes_section(&actor, section)?;
    note(&req, |n| {
        n.plan_id = Some(plan_id);
        n.section = Some(section.name().to_owned());
    });
    let precondition = if_match(&req, Some(section))?;
    let (json, _) = read_json(&req, payload).await?;
    let content = section.parse_content(json).map_err(field_problem)?;
    let (view, _) = execute(
        &state.db,
        plan_id,
        &actor,
        &Command::UpdateSection(content),
        precondition,
        None,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.nhs_number = Some(view.nhs_number.to_string());
        n.plan_version = Some(view.version);
        n.view = Some(View::Section);
    });
    let saved = view
        .sections
        .get(section.name())
        .ok_or_else(|| ApiError::Internal("saved section missing from the plan".into()))?;
    Ok(tagged(StatusCode::OK, &saved.etag, saved))
}

/// Whether the caller may write this section: clinicians any, out-of-hours GPs the Emergency
/// Treatment Plan only.
fn writes_section(actor: &Actor, section: PlanSection) -> Result<(), ApiError> {
    if actor.role == Role::Ooh && section != PlanSection::EmergencyTreatmentPlan {
        return Err(ApiError::Forbidden(
            "The ooh role records and reviews Emergency Treatment Plans only.".into(),
        ));
    }
    Ok(())
}

async fn lifecycle(
    req: HttpRequest,
    path: web::Path<String>,
    payload: Option<web::Payload>,
    actor: Actor,
    state: web::Data<AppState>,
    roles: &[Role],
    make: fn(serde_json::Value) -> Result<Command, ApiError>,
) -> Result<HttpResponse, ApiError> {
    actor.require(roles)?;
    let plan_id = parse_plan_id(&path)?;
    note(&req, |n| n.plan_id = Some(plan_id));
    let precondition = if_match(&req, None)?;
    let json = match payload {
        Some(p) => read_json(&req, p).await?.0,
        None => serde_json::json!({}),
    };
    let command = make(json)?;
    let (view, _) = execute(
        &state.db,
        plan_id,
        &actor,
        &command,
        precondition,
        None,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.nhs_number = Some(view.nhs_number.to_string());
        n.plan_version = Some(view.version);
        n.view = Some(View::Plan);
    });
    Ok(plan_response(actix_web::http::StatusCode::OK, &view))
}

macro_rules! lifecycle_route {
    ($fn:ident, $path:literal, $route:literal, $op:literal, $summary:literal, $body:ty, $roles:expr, $make:expr) => {
        #[doc = $summary]
        #[utoipa::path(
            post, path = $path, operation_id = $op, tag = "care-plans",
            params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = String, Header, description = "The plan's ETag")),
            request_body = $body,
            responses(
                (status = 200, description = "The plan after the change", body = PlanView, headers(("ETag" = String))),
                (status = 400, description = "Malformed JSON, unknown field or bad id", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Role may not do this", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The plan's status does not allow it", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "The plan changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
                (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($route)]
        pub async fn $fn(
            req: HttpRequest,
            path: web::Path<String>,
            payload: web::Payload,
            actor: Actor,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            lifecycle(req, path, Some(payload), actor, state, $roles, $make).await
        }
    };
}

lifecycle_route!(
    review_care_plan,
    "/v1/care-plans/{id}/review",
    "/care-plans/{id}/review",
    "reviewCarePlan",
    "Record a review: who reviewed (from the token) and the next review date.",
    PlanReviewed,
    ETP_WRITERS,
    |json| Ok(Command::ReviewCarePlan(parse(json)?))
);
lifecycle_route!(
    withdraw_care_plan,
    "/v1/care-plans/{id}/withdraw",
    "/care-plans/{id}/withdraw",
    "withdrawCarePlan",
    "Withdraw the plan (a reason is required): the person no longer wants it. Nothing is erased.",
    PlanWithdrawn,
    WRITERS,
    |json| Ok(Command::WithdrawCarePlan(parse(json)?))
);
lifecycle_route!(
    void_care_plan,
    "/v1/care-plans/{id}/void",
    "/care-plans/{id}/void",
    "voidCarePlan",
    "Void the plan: it was made in error (on the wrong person), whether active, withdrawn or the person has died. Nothing is erased.",
    PlanVoided,
    WRITERS,
    |json| Ok(Command::VoidCarePlan(parse(json)?))
);
lifecycle_route!(
    record_death,
    "/v1/care-plans/{id}/person-died",
    "/care-plans/{id}/person-died",
    "recordDeath",
    "Record that the person has died; afterwards the plan can only be voided, or the death retracted if recorded in error.",
    DeathRecorded,
    WRITERS,
    |json| Ok(Command::RecordDeath(parse(json)?))
);
lifecycle_route!(
    retract_death,
    "/v1/care-plans/{id}/retract-death",
    "/care-plans/{id}/retract-death",
    "retractDeath",
    "Retract a death recorded in error: the plan returns to the status it had; the death and its retraction both stay in the history.",
    DeathRetracted,
    WRITERS,
    |json| Ok(Command::RetractDeath(parse(json)?))
);

/// Why a section is retracted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetractSectionRequest {
    /// Why the section was entered in error.
    #[schema(value_type = String)]
    pub reason: ucp_domain::LongText,
}

/// Retract a section entered in error: it leaves the current plan and summary, and stays in the
/// history and in reads as of earlier versions.
#[utoipa::path(
    delete, path = "/v1/care-plans/{id}/sections/{section}", operation_id = "retractSection", tag = "care-plans",
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        ("section" = PlanSection, Path, description = "Section name"),
        ("If-Match" = String, Header, description = "The section's ETag (or the plan's)"),
    ),
    request_body = RetractSectionRequest,
    responses(
        (status = 200, description = "The plan without the section", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, unknown field, bad id or section", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not retract this section", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or it has no such section", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The section changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a section every plan needs", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/care-plans/{id}/sections/{section}")]
pub async fn retract_section(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(ETP_WRITERS)?;
    let (id, name) = path.into_inner();
    let plan_id = parse_plan_id(&id)?;
    let section = parse_section(&name)?;
    writes_section(&actor, section)?;
    note(&req, |n| {
        n.plan_id = Some(plan_id);
        n.section = Some(section.name().to_owned());
    });
    let precondition = if_match(&req, Some(section))?;
    let (json, _) = read_json(&req, payload).await?;
    let body: RetractSectionRequest = parse(json)?;
    let (view, _) = execute(
        &state.db,
        plan_id,
        &actor,
        &Command::RetractSection(SectionRetracted {
            section,
            reason: body.reason,
        }),
        precondition,
        None,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.nhs_number = Some(view.nhs_number.to_string());
        n.plan_version = Some(view.version);
        n.view = Some(View::Plan);
    });
    Ok(plan_response(StatusCode::OK, &view))
}

/// `DELETE` on a plan is not how a plan ends: nothing is ever deleted, and a withdrawal needs a
/// reason. Answered 405, pointing at `POST …/withdraw` (not in the document: not an operation).
#[delete("/care-plans/{id}")]
pub async fn delete_care_plan(path: web::Path<String>, _actor: Actor) -> HttpResponse {
    let mut res = ApiError::MethodNotAllowed(format!(
        "Plans are never deleted. To end plan {}, POST /v1/care-plans/{}/withdraw with a reason \
         (or /void if it was made on the wrong person).",
        path.as_str(),
        path.as_str()
    ))
    .error_response();
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    res
}

/// One change in a plan's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub section: Option<PlanSection>,
    pub changed_by: Author,
    pub at: DateTime<Utc>,
    /// What the change recorded: a section's whole new content, or the lifecycle details.
    pub change: serde_json::Value,
    /// The plan's status after the change.
    pub status_after: PlanStatus,
}

/// Every change to a plan, oldest first.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}/history", operation_id = "getCarePlanHistory", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}/history")]
pub async fn get_history(
    req: HttpRequest,
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(READERS)?;
    let plan_id = parse_plan_id(&path)?;
    note(&req, |n| n.plan_id = Some(plan_id));
    let row = state.db.plan(plan_id).await?;
    if let Some(row) = &row {
        note(&req, |n| n.nhs_number = Some(row.nhs_number.clone()));
    }
    let row = ensure_visible(&actor, row)?;
    note(&req, |n| {
        n.plan_version = Some(row.version);
        n.view = Some(View::History);
    });
    let entries = history(&state.db, plan_id, row.version).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(entries))
}

/// A plan's history up to a version (what was shown to whom is replayed with the same code).
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn history(
    db: &ucp_store::Database,
    plan_id: Uuid,
    version: i64,
) -> Result<Vec<HistoryEntry>, ApiError> {
    let events = db
        .read_stream(plan_id, StreamBound::UpToVersion(version))
        .await?;
    let mut plan = None;
    let mut entries = Vec::with_capacity(events.len());
    for recorded in &events {
        let event = CarePlanEvent::decode(
            &recorded.event_type,
            recorded.schema_version,
            recorded.data.clone(),
        )
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
        let env = envelope(recorded);
        plan = ucp_domain::evolve(plan, &event, &env);
        entries.push(HistoryEntry {
            version: recorded.stream_version,
            event_id: recorded.event_id,
            event_type: recorded.event_type.clone(),
            section: event.section(),
            changed_by: env.author,
            at: recorded.recorded_at,
            change: recorded.data.clone(),
            status_after: plan.as_ref().map_or(PlanStatus::Active, |p| p.status),
        });
    }
    Ok(entries)
}
