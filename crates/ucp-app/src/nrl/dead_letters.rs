//! The NRL publisher's dead letters (admin): listed with whose they are, and redelivered by
//! bringing the pointer in line with the plan as it is now — never by resending what was
//! parked, which a later change (a withdrawal) may have made wrong.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ucp_fhir::{pointers, PointerChange};
use ucp_store::projections::replay::fold;
use ucp_store::{Database, NrlDeadLetter, StreamBound};
use uuid::Uuid;

use super::client::NrlClient;
use super::publisher::{publish_entry, record};
use crate::audit::{Access, AuditWriter, Shown, View};
use crate::{Actor, AppError, Conflict};

/// A parked pointer change.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NrlDeadLetterView {
    pub id: Uuid,
    /// The feed change that called for it.
    pub change_id: Uuid,
    pub plan_id: Uuid,
    pub nhs_number: String,
    /// The pointer (DocumentReference id at the NRL).
    pub pointer_id: String,
    /// What was being sent: POST (create), PUT (update) or DELETE.
    pub method: String,
    pub attempts: i32,
    pub last_error: String,
    pub parked_at: DateTime<Utc>,
    /// When it was redelivered; absent while it waits.
    pub redelivered_at: Option<DateTime<Utc>>,
}

impl From<NrlDeadLetter> for NrlDeadLetterView {
    fn from(d: NrlDeadLetter) -> Self {
        Self {
            id: d.dead_letter_id,
            change_id: d.change_id,
            plan_id: d.plan_id,
            nhs_number: d.nhs_number,
            pointer_id: d.pointer_id,
            method: d.method,
            attempts: d.attempts,
            last_error: d.last_error,
            parked_at: d.parked_at,
            redelivered_at: d.redelivered_at,
        }
    }
}

/// Every parked pointer change, oldest first; whose NHS numbers they carry is recorded.
///
/// # Errors
/// Forbidden for all but admins.
pub async fn list(db: &Database, actor: &Actor) -> Result<Shown<Vec<NrlDeadLetterView>>, AppError> {
    crate::use_cases::LIST_NRL_DEAD_LETTERS.authorize(actor)?;
    let letters: Vec<NrlDeadLetterView> = db
        .nrl_dead_letters()
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
        detail: Some(serde_json::json!({"nrl": true})),
        ..Access::default()
    };
    Ok(Shown::new(letters, access))
}

/// Brings a parked pointer in line with its plan now, and settles the letter.
///
/// # Errors
/// Forbidden for all but admins; not found; conflict when publishing is off or the letter was
/// redelivered already; the NRL failing again (the letter stays open).
pub async fn redeliver(
    db: &Database,
    actor: &Actor,
    client: Option<&NrlClient>,
    audit: &AuditWriter,
    id: Uuid,
) -> Result<Shown<NrlDeadLetterView>, AppError> {
    crate::use_cases::REDELIVER_NRL_DEAD_LETTER.authorize(actor)?;
    let conflict = |kind, detail: &str| AppError::Conflict {
        kind,
        detail: detail.to_owned(),
        location: None,
    };
    let Some(client) = client else {
        return Err(conflict(
            Conflict::NrlPublishingOff,
            "This server does not publish to the National Record Locator (UCP_NRL_URL is unset).",
        ));
    };
    let letter = db
        .nrl_dead_letter(id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such NRL dead letter.".into()))?;
    if letter.redelivered_at.is_some() {
        return Err(conflict(
            Conflict::AlreadyRedelivered,
            "This dead letter was redelivered already.",
        ));
    }
    let history = db.read_stream(letter.plan_id, StreamBound::All).await?;
    let plan = fold(&history)?
        .ok_or_else(|| AppError::NotFound("The dead letter's plan has no events.".into()))?;
    let change = match pointers(letter.plan_id, &plan, &client.settings)
        .into_iter()
        .find(|p| p.id == letter.pointer_id)
    {
        Some(pointer) => PointerChange::Update(pointer),
        None => PointerChange::Delete(letter.pointer_id.clone()),
    };
    let entry = |status| {
        publish_entry(
            client,
            letter.plan_id,
            &letter.nhs_number,
            plan.version,
            &change,
            letter.change_id,
            status,
        )
    };
    record(audit, entry(202)).await?;
    let access = Access {
        view: Some(View::DeadLetters),
        plan_id: Some(letter.plan_id),
        nhs_number: Some(letter.nhs_number.clone()),
        detail: Some(
            serde_json::json!({"nrlDeadLetter": id, "pointerId": letter.pointer_id, "method": change.method()}),
        ),
        ..Access::default()
    };
    match client.send(&change, letter.change_id).await {
        Ok(()) => {
            let settled = db.settle_nrl_dead_letter(id, None).await?.ok_or_else(|| {
                conflict(
                    Conflict::AlreadyRedelivered,
                    "This dead letter was redelivered already.",
                )
            })?;
            Ok(Shown::new(settled.into(), access))
        }
        Err(e) => {
            db.settle_nrl_dead_letter(id, Some(&e)).await?;
            record(audit, entry(502)).await?;
            Err(AppError::ReceiverFailed(format!(
                "The NRL failed again: {e}. The dead letter stays open."
            )))
        }
    }
}
