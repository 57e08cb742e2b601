use std::time::Duration;

use tokio::task::JoinHandle;
use ucp_fhir::PointerChange;
use ucp_store::projections::replay::replay;
use ucp_store::{
    load_checkpoint, save_checkpoint, AccessEntry, FeedCursor, NrlDeadLetter, StreamBound,
    NRL_CHECKPOINT,
};
use uuid::Uuid;

use super::client::NrlClient;
use crate::audit::{AuditWriter, View};
use crate::feed::{next_changes, Change};
use crate::webhooks::DeliveryConfig;
use crate::{leadership, AppError, AppState};

/// Runs the publisher while this server leads it. Leadership is a session advisory lock on a
/// dedicated connection, as for webhooks: when this process or its connection dies, another
/// server takes over at its next scan and resumes from the checkpoint.
#[derive(Debug)]
pub struct NrlPublisher {
    task: JoinHandle<()>,
}

impl Drop for NrlPublisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl NrlPublisher {
    /// Starts publishing on the current Tokio runtime.
    #[must_use]
    pub fn start(
        state: AppState,
        client: NrlClient,
        audit: AuditWriter,
        config: DeliveryConfig,
    ) -> Self {
        Self {
            task: tokio::spawn(lead(state, client, audit, config)),
        }
    }
}

async fn lead(state: AppState, client: NrlClient, audit: AuditWriter, config: DeliveryConfig) {
    loop {
        let Some(connection) =
            leadership::connect(&state, "NRL publisher", config.scan_interval).await
        else {
            return;
        };
        let won = leadership::try_lead(&connection, NRL_CHECKPOINT).await;
        if !matches!(won, Ok(true)) {
            drop(connection);
            tokio::time::sleep(config.scan_interval).await;
            continue;
        }
        tracing::info!("leading NRL publishing");
        let mut task = tokio::spawn(follow(state.clone(), client.clone(), audit.clone(), config));
        // Lead while the lock's connection lives.
        loop {
            tokio::select! {
                _ = &mut task => break,
                () = tokio::time::sleep(config.scan_interval) => {
                    if connection.is_closed() {
                        task.abort();
                        break;
                    }
                }
            }
        }
    }
}

async fn follow(state: AppState, client: NrlClient, audit: AuditWriter, config: DeliveryConfig) {
    loop {
        if let Err(e) = follow_once(&state, &client, &audit, &config).await {
            tracing::warn!(error = %e, "NRL publishing paused");
            tokio::time::sleep(config.scan_interval).await;
        }
    }
}

async fn follow_once(
    state: &AppState,
    client: &NrlClient,
    audit: &AuditWriter,
    config: &DeliveryConfig,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let unavailable = |e: ucp_store::PoolError| AppError::Unavailable(e.to_string());
    let mut cursor = load_checkpoint(&pool.get().await.map_err(unavailable)?, NRL_CHECKPOINT)
        .await?
        .unwrap_or(FeedCursor::START);
    loop {
        let page = next_changes(
            &state.db,
            &state.feed,
            cursor,
            50,
            Duration::from_secs(10),
            Duration::from_millis(500),
        )
        .await?;
        for change in &page.changes {
            publish(state, client, audit, config, change).await?;
            cursor = FeedCursor::decode(&change.cursor).unwrap_or(cursor);
            save_checkpoint(
                &pool.get().await.map_err(unavailable)?,
                NRL_CHECKPOINT,
                cursor,
            )
            .await?;
        }
        cursor = FeedCursor::decode(&page.next).unwrap_or(cursor);
    }
}

/// The pointer changes one change to a plan makes: the pointers of the plan before it and
/// after it, compared.
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn changes_for(
    state: &AppState,
    client: &NrlClient,
    change: &Change,
) -> Result<Vec<PointerChange>, AppError> {
    let history = state
        .db
        .read_stream(
            change.plan_id,
            StreamBound::UpToVersion(change.plan_version),
        )
        .await?;
    let (mut before, mut after) = (None, None);
    for step in replay(&history, None) {
        let step = step?;
        before = after.take();
        after = step.plan;
    }
    Ok(match &after {
        Some(plan) => {
            ucp_fhir::pointer_changes(change.plan_id, before.as_ref(), plan, &client.settings)
        }
        None => Vec::new(),
    })
}

async fn publish(
    state: &AppState,
    client: &NrlClient,
    audit: &AuditWriter,
    config: &DeliveryConfig,
    change: &Change,
) -> Result<(), AppError> {
    for pointer in changes_for(state, client, change).await? {
        let entry = |status| {
            publish_entry(
                client,
                change.plan_id,
                &change.nhs_number,
                change.plan_version,
                &pointer,
                change.change_id,
                status,
            )
        };
        // As for a request, the entry is committed before the data leaves (202: handed over).
        record(audit, entry(202)).await?;
        let attempts = client.config.max_attempts.max(1);
        let mut last_error = String::new();
        let mut sent = false;
        for attempt in 1..=attempts {
            match client.send(&pointer, change.change_id).await {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(e) => {
                    tracing::info!(pointer = pointer.id(), attempt, error = %e, "NRL publish failed");
                    last_error = e;
                    if attempt < attempts {
                        tokio::time::sleep(crate::webhooks::backoff(config, attempt)).await;
                    }
                }
            }
        }
        if !sent {
            state
                .db
                .park_nrl_dead_letter(&NrlDeadLetter {
                    dead_letter_id: Uuid::now_v7(),
                    change_id: change.change_id,
                    plan_id: change.plan_id,
                    nhs_number: change.nhs_number.clone(),
                    pointer_id: pointer.id().to_owned(),
                    method: pointer.method().to_owned(),
                    attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
                    last_error,
                    parked_at: chrono::Utc::now(),
                    redelivered_at: None,
                })
                .await?;
            record(audit, entry(502)).await?;
            state.metrics.dead_letters_parked.inc();
            tracing::warn!(pointer = pointer.id(), change = %change.change_id, "NRL pointer change parked as a dead letter");
        }
    }
    Ok(())
}

/// The access-log entry of a pointer sent to the NRL: the person sees their NHS number and plan
/// shared with the National Record Locator; a created or updated pointer replays as the
/// DocumentReference that was sent.
#[must_use]
pub fn publish_entry(
    client: &NrlClient,
    plan_id: Uuid,
    nhs_number: &str,
    plan_version: i64,
    pointer: &PointerChange,
    change_id: Uuid,
    status: i16,
) -> AccessEntry {
    let sent_document = !matches!(pointer, PointerChange::Delete(_));
    let mut detail = serde_json::json!({
        "pointerId": pointer.id(),
        "method": pointer.method(),
        "changeId": change_id,
    });
    if sent_document {
        detail["fhir"] = serde_json::json!({
            "publicUrl": client.settings.public_url,
            "custodianOds": client.settings.custodian_ods,
            "bundle": null,
            "entries": [{"planId": plan_id, "version": plan_version,
                         "reference": format!("DocumentReference/{}", pointer.id()), "mode": "match"}],
        });
    }
    AccessEntry {
        entry_id: Uuid::now_v7(),
        at: chrono::Utc::now(),
        actor: "nrl-publisher".to_owned(),
        actor_name: Some("National Record Locator".to_owned()),
        role: "nrl".to_owned(),
        organisation: Some(client.settings.custodian_ods.clone()),
        purpose: Some("nrl-publication".to_owned()),
        action: "publishNrlPointer".to_owned(),
        method: pointer.method().to_owned(),
        path: client.pointer_url(pointer.id()),
        plan_id: Some(plan_id),
        nhs_number: Some(nhs_number.to_owned()),
        plan_version: Some(plan_version),
        view: sent_document.then(|| View::Fhir.as_str().to_owned()),
        section: None,
        search_criteria: None,
        search_results: None,
        returned_nhs_numbers: Vec::new(),
        request_id: None,
        status,
        detail: Some(detail),
        issuer: None,
        credential: None,
        proofing_level: None,
        on_behalf_of: None,
    }
}

pub(super) async fn record(audit: &AuditWriter, entry: AccessEntry) -> Result<(), AppError> {
    audit
        .record(entry)
        .await
        .map_err(|e| AppError::AuditUnavailable(e.to_string()))
}
