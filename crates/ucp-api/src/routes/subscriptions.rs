//! `/v1/subscriptions` (admin): webhooks for the dispatch system and other followers.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::{section_event_type, PlanSection};
use ucp_store::{DeadLetter, Subscription};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::body::{parse, read_json};
use crate::problem::Problem;
use crate::webhooks::{deliver, DeliveryConfig};
use crate::{ApiError, AppState};

/// What to do when a change cannot be delivered after the last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Park it as a dead letter and go on with later changes.
    Continue,
    /// Park it and hold later changes until it is redelivered.
    Wait,
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSubscription {
    /// Where to POST changes (http or https).
    pub target_url: String,
    /// Change types wanted (e.g. `CarePlanCreated`, `EmergencyTreatmentPlanRecorded`,
    /// `CarePlanVoided`); empty or absent: all.
    #[serde(default)]
    pub change_types: Vec<String>,
    /// Shared secret for the HMAC-SHA256 signature; 16 to 256 characters.
    pub secret: String,
    #[serde(default = "default_on_failure")]
    pub on_failure: OnFailure,
    /// Attempts before a change is parked; 1 to 50, default 8.
    #[serde(default = "default_attempts")]
    pub max_attempts: i32,
}

fn default_on_failure() -> OnFailure {
    OnFailure::Continue
}

fn default_attempts() -> i32 {
    8
}

/// A subscription as served (the secret is never shown again).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: Uuid,
    pub target_url: String,
    pub change_types: Vec<String>,
    pub on_failure: String,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl From<Subscription> for SubscriptionView {
    fn from(s: Subscription) -> Self {
        Self {
            id: s.subscription_id,
            target_url: s.target_url,
            change_types: s.change_types,
            on_failure: s.on_failure,
            max_attempts: s.max_attempts,
            created_at: s.created_at,
            created_by: s.created_by,
        }
    }
}

/// A parked change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    pub id: Uuid,
    pub change_id: Uuid,
    /// The change as it would be delivered.
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub last_error: String,
    pub parked_at: DateTime<Utc>,
    pub redelivered_at: Option<DateTime<Utc>>,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(d: DeadLetter) -> Self {
        Self {
            id: d.dead_letter_id,
            change_id: d.change_id,
            payload: d.payload,
            attempts: d.attempts,
            last_error: d.last_error,
            parked_at: d.parked_at,
            redelivered_at: d.redelivered_at,
        }
    }
}

fn change_types() -> Vec<&'static str> {
    let mut types = vec![
        "CarePlanCreated",
        "CarePlanReviewed",
        "CarePlanWithdrawn",
        "PersonDied",
        "CarePlanVoided",
    ];
    types.extend(PlanSection::ALL.iter().map(|s| section_event_type(*s)));
    types
}

fn validate(new: &NewSubscription) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    match reqwest::Url::parse(&new.target_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
        _ => errors.push(ucp_domain::FieldError::new(
            "/targetUrl",
            "must be an http(s) URL with a host",
        )),
    }
    let known = change_types();
    for (i, t) in new.change_types.iter().enumerate() {
        if !known.contains(&t.as_str()) {
            errors.push(ucp_domain::FieldError::new(
                format!("/changeTypes/{i}"),
                format!("{t:?} is not a change type; they are {}", known.join(", ")),
            ));
        }
    }
    if !(16..=256).contains(&new.secret.chars().count()) {
        errors.push(ucp_domain::FieldError::new(
            "/secret",
            "must be 16 to 256 characters",
        ));
    }
    if !(1..=50).contains(&new.max_attempts) {
        errors.push(ucp_domain::FieldError::new(
            "/maxAttempts",
            "must be 1 to 50",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Unprocessable {
            code: "validation_failed",
            detail: "The subscription is not valid.".into(),
            errors,
        })
    }
}

fn parse_id(text: &str, pointer: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_field(
            "bad_id",
            pointer,
            format!("{text:?} is not an id (a UUID)."),
        )
    })
}

async fn live(state: &AppState, id: Uuid) -> Result<Subscription, ApiError> {
    state
        .db
        .subscription(id)
        .await?
        .filter(|s| s.deleted_at.is_none())
        .ok_or_else(|| ApiError::NotFound("There is no such subscription.".into()))
}

/// Subscribe a URL to changes.
#[utoipa::path(
    post, path = "/v1/subscriptions", operation_id = "createSubscription", tag = "subscriptions",
    request_body = NewSubscription,
    responses(
        (status = 201, description = "Subscribed", body = SubscriptionView),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid URL, change type, secret or attempts", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/subscriptions")]
pub async fn create_subscription(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let (json, _) = read_json(&req, payload).await?;
    let new: NewSubscription = parse(json)?;
    validate(&new)?;
    let created = state
        .db
        .create_subscription(&Subscription {
            subscription_id: Uuid::now_v7(),
            target_url: new.target_url,
            change_types: new.change_types,
            secret: new.secret,
            on_failure: match new.on_failure {
                OnFailure::Continue => "continue".into(),
                OnFailure::Wait => "wait".into(),
            },
            max_attempts: new.max_attempts,
            created_at: Utc::now(),
            created_by: actor.sub.clone(),
            deleted_at: None,
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/v1/subscriptions/{}", created.subscription_id),
        ))
        .json(SubscriptionView::from(created)))
}

/// List subscriptions.
#[utoipa::path(
    get, path = "/v1/subscriptions", operation_id = "listSubscriptions", tag = "subscriptions",
    responses(
        (status = 200, description = "Live subscriptions", body = Vec<SubscriptionView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/v1/subscriptions")]
pub async fn list_subscriptions(
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let subs: Vec<SubscriptionView> = state
        .db
        .active_subscriptions()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(subs))
}

/// Stop a subscription (it is kept, marked deleted).
#[utoipa::path(
    delete, path = "/v1/subscriptions/{id}", operation_id = "deleteSubscription", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Stopped"),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/subscriptions/{id}")]
pub async fn delete_subscription(
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let id = parse_id(&path, "/id")?;
    if state.db.delete_subscription(id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("There is no such subscription.".into()))
    }
}

/// A subscription's dead letters.
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}/dead-letters", operation_id = "listDeadLetters", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Parked changes, oldest first", body = Vec<DeadLetterView>),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/v1/subscriptions/{id}/dead-letters")]
pub async fn list_dead_letters(
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let id = parse_id(&path, "/id")?;
    live(&state, id).await?;
    let letters: Vec<DeadLetterView> = state
        .db
        .dead_letters(id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(letters))
}

/// Deliver a parked change again, now.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/dead-letters/{deadLetterId}/redeliver", operation_id = "redeliverDeadLetter", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id"), ("deadLetterId" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 200, description = "Delivered; the dead letter is settled", body = DeadLetterView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription or dead letter", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The receiver failed again; the dead letter stays", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/subscriptions/{id}/dead-letters/{deadLetterId}/redeliver")]
pub async fn redeliver(
    path: web::Path<(String, String)>,
    actor: Actor,
    state: web::Data<AppState>,
    config: web::Data<DeliveryConfig>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let (id, dl) = path.into_inner();
    let id = parse_id(&id, "/id")?;
    let dl = parse_id(&dl, "/deadLetterId")?;
    let sub = live(&state, id).await?;
    let letter = state
        .db
        .dead_letters(id)
        .await?
        .into_iter()
        .find(|d| d.dead_letter_id == dl)
        .ok_or_else(|| ApiError::NotFound("There is no such dead letter.".into()))?;
    let body = serde_json::to_vec(&letter.payload).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let attempt = u32::try_from(letter.attempts + 1).unwrap_or(1);
    let outcome = deliver(
        &reqwest::Client::new(),
        &sub,
        letter.change_id,
        body,
        attempt,
        &config,
    )
    .await;
    let settled = state
        .db
        .settle_dead_letter(dl, outcome.as_ref().err().map(String::as_str))
        .await?;
    match outcome {
        Ok(()) => Ok(HttpResponse::Ok().json(settled.map(DeadLetterView::from))),
        Err(e) => Err(ApiError::BadGateway(format!(
            "The receiver failed again: {e}. The dead letter stays parked."
        ))),
    }
}
