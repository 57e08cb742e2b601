//! Webhook subscriptions (admin): subscribe a receiver from now on (or replay history from a
//! position, explicitly), list and stop them, and read or redeliver their dead letters — each
//! returning what it showed, since dead letters hold summaries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::{section_event_type, PlanSection};
use ucp_store::{Database, DeadLetter, FailurePolicy, FeedCursor, Subscription, SubscriptionStart};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::webhooks::{deliver, DeliveryConfig, WebhookClient};
use crate::{Actor, AppError, Rule};

/// What to do when a change cannot be delivered after the last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Park it as a dead letter and go on with later changes.
    Continue,
    /// Park it and hold later changes until it is redelivered.
    Wait,
}

/// A new subscription.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            on_failure: s.on_failure.as_str().to_owned(),
            max_attempts: s.max_attempts,
            created_at: s.created_at,
            created_by: s.created_by,
        }
    }
}

/// A parked change.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    // Sensitivity marks are never sent (`sensitivity::WITHHELD`): not a type to ask for.
    let mut types: Vec<&'static str> = ucp_domain::PLAN_EVENT_TYPES
        .iter()
        .copied()
        .filter(|t| !ucp_domain::sensitivity::WITHHELD.contains(t))
        .collect();
    types.extend(PlanSection::ALL.iter().map(|s| section_event_type(*s)));
    types
}

fn validate(new: &NewSubscription, allow_http: bool) -> Result<Option<FeedCursor>, AppError> {
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
        Err(AppError::Invalid {
            rule: Rule::Validation,
            detail: "The subscription is not valid.".into(),
            errors,
        })
    }
}

async fn live(db: &Database, id: Uuid) -> Result<Subscription, AppError> {
    db.subscription(id)
        .await?
        .filter(|s| s.deleted_at.is_none())
        .ok_or_else(|| AppError::NotFound("There is no such subscription.".into()))
}

/// Subscribes a receiver. The entry of the request records the subscription and where a
/// replay started.
///
/// # Errors
/// Forbidden for all but admins; invalid values (an `http://` target where not allowed, a
/// target outside `UCP_WEBHOOK_ALLOW` or at a reserved address).
pub async fn create(
    db: &Database,
    actor: &Actor,
    client: &WebhookClient,
    new: NewSubscription,
) -> Result<Shown<SubscriptionView>, AppError> {
    crate::use_cases::CREATE_SUBSCRIPTION.authorize(actor)?;
    let replay_from = validate(&new, client.allow_http)?;
    if let Ok(url) = reqwest::Url::parse(&new.target_url) {
        client.policy.check(&url).await.map_err(|refused| {
            tracing::info!(error = %refused, "webhook target refused");
            AppError::Invalid {
                rule: Rule::Validation,
                detail: "The subscription is not valid.".into(),
                errors: vec![ucp_domain::FieldError::new(
                    "/targetUrl",
                    format!("is refused: {refused}"),
                )],
            }
        })?;
    }
    let start = replay_from.map_or(SubscriptionStart::Now, SubscriptionStart::After);
    let subscription_id = Uuid::now_v7();
    let access = Access {
        detail: Some(serde_json::json!({
            "subscriptionId": subscription_id,
            "subscriptionName": new.name.trim(),
            "replayFrom": new.replay_from,
        })),
        ..Access::default()
    };
    let created = db
        .create_subscription(
            &Subscription {
                subscription_id,
                name: new.name.trim().to_owned(),
                start_snapshot: None,
                target_url: new.target_url,
                change_types: new.change_types,
                secret: new.secret,
                on_failure: match new.on_failure {
                    OnFailure::Continue => FailurePolicy::Continue,
                    OnFailure::Wait => FailurePolicy::Wait,
                },
                max_attempts: new.max_attempts,
                created_at: Utc::now(),
                created_by: actor.sub.clone(),
                deleted_at: None,
            },
            start,
        )
        .await?;
    Ok(Shown::new(SubscriptionView::from(created), access))
}

/// Live subscriptions.
///
/// # Errors
/// Forbidden for all but admins.
pub async fn list(db: &Database, actor: &Actor) -> Result<Vec<SubscriptionView>, AppError> {
    crate::use_cases::LIST_SUBSCRIPTIONS.authorize(actor)?;
    Ok(db
        .active_subscriptions()
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Stops a subscription (it is kept, marked deleted).
///
/// # Errors
/// Forbidden for all but admins; not found.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    crate::use_cases::DELETE_SUBSCRIPTION.authorize(actor)?;
    if db.delete_subscription(id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("There is no such subscription.".into()))
    }
}

/// A subscription's dead letters. Their payloads are summaries: whose they are is recorded.
///
/// # Errors
/// Forbidden for all but admins; not found.
pub async fn dead_letters(
    db: &Database,
    actor: &Actor,
    id: Uuid,
) -> Result<Shown<Vec<DeadLetterView>>, AppError> {
    crate::use_cases::LIST_DEAD_LETTERS.authorize(actor)?;
    live(db, id).await?;
    let letters: Vec<DeadLetterView> = db
        .dead_letters(id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let access = Access {
        view: Some(View::DeadLetters),
        returned_nhs_numbers: letters
            .iter()
            .filter_map(|l| l.payload.get("nhsNumber").and_then(|v| v.as_str()))
            .map(str::to_owned)
            .collect(),
        detail: Some(serde_json::json!({ "subscriptionId": id })),
        ..Access::default()
    };
    Ok(Shown::new(letters, access))
}

/// Delivers a parked change again, now: settled on success, still parked on failure.
///
/// # Errors
/// Forbidden for all but admins; not found; the receiver failed again.
pub async fn redeliver(
    db: &Database,
    actor: &Actor,
    client: &WebhookClient,
    config: &DeliveryConfig,
    id: Uuid,
    dead_letter_id: Uuid,
) -> Result<Shown<Option<DeadLetterView>>, AppError> {
    crate::use_cases::REDELIVER_DEAD_LETTER.authorize(actor)?;
    let sub = live(db, id).await?;
    let letter = db
        .dead_letters(id)
        .await?
        .into_iter()
        .find(|d| d.dead_letter_id == dead_letter_id)
        .ok_or_else(|| AppError::NotFound("There is no such dead letter.".into()))?;
    let access = Access {
        view: Some(View::DeadLetters),
        nhs_number: letter
            .payload
            .get("nhsNumber")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        plan_id: letter
            .payload
            .get("planId")
            .and_then(|v| v.as_str())
            .and_then(|v| Uuid::parse_str(v).ok()),
        detail: Some(serde_json::json!({
            "subscriptionId": sub.subscription_id,
            "subscriptionName": sub.name,
            "changeId": letter.change_id,
        })),
        ..Access::default()
    };
    // A change parked before the person withdrew consent to share, or before the plan was
    // voided, goes out as the feed says it now: drop what you hold, with no summary.
    let mut payload = letter.payload.clone();
    if let Some(plan_id) = access.plan_id {
        let now = db.plan_state(plan_id).await?;
        if now.is_some_and(|p| {
            p.consent_withdrawal.is_some() || p.status == ucp_domain::PlanStatus::Voided
        }) {
            payload["action"] = serde_json::json!("drop");
            payload["summary"] = serde_json::Value::Null;
        }
    }
    let body = serde_json::to_vec(&payload).map_err(|e| AppError::Internal(Box::new(e)))?;
    let attempt = u32::try_from(letter.attempts + 1).unwrap_or(1);
    let outcome = deliver(client, &sub, letter.change_id, body, attempt, config).await;
    let settled = db
        .settle_dead_letter(dead_letter_id, outcome.as_ref().err().map(String::as_str))
        .await?;
    match outcome {
        Ok(()) => Ok(Shown::new(settled.map(DeadLetterView::from), access)),
        Err(e) => Err(AppError::ReceiverFailed(format!(
            "The receiver failed again: {e}. The dead letter stays parked."
        ))),
    }
}
