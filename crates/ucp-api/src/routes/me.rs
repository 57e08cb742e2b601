//! `/v1/me`: the person's own plan (as in the NHS App), their own forms, and who looked.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::views::{plan_etag, PlanView};
use ucp_domain::{Command, ConsentBasis, ConsentToShare, NhsNumber, PlanStatus, SectionContent};
use ucp_store::AccessQuery;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::access::parse_section;
use super::audit::{decode_page_cursor, limit, next_page};
use super::respond::tagged;
use crate::audit::{note, View};
use crate::auth::{Actor, Role};
use crate::body::{field_problem, parse, read_json};
use crate::commands::{execute, parse_if_match, Precondition};
use crate::problem::Problem;
use crate::request_id::request_id;
use crate::{ApiError, AppState};
use actix_web::http::StatusCode;

fn own_number(actor: &Actor) -> Result<NhsNumber, ApiError> {
    actor.require(&[Role::Patient])?;
    actor.nhs_number.ok_or_else(|| {
        ApiError::Unauthorized("A patient token must carry an nhs_number claim.".into())
    })
}

/// The person's plan id and version, if they have one they may see (anything but voided).
async fn own_plan(state: &AppState, nhs: NhsNumber) -> Result<ucp_store::PlanRow, ApiError> {
    state
        .db
        .plan_for_person(&nhs.to_string())
        .await?
        .filter(|row| row.status != PlanStatus::Voided.as_str())
        .ok_or_else(|| ApiError::NotFound("You do not have a care plan yet.".into()))
}

/// Read my care plan.
#[utoipa::path(
    get, path = "/v1/me/care-plan", operation_id = "getMyCarePlan", tag = "me",
    responses(
        (status = 200, description = "Your plan", body = PlanView, headers(("ETag" = String))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Patients only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/care-plan")]
pub async fn get_my_plan(
    req: HttpRequest,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = own_number(&actor)?;
    let row = own_plan(&state, nhs).await?;
    note(&req, |n| {
        n.plan_id = Some(row.plan_id);
        n.plan_version = Some(row.version);
        n.view = Some(View::Plan);
    });
    Ok(tagged(
        StatusCode::OK,
        &plan_etag(row.version),
        &row.document,
    ))
}

/// Starting my own plan: my personal information and any of my own forms; I consent myself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartMyCarePlanRequest {
    pub personal_information: ucp_domain::PersonalInformation,
    pub contacts: Option<ucp_domain::Contacts>,
    pub communication_and_accessibility: Option<ucp_domain::CommunicationAndAccessibility>,
    pub what_matters: Option<ucp_domain::WhatMatters>,
    pub thinking_ahead: Option<ucp_domain::ThinkingAhead>,
    pub support_needs: Option<ucp_domain::SupportNeeds>,
}

/// Start my own care plan.
#[utoipa::path(
    post, path = "/v1/me/care-plan", operation_id = "startMyCarePlan", tag = "me",
    request_body = StartMyCarePlanRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely")),
    responses(
        (status = 201, description = "Your new plan", body = PlanView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Patients only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You already have a plan", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, or not your own NHS number", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/care-plan")]
pub async fn start_my_plan(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = own_number(&actor)?;
    let (json, bytes) = read_json(&req, payload).await?;
    let body: StartMyCarePlanRequest = parse(json)?;
    if body.personal_information.nhs_number != nhs {
        return Err(ApiError::Unprocessable {
            code: "not_your_nhs_number",
            detail: "A plan you start must carry your own NHS number.".into(),
            errors: vec![ucp_domain::FieldError::new(
                "/personalInformation/nhsNumber",
                "must be your own NHS number",
            )],
        });
    }
    let others = [
        body.contacts.map(SectionContent::Contacts),
        body.communication_and_accessibility
            .map(SectionContent::CommunicationAndAccessibility),
        body.what_matters.map(SectionContent::WhatMatters),
        body.thinking_ahead.map(SectionContent::ThinkingAhead),
        body.support_needs.map(SectionContent::SupportNeeds),
    ];
    let command = Command::CreateCarePlan {
        personal_information: body.personal_information,
        consent_to_share: ConsentToShare {
            basis: ConsentBasis::PersonAgreed,
            decided_by: None,
            consulted: Vec::new(),
            date: Utc::now().date_naive(),
        },
        other_sections: others.into_iter().flatten().collect(),
    };
    let key = super::care_plans::idempotency_key(&req, &actor, &bytes)?;
    let (view, _) = execute(
        &state.db,
        Uuid::now_v7(),
        &actor,
        &command,
        Precondition::None,
        key,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.plan_id = Some(view.id);
        n.plan_version = Some(view.version);
        n.view = Some(View::Plan);
    });
    let mut res = tagged(StatusCode::CREATED, &view.etag, &view);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_static("/v1/me/care-plan"),
    );
    Ok(res)
}

/// Replace one of my own forms.
#[utoipa::path(
    put, path = "/v1/me/care-plan/sections/{section}", operation_id = "putMySection", tag = "me",
    params(
        ("section" = ucp_domain::PlanSection, Path, description = "A person-centred section"),
        ("If-Match" = String, Header, description = "The section's ETag (or the plan's)"),
    ),
    request_body(content = SectionContent, description = "The section's whole new content"),
    responses(
        (status = 200, description = "The section as saved", body = ucp_domain::views::SectionView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, unknown field or section", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Clinical sections, or your name, NHS number or birth date", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan yet", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/me/care-plan/sections/{section}")]
pub async fn put_my_section(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = own_number(&actor)?;
    let section = parse_section(&path)?;
    if !section.is_person_centred() {
        return Err(ApiError::Forbidden(format!(
            "{section} is written by professionals only; ask your care team to change it."
        )));
    }
    let row = own_plan(&state, nhs).await?;
    note(&req, |n| {
        n.plan_id = Some(row.plan_id);
        n.section = Some(section.name().to_owned());
    });
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::PreconditionRequired("Send If-Match with the ETag you last read.".into())
        })?
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed("If-Match is not a valid ETag.".into()))?;
    let precondition = parse_if_match(value, Some(section))?;
    let (json, _) = read_json(&req, payload).await?;
    let content = section.parse_content(json).map_err(field_problem)?;
    let (view, _) = execute(
        &state.db,
        row.plan_id,
        &actor,
        &Command::UpdateSection(content),
        precondition,
        None,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.plan_version = Some(view.version);
        n.view = Some(View::Section);
    });
    let saved = view
        .sections
        .get(section.name())
        .ok_or_else(|| ApiError::Internal("saved section missing from the plan".into()))?;
    Ok(tagged(StatusCode::OK, &saved.etag, saved))
}

/// Why I am withdrawing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MyWithdrawal {
    /// In your own words; it is kept with the plan's history.
    #[schema(value_type = String)]
    pub reason: ucp_domain::LongText,
}

async fn withdraw_mine(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
    consent_withdrawn: bool,
) -> Result<HttpResponse, ApiError> {
    let nhs = own_number(&actor)?;
    let row = own_plan(&state, nhs).await?;
    note(&req, |n| n.plan_id = Some(row.plan_id));
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::PreconditionRequired("Send If-Match with the plan's ETag.".into())
        })?
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed("If-Match is not a valid ETag.".into()))?;
    let precondition = parse_if_match(value, None)?;
    let (json, _) = read_json(&req, payload).await?;
    let body: MyWithdrawal = parse(json)?;
    let (view, _) = execute(
        &state.db,
        row.plan_id,
        &actor,
        &Command::WithdrawCarePlan(ucp_domain::PlanWithdrawn {
            reason: Some(body.reason),
            consent_withdrawn,
        }),
        precondition,
        None,
        request_id(&req),
    )
    .await?;
    note(&req, |n| {
        n.plan_version = Some(view.version);
        n.view = Some(View::Plan);
    });
    Ok(tagged(StatusCode::OK, &view.etag, &view))
}

/// Withdraw my plan: I no longer want one. It stops being shown to crews, 111 and GPs at once;
/// nothing is erased.
#[utoipa::path(
    post, path = "/v1/me/care-plan/withdraw", operation_id = "withdrawMyCarePlan", tag = "me",
    params(("If-Match" = String, Header, description = "The plan's ETag")),
    request_body = MyWithdrawal,
    responses(
        (status = 200, description = "Your plan, withdrawn", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Patients only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is already closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/care-plan/withdraw")]
pub async fn withdraw_my_plan(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    withdraw_mine(req, payload, actor, state, false).await
}

/// Withdraw my consent to share: my plan stops being shared (it is withdrawn, marked as my
/// consent withdrawn); nothing is erased.
#[utoipa::path(
    post, path = "/v1/me/care-plan/consent/withdraw", operation_id = "withdrawMyConsent", tag = "me",
    params(("If-Match" = String, Header, description = "The plan's ETag")),
    request_body = MyWithdrawal,
    responses(
        (status = 200, description = "Your plan, no longer shared", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Patients only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is already closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/care-plan/consent/withdraw")]
pub async fn withdraw_my_consent(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    withdraw_mine(req, payload, actor, state, true).await
}

/// One access to my plan, as I may see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyAccess {
    pub at: DateTime<Utc>,
    /// clinician, ambulance, nhs111, ooh, dispatch, patient (you), admin.
    pub role: String,
    pub organisation: Option<String>,
    /// The professional's name, for roles whose staff are named; "you" for your own access.
    pub name: Option<String>,
    /// What they did: the operation (e.g. getEmergencySummary, putSection).
    pub action: String,
    /// What was shown: plan, section, summary, history or search (you were in the results).
    pub view: Option<String>,
    pub purpose: Option<String>,
    /// Whether it was served (2xx) or refused.
    pub status: i16,
    /// The access in words: "read your emergency summary", "shared with LAS dispatch",
    /// "replayed for audit by …", "refused: …".
    pub description: String,
}

/// A page of my access log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyAccessPage {
    pub entries: Vec<MyAccess>,
    pub next: Option<String>,
}

/// The page of my log to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyAccessQuery {
    pub before: Option<String>,
    pub limit: Option<i64>,
}

/// Who viewed or changed my plan, and when.
#[utoipa::path(
    get, path = "/v1/me/access-log", operation_id = "getMyAccessLog", tag = "me",
    params(MyAccessQuery),
    responses(
        (status = 200, description = "Newest first", body = MyAccessPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Patients only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/access-log")]
pub async fn get_my_access_log(
    query: web::Query<MyAccessQuery>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nhs = own_number(&actor)?;
    let q = query.into_inner();
    let limit = limit(q.limit)?;
    let entries = state
        .db
        .access_log(&AccessQuery {
            nhs_number: Some(nhs.to_string()),
            before: q.before.as_deref().map(decode_page_cursor).transpose()?,
            include_searches: true,
            limit,
            ..AccessQuery::default()
        })
        .await?;
    let next = next_page(&entries, limit);
    let entries = entries
        .into_iter()
        .map(|e| {
            let description = describe(&e, e.actor == actor.sub);
            let name = match e.role.as_str() {
                "patient" if e.actor == actor.sub => Some("you".to_owned()),
                "clinician" | "ambulance" | "nhs111" | "ooh" | "admin" | "webhook" => e.actor_name,
                _ => None,
            };
            MyAccess {
                description,
                at: e.at,
                role: e.role,
                organisation: e.organisation,
                name,
                action: e.action,
                view: e.view,
                purpose: e.purpose,
                status: e.status,
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(MyAccessPage { entries, next }))
}

/// One entry of the person's log in words they can read.
fn describe(e: &ucp_store::AccessEntry, by_you: bool) -> String {
    let who = if by_you {
        Some("you".to_owned())
    } else {
        e.actor_name.clone()
    };
    let who = who.unwrap_or_else(|| match e.role.as_str() {
        "admin" => "an administrator".to_owned(),
        "none" => "someone without a valid sign-in".to_owned(),
        role => format!("a {role} user"),
    });
    if e.status >= 400 {
        return format!("refused ({}): {} tried {}", e.status, who, e.action);
    }
    match (e.role.as_str(), e.action.as_str(), e.view.as_deref()) {
        ("webhook", _, _) => format!("shared with {who}"),
        (_, "getAuditShown", _) => format!("replayed for audit by {who}"),
        (_, "searchAuditLog", _) => format!("your access log was looked at by {who}"),
        (_, _, Some("search")) => format!("you were in the results of a search by {who}"),
        (_, _, Some("feed" | "snapshot")) => format!("sent to {who} (dispatch feed)"),
        (_, _, Some("dead-letters")) => format!("an undelivered change was looked at by {who}"),
        (_, _, Some(view)) => format!("{who} read your {view}"),
        (_, action, None) => format!("{who}: {action}"),
    }
}
