//! The person's choice of messages about their plan (`/v1/me/notifications`): on (the default)
//! or off, an event of their own stream (`person_choices`), which only they change (never a
//! proxy). Off stops the person's messages, not their GP practice's.

use serde::Serialize;
use ucp_domain::notifications::{Messages, NotificationsChosen, CHOSEN, STREAM_TYPE};
use ucp_domain::NhsNumber;
use ucp_store::{AppendRequest, Database, ExpectedVersion, NewEvent, StreamBound};
use uuid::Uuid;

use crate::audit::{Access, Shown};
use crate::{use_cases, Actor, AppError};

/// The stream of a person's own choices.
#[must_use]
pub fn stream_id(nhs_number: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x7563_7020_7065_7273_6f6e_2063_686f_6963);
    Uuid::new_v5(&NAMESPACE, nhs_number.as_bytes())
}

/// The person's choice as it stands, and the version of their choices' stream (its ETag).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationChoice {
    /// Whether the person is told of changes to their plan through the NHS App.
    pub messages: Messages,
    /// When they last chose (absent: never; messages are on).
    pub chosen_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Send as `If-Match` to change it.
    pub etag: String,
    /// What it means, in words.
    pub about: String,
}

fn etag(version: i64) -> String {
    format!("\"notifications.{version}\"")
}

/// The person's choice as the log holds it.
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn choice(db: &Database, nhs_number: &str) -> Result<NotificationChoice, AppError> {
    let events = db
        .read_stream(stream_id(nhs_number), StreamBound::All)
        .await?;
    let last = events.iter().rev().find(|e| e.event_type == CHOSEN);
    let messages = match last {
        Some(e) => {
            serde_json::from_value::<NotificationsChosen>(e.data.clone())
                .map_err(|e| AppError::Internal(Box::new(e)))?
                .messages
        }
        None => Messages::On,
    };
    let version = events.last().map_or(0, |e| e.stream_version);
    Ok(NotificationChoice {
        messages,
        chosen_at: last.map(|e| e.recorded_at),
        etag: etag(version),
        about: match messages {
            Messages::On => "You are told, through the NHS App, when someone else changes your care plan (never what changed: open the app to see). Your GP practice is told of changes made outside it either way.",
            Messages::Off => "You are not told when your care plan changes. Your GP practice is still told of changes made outside it.",
        }
        .to_owned(),
    })
}

/// The person's own choice (`GET /v1/me/notifications`).
///
/// # Errors
/// Forbidden for anyone but the person themselves.
pub async fn mine(db: &Database, actor: &Actor) -> Result<Shown<NotificationChoice>, AppError> {
    use_cases::GET_MY_NOTIFICATIONS.authorize(actor)?;
    let nhs = actor.person_themselves()?;
    let choice = choice(db, &nhs.to_string()).await?;
    Ok(Shown::new(choice, person_access(nhs)))
}

fn person_access(nhs: NhsNumber) -> Access {
    Access {
        nhs_number: Some(nhs.to_string()),
        ..Access::default()
    }
}

/// The person changes their choice, as of the version they read (`If-Match`).
///
/// # Errors
/// Forbidden for anyone but the person themselves (a proxy may not); stale when it changed
/// since the version read.
pub async fn choose(
    db: &Database,
    actor: &Actor,
    version: i64,
    chosen: NotificationsChosen,
    request_id: Option<String>,
) -> Result<Shown<NotificationChoice>, AppError> {
    use_cases::PUT_MY_NOTIFICATIONS.authorize(actor)?;
    let nhs = actor.person_themselves()?;
    let data = serde_json::to_value(chosen).map_err(|e| AppError::Internal(Box::new(e)))?;
    let request = AppendRequest {
        stream_id: stream_id(&nhs.to_string()),
        stream_type: STREAM_TYPE.to_owned(),
        expected: ExpectedVersion::Exact(version),
        events: vec![NewEvent::new(
            CHOSEN,
            1,
            data,
            crate::commands::metadata(actor, request_id),
        )],
        idempotency: None,
        prior: None,
        audit: None,
    };
    match db.append(request).await {
        Ok(_) => {}
        Err(e) if e.is_conflict() => {
            return Err(AppError::PreconditionFailed(
                "Your choice changed since you read it: read it again.".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let choice = choice(db, &nhs.to_string()).await?;
    Ok(Shown::new(choice, person_access(nhs)))
}
