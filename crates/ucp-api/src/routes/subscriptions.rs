//! `/v1/subscriptions` (admin): webhooks for the dispatch system and other followers.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::{section_event_type, PlanSection};
use ucp_store::{DeadLetter, FeedCursor, Subscription, SubscriptionStart};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{note, View};
use crate::auth::{Actor, Role};
use crate::body::{parse, read_json};
use crate::problem::Problem;
use crate::webhooks::{deliver, DeliveryConfig, WebhookClient};
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
    /// Who receives the changes, as the person reads it in their access log ("shared with
    /// …"); 1 to 100 characters.
    pub name: String,
    /// Where to POST changes: an `https://` URL (`http://` only where the server allows it).
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
    /// Absent: deliver only changes committed from now on. `"start"`, or a feed cursor:
    /// replay every change after that position first — an export of history, recorded in the
    /// access log.
    pub replay_from: Option<String>,
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
    pub name: String,
    pub target_url: String,
    pub change_types: Vec<String>,
    pub on_failure: String,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// `now`: only changes committed after it was made; `replay`: history replayed first.
    pub started_from: String,
}

impl From<Subscription> for SubscriptionView {
    fn from(s: Subscription) -> Self {
        Self {
            id: s.subscription_id,
            name: s.name,
            started_from: if s.start_snapshot.is_some() {
                "now".to_owned()
            } else {
                "replay".to_owned()
            },
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

fn validate(new: &NewSubscription, allow_http: bool) -> Result<Option<FeedCursor>, ApiError> {
    let mut errors = Vec::new();
    match reqwest::Url::parse(&new.target_url) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => {}
        Ok(url) if url.scheme() == "http" && url.host().is_some() && allow_http => {}
        Ok(url) if url.scheme() == "http" && url.host().is_some() => {
            errors.push(ucp_domain::FieldError::new(
                "/targetUrl",
                "must be https: deliveries carry patient data (this server refuses http:// \
                 unless UCP_WEBHOOK_ALLOW_HTTP=true)",
            ));
        }
        _ => errors.push(ucp_domain::FieldError::new(
            "/targetUrl",
            "must be an https URL with a host",
        )),
    }
    if !(1..=100).contains(&new.name.trim().chars().count()) {
        errors.push(ucp_domain::FieldError::new(
            "/name",
            "must be 1 to 100 characters",
        ));
    }
    let replay_from = match new.replay_from.as_deref() {
        None => None,
        Some("start") => Some(FeedCursor::START),
        Some(text) => match FeedCursor::decode(text) {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(ucp_domain::FieldError::new(
                    "/replayFrom",
                    "must be \"start\" or a feed cursor this service issued",
                ));
                None
            }
        },
    };
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
        Ok(replay_from)
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

/// Subscribe a URL to changes from now on (or, explicitly, replay history from a position).
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
#[post("/subscriptions")]
pub async fn create_subscription(
    req: HttpRequest,
    payload: web::Payload,
    actor: Actor,
    state: web::Data<AppState>,
    client: web::Data<WebhookClient>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Admin])?;
    let (json, _) = read_json(&req, payload).await?;
    let new: NewSubscription = parse(json)?;
    let replay_from = validate(&new, client.allow_http)?;
    let start = replay_from.map_or(SubscriptionStart::Now, SubscriptionStart::After);
    let subscription_id = Uuid::now_v7();
    note(&req, |n| {
        n.detail = Some(serde_json::json!({
            "subscriptionId": subscription_id,
            "subscriptionName": new.name.trim(),
            "replayFrom": new.replay_from,
        }));
    });
    let created = state
        .db
        .create_subscription(
            &Subscription {
                subscription_id,
                name: new.name.trim().to_owned(),
                start_snapshot: None,
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
            },
            start,
        )
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
#[get("/subscriptions")]
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
#[delete("/subscriptions/{id}")]
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
#[get("/subscriptions/{id}/dead-letters")]
pub async fn list_dead_letters(
    req: HttpRequest,
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
    // The payloads are summaries: whose they are goes into the access log.
    note(&req, |n| {
        n.view = Some(View::DeadLetters);
        n.returned_nhs_numbers = letters
            .iter()
            .filter_map(|l| l.payload.get("nhsNumber").and_then(|v| v.as_str()))
            .map(str::to_owned)
            .collect();
        n.detail = Some(serde_json::json!({ "subscriptionId": id }));
    });
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
#[post("/subscriptions/{id}/dead-letters/{deadLetterId}/redeliver")]
pub async fn redeliver(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    actor: Actor,
    state: web::Data<AppState>,
    config: web::Data<DeliveryConfig>,
    client: web::Data<WebhookClient>,
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
    note(&req, |n| {
        n.view = Some(View::DeadLetters);
        n.nhs_number = letter
            .payload
            .get("nhsNumber")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        n.plan_id = letter
            .payload
            .get("planId")
            .and_then(|v| v.as_str())
            .and_then(|v| Uuid::parse_str(v).ok());
        n.detail = Some(serde_json::json!({
            "subscriptionId": sub.subscription_id,
            "subscriptionName": sub.name,
            "changeId": letter.change_id,
        }));
    });
    let body = serde_json::to_vec(&letter.payload).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let attempt = u32::try_from(letter.attempts + 1).unwrap_or(1);
    let outcome = deliver(&client.http, &sub, letter.change_id, body, attempt, &config).await;
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
