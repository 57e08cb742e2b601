//! `/v1/care-plans`: create, read (now, at a version, at an instant), replace a section,
//! lifecycle commands, history.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use ucp_app::reads::{self, AsOf, HistoryEntry};
use ucp_app::writes::{self, Origin};
use ucp_domain::views::{PlanView, SectionView};
use ucp_domain::{
    Command, DeathRecorded, DeathRetracted, PlanReviewed, PlanSection, PlanVoided, PlanWithdrawn,
    SectionContent,
};
use utoipa::{IntoParams, ToSchema};

use super::access::{parse_plan_id, parse_section};
use super::respond::{audited, tagged, tagged_or_unchanged};
use crate::auth::Caller;
use crate::body::{field_problem, parse, read_json};
use crate::headers::{idempotency_key, if_match};
use crate::problem::ApiError;
use crate::problem::{ErrorCode, Problem};
use crate::request_id::request_id;
use ucp_app::AppState;

/// The create body, made from the sections' one table (`ucp_domain::sections`).
pub use ucp_domain::CreateCarePlanRequest;

/// The command a create body asks for.
fn create_command(body: CreateCarePlanRequest) -> Result<Command, ApiError> {
    Command::create_plan(body.into_contents()).map_err(|errors| ApiError::Unprocessable {
        code: ErrorCode::ValidationFailed,
        detail: "A plan needs Personal Information and Consent to Share.".into(),
        errors,
    })
}

fn plan_response(status: StatusCode, shown: ucp_app::audit::Shown<PlanView>) -> HttpResponse {
    audited(
        tagged(status, &shown.value.etag, &shown.value),
        shown.access,
    )
}

/// Create a care plan.
#[utoipa::path(
    post, path = "/v1/care-plans", operation_id = "createCarePlan", tag = "care-plans",
    request_body = CreateCarePlanRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body return the first result; 1 to 255 visible ASCII characters", pattern = r"^[!-~](?:[ -~]{0,253}[!-~])?$")),
    responses(
        (status = 201, description = "Created", body = PlanView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person already has an active plan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, or an Idempotency-Key reused for another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-plans")]
pub async fn create_care_plan(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (json, bytes) = read_json(&req, payload).await?;
    let command = create_command(parse::<CreateCarePlanRequest>(json)?)?;
    let origin = Origin {
        actor: &actor,
        idempotency: idempotency_key(&req, &actor, &bytes)?,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::create_plan(&state.db, origin, &command).await?;
    let location = format!("/v1/care-plans/{}", shown.value.id);
    let mut res = plan_response(StatusCode::CREATED, shown);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(Box::new(e)))?,
    );
    Ok(res)
}

/// Which state of the plan to read: now (default), at a version, or at an instant.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The plan as it was at this version (not with `at`).
    #[param(minimum = 1)]
    pub version: Option<i64>,
    /// The plan as it was at this instant (RFC 3339; not with `version`).
    pub at: Option<DateTime<Utc>>,
}

impl AsOfQuery {
    /// The state asked for: a version or an instant, not both.
    fn as_of(&self) -> Result<AsOf, ApiError> {
        match (self.version, self.at) {
            (None, None) => Ok(AsOf::Now),
            (Some(v), None) => Ok(AsOf::Version(v)),
            (None, Some(at)) => Ok(AsOf::At(at)),
            (Some(_), Some(_)) => Err(ApiError::bad_field(
                ErrorCode::BadQuery,
                "",
                "Ask for a version or an instant, not both.",
            )),
        }
    }
}

/// Read a care plan, now or as it was.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}", operation_id = "getCarePlan", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id"), AsOfQuery, ("If-None-Match" = Option<String>, Header, description = "The ETag you hold: 304 when it is still current")),
    responses(
        (status = 200, description = "The plan", body = PlanView, headers(("ETag" = String))),
        (status = 304, description = "Unchanged: the If-None-Match ETag is the current one", headers(("ETag" = String))),
        (status = 400, description = "Bad id, version or instant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or not one this caller may see)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}")]
pub async fn get_care_plan(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<AsOfQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let as_of = query.as_of()?;
    let shown = reads::plan(&state.db, &actor, plan_id, as_of).await?;
    Ok(tagged_or_unchanged(
        &req,
        &shown.value.etag,
        &shown.value.body,
        shown.access,
    ))
}

/// Read one section of a care plan.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}/sections/{section}", operation_id = "getSection", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id"), ("section" = PlanSection, Path, description = "Section name"), ("If-None-Match" = Option<String>, Header, description = "The ETag you hold: 304 when it is still current")),
    responses(
        (status = 200, description = "The section", body = SectionView, headers(("ETag" = String))),
        (status = 304, description = "Unchanged: the If-None-Match ETag is the current one", headers(("ETag" = String))),
        (status = 400, description = "Bad id or section name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan or section", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}/sections/{section}")]
pub async fn get_section(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let plan_id = parse_plan_id(&id)?;
    let section = parse_section(&name)?;
    let shown = reads::section(&state.db, &actor, plan_id, section).await?;
    Ok(tagged_or_unchanged(
        &req,
        &shown.value.etag,
        &shown.value.body,
        shown.access,
    ))
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
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The section changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values or broken rules", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/care-plans/{id}/sections/{section}")]
pub async fn put_section(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let plan_id = parse_plan_id(&id)?;
    let section = parse_section(&name)?;
    let (json, _) = read_json(&req, payload).await?;
    let content = section.parse_content(json).map_err(field_problem)?;
    let precondition = if_match(&req, Some(section))?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::put_section(&state.db, origin, plan_id, content, precondition).await?;
    Ok(section_response(shown))
}

fn section_response(shown: ucp_app::audit::Shown<SectionView>) -> HttpResponse {
    audited(
        tagged(StatusCode::OK, &shown.value.etag, &shown.value),
        shown.access,
    )
}

async fn lifecycle(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    actor: ucp_app::Actor,
    state: web::Data<AppState>,
    make: fn(serde_json::Value) -> Result<Command, ApiError>,
) -> Result<HttpResponse, ApiError> {
    // Refused roles are refused before their body is read; the application checks each
    // command's own roles.
    let plan_id = parse_plan_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let command = make(json)?;
    let precondition = if_match(&req, None)?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::lifecycle(&state.db, origin, plan_id, &command, precondition).await?;
    Ok(plan_response(StatusCode::OK, shown))
}

macro_rules! lifecycle_route {
    ($fn:ident, $path:literal, $route:literal, $op:literal, $summary:literal, $body:ty, $make:expr) => {
        #[doc = $summary]
        #[utoipa::path(
            post, path = $path, operation_id = $op, tag = "care-plans",
            params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = String, Header, description = "The plan's ETag")),
            request_body = $body,
            responses(
                (status = 200, description = "The plan after the change", body = PlanView, headers(("ETag" = String))),
                (status = 400, description = "Malformed JSON, unknown field or bad id", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The plan's status does not allow it", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "The plan changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($route)]
        pub async fn $fn(
            req: HttpRequest,
            path: web::Path<String>,
            payload: web::Payload,
            Caller(actor): Caller,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            lifecycle(req, path, payload, actor, state, $make).await
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
    |json| Ok(Command::ReviewCarePlan(parse(json)?))
);
lifecycle_route!(
    withdraw_care_plan,
    "/v1/care-plans/{id}/withdraw",
    "/care-plans/{id}/withdraw",
    "withdrawCarePlan",
    "Withdraw the plan (a reason is required): the person no longer wants it. Nothing is erased.",
    PlanWithdrawn,
    |json| {
        let withdrawal: PlanWithdrawn = parse(json)?;
        // Consent to share withdrawn is not the plan withdrawn: its own event and state.
        Ok(if withdrawal.consent_withdrawn {
            Command::WithdrawConsentToShare(ucp_domain::ConsentWithdrawn {
                reason: withdrawal.reason,
            })
        } else {
            Command::WithdrawCarePlan(withdrawal)
        })
    }
);
lifecycle_route!(
    withdraw_consent,
    "/v1/care-plans/{id}/consent/withdraw",
    "/care-plans/{id}/consent/withdraw",
    "withdrawConsentToShare",
    "Record that the person withdrew their consent to share (a reason is required), as a clinician of an organisation caring for them. The plan stays active and its recommendations stand; it is seen only by the person and those caring organisations, and everyone else who could read it is told consent was withdrawn. Recording Consent to Share again shares it again.",
    ucp_domain::ConsentWithdrawn,
    |json| Ok(Command::WithdrawConsentToShare(parse(json)?))
);
lifecycle_route!(
    void_care_plan,
    "/v1/care-plans/{id}/void",
    "/care-plans/{id}/void",
    "voidCarePlan",
    "Void the plan: it was made in error (on the wrong person), whether active, withdrawn or the person has died. Nothing is erased.",
    PlanVoided,
    |json| Ok(Command::VoidCarePlan(parse(json)?))
);
lifecycle_route!(
    record_death,
    "/v1/care-plans/{id}/person-died",
    "/care-plans/{id}/person-died",
    "recordDeath",
    "Record that the person has died; afterwards the plan can only be voided, or the death retracted if recorded in error.",
    DeathRecorded,
    |json| Ok(Command::RecordDeath(parse(json)?))
);
lifecycle_route!(
    retract_death,
    "/v1/care-plans/{id}/retract-death",
    "/care-plans/{id}/retract-death",
    "retractDeath",
    "Retract a death recorded in error: the plan returns to the status it had; the death and its retraction both stay in the history.",
    DeathRetracted,
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
        (status = 404, description = "No such plan, or it has no such section", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The section changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a section every plan needs", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/care-plans/{id}/sections/{section}")]
pub async fn retract_section(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let plan_id = parse_plan_id(&id)?;
    let section = parse_section(&name)?;
    let (json, _) = read_json(&req, payload).await?;
    let body: RetractSectionRequest = parse(json)?;
    let precondition = if_match(&req, Some(section))?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::retract_section(
        &state.db,
        origin,
        plan_id,
        section,
        body.reason,
        precondition,
    )
    .await?;
    Ok(plan_response(StatusCode::OK, shown))
}

/// Countersign the Emergency Treatment Plan as it stands.
///
/// The signer is the caller: their name comes from their sign-in, and their registration from
/// it where it carries one (otherwise from the body; both must agree). `digest` is the form's
/// `decisionDigest` as the signer read it: a decision that changed since cannot be signed
/// unseen (409 `decision_changed`, naming the current digest).
#[utoipa::path(
    post,
    path = "/v1/care-plans/{id}/sections/emergency-treatment-plan/signatures",
    operation_id = "countersignEmergencyTreatmentPlan",
    tag = "care-plans",
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        ("If-Match" = String, Header, description = "The form's ETag (or the plan's)"),
    ),
    request_body = ucp_domain::Countersignature,
    responses(
        (status = 200, description = "The form with the signature added", body = SectionView, headers(("ETag" = String))),
        (status = 404, description = "No such plan, or it has no Emergency Treatment Plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed, the decision changed since the digest was read, or the caller signed it already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A registration not in its register's form, or a designation that may not sign as senior responsible clinician", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-plans/{id}/sections/emergency-treatment-plan/signatures")]
pub async fn countersign(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let body: ucp_domain::Countersignature = parse(json)?;
    let precondition = if_match(&req, Some(PlanSection::EmergencyTreatmentPlan))?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::countersign(&state.db, origin, plan_id, body, precondition).await?;
    Ok(section_response(shown))
}

/// `DELETE` on a plan is not how a plan ends: nothing is ever deleted, and a withdrawal needs a
/// reason. Answered 405, pointing at `POST …/withdraw` (not in the document: not an operation).
#[delete("/care-plans/{id}")]
pub async fn delete_care_plan(path: web::Path<String>, _caller: Caller) -> HttpResponse {
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

/// Every change to a plan, oldest first.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}/history", operation_id = "getCarePlanHistory", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}/history")]
pub async fn get_history(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let shown = reads::history(&state.db, &actor, plan_id).await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown.value),
        shown.access,
    ))
}

/// Which changes: after the version the reader holds.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// The version the reader holds (0: from the start).
    #[param(minimum = 0)]
    pub since: i64,
    /// Up to this version; default the current one.
    #[param(minimum = 0)]
    pub until: Option<i64>,
}

/// What changed in a plan since a version: each change with who, when, and a JSON Patch from
/// the plan document before it to the document after it.
#[utoipa::path(
    get, path = "/v1/care-plans/{id}/changes", operation_id = "getCarePlanChanges", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id"), SinceQuery),
    responses(
        (status = 200, description = "The changes after `since`, oldest first", body = ucp_app::since::PlanChanges),
        (status = 400, description = "Bad id or query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or not one this caller may see)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "since or until outside the plan's versions", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}/changes")]
pub async fn get_changes(
    path: web::Path<String>,
    query: web::Query<SinceQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let range = ucp_app::since::Range {
        since: query.since,
        until: query.until,
    };
    let shown = ucp_app::since::plan_changes(&state.db, &actor, plan_id, range).await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown.value),
        shown.access,
    ))
}

/// The plan on paper: a ReSPECT-style PDF (emergency page first, then the person's own forms,
/// then the clinical sections), now or as it was. Every page carries the version, when it was
/// produced, the plan's status, a QR code and link to the live plan, and "Check for a newer
/// version".
#[utoipa::path(
    get, path = "/v1/care-plans/{id}/document", operation_id = "getCarePlanDocument", tag = "care-plans",
    params(("id" = Uuid, Path, description = "Plan id"), AsOfQuery),
    responses(
        (status = 200, description = "The plan as a PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, description = "Bad id, version or instant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan or version (or not one this caller may see)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/care-plans/{id}/document")]
pub async fn get_document(
    path: web::Path<String>,
    query: web::Query<AsOfQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    settings: web::Data<ucp_app::print::PrintSettings>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let as_of = query.as_of()?;
    let shown = reads::document(&state.db, &actor, plan_id, as_of, Utc::now(), &settings).await?;
    let version = shown.access.plan_version.unwrap_or_default();
    Ok(audited(
        HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"care-plan-{plan_id}-v{version}.pdf\""),
            ))
            .body(shown.value),
        shown.access,
    ))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_care_plan)
        .service(get_history)
        .service(get_changes)
        .service(get_document)
        .service(get_section)
        .service(countersign)
        .service(put_section)
        .service(review_care_plan)
        .service(withdraw_care_plan)
        .service(withdraw_consent)
        .service(void_care_plan)
        .service(record_death)
        .service(retract_death)
        .service(retract_section)
        .service(get_care_plan)
        .service(delete_care_plan);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_care_plan,
    get_care_plan,
    get_section,
    put_section,
    countersign,
    review_care_plan,
    withdraw_care_plan,
    withdraw_consent,
    void_care_plan,
    record_death,
    retract_death,
    retract_section,
    get_history,
    get_changes,
    get_document
))]
pub struct Api;
