//! The notifier's dead letters (admin): listed with whose they are, and redelivered by putting
//! them back in the outbox, due now. The sender then checks again, as for any message, whether
//! the person still wants messages and is alive: a redelivery never tells what they have since
//! chosen not to hear.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ucp_store::notifications::Notification;
use ucp_store::Database;
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::{Actor, AppError, Conflict};

/// A message that was not accepted after every attempt.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationDeadLetter {
    pub id: Uuid,
    /// `person` (NHS Notify) or `practice`.
    pub recipient: String,
    pub nhs_number: String,
    /// The practice, for a practice's message.
    pub practice_ods: Option<String>,
    pub plan_id: Option<Uuid>,
    /// The changes it told of, oldest first.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub changes: Vec<serde_json::Value>,
    pub attempts: i32,
    pub last_error: String,
    pub parked_at: Option<DateTime<Utc>>,
    /// When it was redelivered; absent while it waits.
    pub redelivered_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationDeadLetter {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            recipient: n.recipient,
            nhs_number: n.nhs_number,
            practice_ods: n.practice_ods,
            plan_id: n.plan_id,
            changes: n.changes,
            attempts: n.attempts,
            last_error: n.last_error.unwrap_or_default(),
            parked_at: n.parked_at,
            redelivered_at: n.redelivered_at,
        }
    }
}

/// Every dead letter, oldest first; whose NHS numbers they carry is recorded.
///
/// # Errors
/// Forbidden for all but admins.
pub async fn list(
    db: &Database,
    actor: &Actor,
) -> Result<Shown<Vec<NotificationDeadLetter>>, AppError> {
    crate::use_cases::LIST_NOTIFICATION_DEAD_LETTERS.authorize(actor)?;
    let letters: Vec<NotificationDeadLetter> = db
        .notification_dead_letters()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut numbers: Vec<String> = letters.iter().map(|l| l.nhs_number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    let access = Access {
        view: Some(View::DeadLetters),
        returned_nhs_numbers: numbers,
        detail: Some(serde_json::json!({"notifications": true})),
        ..Access::default()
    };
    Ok(Shown::new(letters, access))
}

/// Puts a dead letter back in the outbox, due now.
///
/// # Errors
/// Forbidden for all but admins; not found; conflict when this server does not notify or the
/// letter was redelivered already.
pub async fn redeliver(
    db: &Database,
    actor: &Actor,
    notifying: bool,
    id: Uuid,
) -> Result<Shown<NotificationDeadLetter>, AppError> {
    crate::use_cases::REDELIVER_NOTIFICATION_DEAD_LETTER.authorize(actor)?;
    let conflict = |kind, detail: &str| AppError::Conflict {
        kind,
        detail: detail.to_owned(),
        location: None,
    };
    if !notifying {
        return Err(conflict(
            Conflict::NotifyingOff,
            "This server does not notify (UCP_NOTIFY_URL and UCP_NOTIFY_PRACTICES are unset).",
        ));
    }
    let letter = db
        .notification_dead_letter(id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such notification dead letter.".into()))?;
    let Some(redelivered) = db.redeliver_notification(id).await? else {
        return Err(conflict(
            Conflict::AlreadyRedelivered,
            "This dead letter was redelivered already.",
        ));
    };
    let access = Access {
        view: Some(View::DeadLetters),
        plan_id: letter.plan_id,
        nhs_number: Some(letter.nhs_number.clone()),
        detail: Some(serde_json::json!({"notificationDeadLetter": id})),
        ..Access::default()
    };
    let mut view = NotificationDeadLetter::from(redelivered);
    view.redelivered_at = Some(Utc::now());
    Ok(Shown::new(view, access))
}
