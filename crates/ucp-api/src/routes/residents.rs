//! Where the person lives, when it is a care home: `/v1/care-home/residents` (the home admits and
//! lists its residents), `/v1/care-plans/{id}/residence` (a clinician records, confirms or
//! ends it; the home ends its own) and `/v1/me/residence` (the person records or ends theirs).

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpMessage, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use ucp_app::audit::Shown;
use ucp_app::commands::Precondition;
use ucp_app::residents::{self, Admission, ResidenceOutcome, Resident};
use ucp_app::writes::Origin;
use ucp_domain::residence::{ResidenceConfirmed, ResidenceEnded, ResidenceRecorded};
use ucp_domain::{Command, NhsNumber};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::parse_plan_id;
use super::respond::{audited, tagged};
use crate::auth::Caller;
use crate::body::{parse, read_json};
use crate::headers::if_match;
use crate::problem::ApiError;
use crate::problem::Problem;
use crate::request_id::request_id;
use ucp_app::AppState;

/// A care home's admission of a resident: their NHS number and date of birth (both must match
/// their plan), and the day they moved in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdmitResidentRequest {
    #[schema(value_type = String, pattern = r"^[0-9]{10}$", example = "9434765919")]
    pub nhs_number: NhsNumber,
    #[schema(example = "1938-04-12")]
    pub birth_date: NaiveDate,
    /// The day they moved in (today or earlier).
    pub since: NaiveDate,
}

fn outcome_response(shown: Shown<ResidenceOutcome>) -> HttpResponse {
    audited(
        tagged(StatusCode::OK, &shown.value.etag, &shown.value),
        shown.access,
    )
}

fn origin<'a>(req: &HttpRequest, actor: &'a ucp_app::Actor, state: &'a AppState) -> Origin<'a> {
    Origin {
        actor,
        idempotency: None,
        request_id: request_id(req),
        signing: &state.signing,
    }
}

/// Admit a resident (care homes): record that the person lives at your home, as your own
/// declaration. Your staff read their plan from now on (the emergency summary, their own
/// forms, the Emergency Treatment Plan and the printed plan). The person is shown that you
/// recorded it; it stands unconfirmed until a clinician confirms it. A home never takes a
/// resident from another home this way (409): a clinician records the move.
#[utoipa::path(
    post, path = "/v1/care-home/residents", operation_id = "admitResident", tag = "care-homes",
    request_body = AdmitResidentRequest,
    responses(
        (status = 201, description = "The resident, with the residence now on their plan", body = Resident, headers(("Location" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No current plan shared with care homes matches the NHS number and date of birth together", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan already records the person at your home, or at another home (a clinician records a move)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an NHS number or another bad value, or a day they moved in in the future or before the date of birth given", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-home/residents")]
pub async fn admit_resident(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (json, _) = read_json(&req, payload).await?;
    let body: AdmitResidentRequest = parse(json)?;
    // Whatever the answer, the person named is told of the attempt in their access log.
    req.extensions_mut()
        .insert(crate::audit::PersonNamedInBody(body.nhs_number));
    let admission = Admission {
        nhs_number: body.nhs_number,
        birth_date: body.birth_date,
        since: body.since,
    };
    let shown = residents::admit(&state.db, origin(&req, &actor, &state), admission).await?;
    let location = format!("/v1/care-plans/{}", shown.value.plan_id);
    Ok(audited(
        HttpResponse::build(StatusCode::CREATED)
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(&shown.value),
        shown.access,
    ))
}

/// The people who live at your care home (care homes): each whose current plan records your
/// home, by family name. Read each one's plan by its id, their summary by NHS number.
#[utoipa::path(
    get, path = "/v1/care-home/residents", operation_id = "listResidents", tag = "care-homes",
    responses(
        (status = 200, description = "Your residents", body = Vec<Resident>),
    ),
    security(("bearer" = []))
)]
#[get("/care-home/residents")]
pub async fn list_residents(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shown = residents::list(&state.db, &actor).await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(&shown.value),
        shown.access,
    ))
}

async fn change(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    actor: ucp_app::Actor,
    state: web::Data<AppState>,
    make: fn(serde_json::Value) -> Result<Command, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let plan_id: Uuid = parse_plan_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let command = make(json)?;
    let precondition = if_match(&req, None)?;
    let shown = residents::change(
        &state.db,
        origin(&req, &actor, &state),
        plan_id,
        &command,
        precondition,
    )
    .await?;
    Ok(outcome_response(shown))
}

macro_rules! residence_route {
    ($fn:ident, $path:literal, $route:literal, $op:literal, $summary:literal, $body:ty, $make:expr) => {
        #[doc = $summary]
        #[utoipa::path(
            post, path = $path, operation_id = $op, tag = "care-homes",
            params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = String, Header, description = "The plan's ETag")),
            request_body = $body,
            responses(
                (status = 200, description = "Where the person's residence stands after the change", body = ResidenceOutcome, headers(("ETag" = String))),
                (status = 400, description = "Malformed JSON, an unknown field or a bad id", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The plan's status does not allow it, or the residence on record is not the one named", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "The plan changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid values (a date in the future, or before the residence began)", body = Problem, content_type = "application/problem+json"),
                (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
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
            change(req, path, payload, actor, state, $make).await
        }
    };
}

residence_route!(
    record_residence,
    "/v1/care-plans/{id}/residence",
    "/care-plans/{id}/residence",
    "recordResidence",
    "Record the care home where the person lives (clinicians): confirmed as you record it; the home's staff read the plan from now on. Replaces any residence on record.",
    ResidenceRecorded,
    |json| Ok(Command::RecordResidence(parse(json)?))
);
residence_route!(
    confirm_residence,
    "/v1/care-plans/{id}/residence/confirm",
    "/care-plans/{id}/residence/confirm",
    "confirmResidence",
    "Confirm that the person lives at the care home that admitted them (clinicians), naming the home you confirm.",
    ResidenceConfirmed,
    |json| Ok(Command::ConfirmResidence(parse(json)?))
);
residence_route!(
    end_residence,
    "/v1/care-plans/{id}/residence/end",
    "/care-plans/{id}/residence/end",
    "endResidence",
    "Record that the person left the care home (clinicians, or the home itself for its own resident): its staff read the plan no longer.",
    ResidenceEnded,
    |json| Ok(Command::EndResidence(parse(json)?))
);

async fn change_mine(
    req: HttpRequest,
    payload: web::Payload,
    actor: ucp_app::Actor,
    state: web::Data<AppState>,
    make: fn(serde_json::Value) -> Result<Command, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (json, _) = read_json(&req, payload).await?;
    let command = make(json)?;
    let precondition: Precondition = if_match(&req, None)?;
    let shown = residents::change_mine(
        &state.db,
        origin(&req, &actor, &state),
        &command,
        precondition,
    )
    .await?;
    Ok(outcome_response(shown))
}

/// Record the care home where I live: its staff can read my care plan while I live there.
#[utoipa::path(
    put, path = "/v1/me/residence", operation_id = "recordMyResidence", tag = "me",
    params(("If-Match" = String, Header, description = "Your plan's ETag")),
    request_body = ResidenceRecorded,
    responses(
        (status = 200, description = "Where your residence stands", body = ResidenceOutcome, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Your plan is closed, or already says this", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A date in the future", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/me/residence")]
pub async fn record_my_residence(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_mine(req, payload, actor, state, |json| {
        Ok(Command::RecordResidence(parse(json)?))
    })
    .await
}

/// Record that I left the care home: its staff can no longer read my care plan.
#[utoipa::path(
    post, path = "/v1/me/residence/end", operation_id = "endMyResidence", tag = "me",
    params(("If-Match" = String, Header, description = "Your plan's ETag")),
    request_body = ResidenceEnded,
    responses(
        (status = 200, description = "Where your residence stands", body = ResidenceOutcome, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Your plan is closed, or records no such home", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A date in the future or before you moved in", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/residence/end")]
pub async fn end_my_residence(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_mine(req, payload, actor, state, |json| {
        Ok(Command::EndResidence(parse(json)?))
    })
    .await
}

/// This module's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(admit_resident)
        .service(list_residents)
        .service(record_residence)
        .service(confirm_residence)
        .service(end_residence)
        .service(record_my_residence)
        .service(end_my_residence);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    admit_resident,
    list_residents,
    record_residence,
    confirm_residence,
    end_residence,
    record_my_residence,
    end_my_residence
))]
pub struct Api;
