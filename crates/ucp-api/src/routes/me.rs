//! `/v1/me`: the person's own plan (as in the NHS App), their own forms, and who looked.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_app::reads;
use ucp_app::writes::{self, Origin};
use ucp_domain::views::PlanView;
use ucp_domain::SectionContent;
use utoipa::{IntoParams, ToSchema};

use super::access::parse_section;
use super::respond::{audited, tagged, tagged_shown};
use crate::auth::{Actor, Caller};
use crate::body::{field_problem, parse, read_json};
use crate::headers::{idempotency_key, if_match};
use crate::paging::{decode_page_cursor, limit, next_page};
use crate::problem::ApiError;
use crate::problem::Problem;
use crate::request_id::request_id;
use ucp_app::AppState;

fn plan_response(status: StatusCode, shown: ucp_app::audit::Shown<PlanView>) -> HttpResponse {
    audited(
        tagged(status, &shown.value.etag, &shown.value),
        shown.access,
    )
}

/// Read my care plan.
#[utoipa::path(
    get, path = "/v1/me/care-plan", operation_id = "getMyCarePlan", tag = "me",
    responses(
        (status = 200, description = "Your plan", body = PlanView, headers(("ETag" = String))),
        (status = 404, description = "No plan yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/care-plan")]
pub async fn get_my_plan(
    req: HttpRequest,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shown = reads::my_plan(&state.db, &actor, request_id(&req)).await?;
    Ok(tagged_shown(StatusCode::OK, shown))
}

/// The person's start body, made from the sections' one table (`ucp_domain::sections`).
pub use ucp_domain::StartMyCarePlanRequest;

/// Start my own care plan.
#[utoipa::path(
    post, path = "/v1/me/care-plan", operation_id = "startMyCarePlan", tag = "me",
    request_body = StartMyCarePlanRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body return the first result; 1 to 255 visible ASCII characters", pattern = r"^[!-~](?:[ -~]{0,253}[!-~])?$")),
    responses(
        (status = 201, description = "Your new plan", body = PlanView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You already have a plan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, or not your own NHS number", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/care-plan")]
pub async fn start_my_plan(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (json, bytes) = read_json(&req, payload).await?;
    let body: StartMyCarePlanRequest = parse(json)?;
    let origin = Origin {
        actor: &actor,
        idempotency: idempotency_key(&req, &actor, &bytes)?,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::start_my_plan(&state.db, origin, body.into_contents()).await?;
    let mut res = plan_response(StatusCode::CREATED, shown);
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
        ("section" = ucp_domain::PlanSection, Path, description = "A person-centred section, or consent-to-share (your own agreement, basis person-agreed: to share your plan again after withdrawing consent)"),
        ("If-Match" = String, Header, description = "The section's ETag (or the plan's)"),
    ),
    request_body(content = SectionContent, description = "The section's whole new content"),
    responses(
        (status = 200, description = "The section as saved", body = ucp_domain::views::SectionView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, unknown field or section", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan yet", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/me/care-plan/sections/{section}")]
pub async fn put_my_section(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let section = parse_section(&path)?;
    // Consent to share is the one clinical form the person gives themselves (the application
    // admits only their own agreement, and only from them).
    if !section.is_person_centred() && section != ucp_domain::PlanSection::ConsentToShare {
        return Err(ApiError::Forbidden(format!(
            "{section} is written by professionals only; ask your care team to change it."
        )));
    }
    let (json, _) = read_json(&req, payload).await?;
    let content = section.parse_content(json).map_err(field_problem)?;
    let precondition = if_match(&req, Some(section))?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::put_my_section(&state.db, origin, content, precondition).await?;
    Ok(audited(
        tagged(StatusCode::OK, &shown.value.etag, &shown.value),
        shown.access,
    ))
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
    let (json, _) = read_json(&req, payload).await?;
    let body: MyWithdrawal = parse(json)?;
    let precondition = if_match(&req, None)?;
    let origin = Origin {
        actor: &actor,
        idempotency: None,
        request_id: request_id(&req),
        signing: &state.signing,
    };
    let shown = writes::withdraw_mine(
        &state.db,
        origin,
        body.reason,
        consent_withdrawn,
        precondition,
    )
    .await?;
    Ok(plan_response(StatusCode::OK, shown))
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
        (status = 404, description = "No plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is already closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/care-plan/withdraw")]
pub async fn withdraw_my_plan(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    withdraw_mine(req, payload, actor, state, false).await
}

/// Withdraw my consent to share: my plan stops being shared beyond me and those caring for me
/// directly (my GP practice, the team that made it); everyone else is told only that I withdrew
/// consent. My recommendations are not revoked, and nothing is erased. To share it again, give
/// consent again (`PUT /v1/me/care-plan/sections/consent-to-share`, basis `person-agreed`).
#[utoipa::path(
    post, path = "/v1/me/care-plan/consent/withdraw", operation_id = "withdrawMyConsent", tag = "me",
    params(("If-Match" = String, Header, description = "The plan's ETag")),
    request_body = MyWithdrawal,
    responses(
        (status = 200, description = "Your plan, no longer shared", body = PlanView, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is closed, or consent is withdrawn already", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/care-plan/consent/withdraw")]
pub async fn withdraw_my_consent(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    withdraw_mine(req, payload, actor, state, true).await
}

/// One access to my plan, as I may see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyAccess {
    pub at: DateTime<Utc>,
    /// clinician, ambulance, nhs111, ooh, dispatch, patient (you), admin, care-home,
    /// privacy-officer.
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
    /// The `next` of the previous page.
    pub before: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Who viewed or changed my plan, and when.
#[utoipa::path(
    get, path = "/v1/me/access-log", operation_id = "getMyAccessLog", tag = "me",
    params(MyAccessQuery),
    responses(
        (status = 200, description = "Newest first", body = MyAccessPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/access-log")]
pub async fn get_my_access_log(
    query: web::Query<MyAccessQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = limit(q.limit)?;
    let before = q
        .before
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(decode_page_cursor)
        .transpose()?;
    let entries = reads::my_access_log(&state.db, &actor, before, limit).await?;
    let next = next_page(&entries, limit);
    let entries = entries
        .into_iter()
        .map(|e| {
            let description = describe(&e, e.actor == actor.sub);
            let name = match e.role.as_str() {
                "patient" if e.actor == actor.sub => Some("you".to_owned()),
                "clinician" | "ambulance" | "nhs111" | "ooh" | "admin" | "webhook" | "proxy"
                | "care-home" | "privacy-officer" | "notifier" => e.actor_name,
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
fn describe(e: &ucp_app::audit::AccessEntry, by_you: bool) -> String {
    let who = if by_you {
        Some("you".to_owned())
    } else {
        e.actor_name.clone()
    };
    let who = match (who, e.role.as_str()) {
        (Some(name), "proxy") => Some(format!("{name} (acting for you)")),
        (None, "proxy") => Some("someone acting for you".to_owned()),
        (who, _) => who,
    };
    let who = who.unwrap_or_else(|| match e.role.as_str() {
        "admin" => "an administrator".to_owned(),
        "privacy-officer" => "a privacy officer".to_owned(),
        "none" => "someone without a valid sign-in".to_owned(),
        role => format!("a {role} user"),
    });
    match (e.action.as_str(), e.status) {
        ("notifyPerson", 201) => {
            return "told you of a change to your plan, in a message through the NHS App".to_owned()
        }
        ("notifyPractice", 201) => {
            return format!(
                "told your GP practice ({}) of a change to your plan",
                e.organisation.as_deref().unwrap_or("unknown")
            )
        }
        ("notifyPerson" | "notifyPractice", _) => {
            return "a message telling of a change to your plan could not be sent after every \
                    attempt: it waits for an administrator to send it again"
                .to_owned()
        }
        _ => {}
    }
    if e.status >= 400 {
        let refusals = e.detail.as_ref().map(|d| &d["refusals"]);
        if let Some(count) = refusals.and_then(|r| r["count"].as_u64()) {
            let time = |key: &str| {
                refusals
                    .and_then(|r| r[key].as_str())
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc).format("%H:%M:%S").to_string())
                    .unwrap_or_default()
            };
            return format!(
                "refused ({}) {count} times between {} and {} UTC: {} tried {}",
                e.status,
                time("from"),
                time("to"),
                who,
                e.action
            );
        }
        return format!("refused ({}): {} tried {}", e.status, who, e.action);
    }
    match (e.role.as_str(), e.action.as_str(), e.view.as_deref()) {
        ("webhook", _, _) => format!("shared with {who}"),
        (_, "getAuditShown", _) => format!("replayed for audit by {who}"),
        (_, "searchAuditLog", _) => format!("your access log was looked at by {who}"),
        (_, "grantAttorneyProxy", _) => {
            format!("{who} gave your attorney proxy access to your plan")
        }
        (_, "grantMyProxy", _) => format!("{who} gave someone proxy access to your plan"),
        (_, "revokeMyProxy", _) => format!("{who} revoked a proxy's access to your plan"),
        (_, "admitResident", _) => format!(
            "{who} of the care home {} recorded that you live there: its staff can read your plan",
            e.organisation.as_deref().unwrap_or("(unnamed)")
        ),
        (_, "recordResidence" | "recordMyResidence", _) => {
            format!("{who} recorded the care home where you live")
        }
        (_, "confirmResidence", _) => format!("{who} confirmed the care home where you live"),
        (_, "putMyNotifications", _) => {
            format!("{who} chose whether you are told of changes to your plan")
        }
        (_, "getMyNotifications", _) => format!("{who} read your choice of messages"),
        (_, "recordPrivacyAlertOutcome", _) => {
            "an access to your record was reviewed by the privacy officer".to_owned()
        }
        (_, "getPrivacyAlert", _) => {
            format!("accesses to your record were looked into by {who}, the privacy officer")
        }
        (_, "listPrivacyAlerts", _) => {
            format!("you were named in the privacy officer's list of alerts, read by {who}")
        }
        (_, "markSensitive", _) => format!(
            "{who} marked your record sensitive: every read of it by staff is now reviewed by \
             the privacy officer"
        ),
        (_, "clearSensitive", _) => format!("{who} cleared the sensitive mark on your record"),
        (_, "endResidence" | "endMyResidence", _) => {
            format!(
                "{who} recorded that you left your care home: its staff no longer read your plan"
            )
        }
        (_, _, Some("residents")) => {
            format!("your care home's list of its residents, which names you, was read by {who}")
        }
        (_, _, Some(view)) if view.starts_with("care-home-") => format!(
            "{who} at your care home read your {}",
            match view {
                "care-home-summary" => "emergency summary",
                "care-home-document" => "printed plan",
                "care-home-section" => "plan (one form)",
                _ => "plan",
            }
        ),
        (_, _, Some("search")) => format!("you were in the results of a search by {who}"),
        (_, _, Some("feed" | "snapshot")) => format!("sent to {who} (dispatch feed)"),
        (_, _, Some("dead-letters")) => format!("an undelivered change was looked at by {who}"),
        (_, _, Some("printed-copy-check")) => format!(
            "someone holding a printed copy of your plan (version {}) checked whether it is still \
             current{}: it was {}",
            e.plan_version.unwrap_or_default(),
            match e
                .detail
                .as_ref()
                .and_then(|d| d["refusals"]["count"].as_u64())
            {
                Some(n) => format!(" ({n} times in a few minutes)"),
                None => String::new(),
            },
            match e
                .detail
                .as_ref()
                .and_then(|d| d["state"].as_str())
                .unwrap_or_default()
            {
                "current" => "current",
                "superseded" => "out of date",
                _ => "no longer current",
            }
        ),
        (_, _, Some(view)) => format!("{who} read your {view}"),
        (_, action, None) => format!("{who}: {action}"),
    }
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_my_plan)
        .service(start_my_plan)
        .service(put_my_section)
        .service(withdraw_my_plan)
        .service(withdraw_my_consent)
        .service(get_my_access_log);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    get_my_plan,
    start_my_plan,
    put_my_section,
    withdraw_my_plan,
    withdraw_my_consent,
    get_my_access_log
))]
pub struct Api;
