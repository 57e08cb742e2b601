use std::collections::HashMap;
use std::time::Duration;

use tokio::task::JoinHandle;
use ucp_store::{
    checkpoint_name, load_checkpoint, save_checkpoint, AccessEntry, DeadLetter, FailurePolicy,
    FeedCursor, Subscription,
};
use uuid::Uuid;

use super::client::WebhookClient;
use super::delivery::{backoff, deliver, delivery_id, DeliveryConfig};
use crate::audit::{AuditWriter, View};
use crate::feed::{next_changes, Change};
use crate::{leadership, AppState};

/// What the dispatcher needs besides the store: how to reach receivers and where to record
/// what went to them.
#[derive(Debug, Clone)]
pub struct Exports {
    pub client: WebhookClient,
    pub audit: AuditWriter,
}

/// Runs the deliveries this server leads. Leadership of a subscription is a session advisory
/// lock on one dedicated connection: when this process or its connection dies, the locks are
/// released and another server's dispatcher takes the subscriptions over at its next scan,
/// resuming from their checkpoints.
#[derive(Debug)]
pub struct WebhookDispatcher {
    task: JoinHandle<()>,
}

impl Drop for WebhookDispatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebhookDispatcher {
    /// Starts dispatching on the current Tokio runtime.
    #[must_use]
    pub fn start(state: AppState, exports: Exports, config: DeliveryConfig) -> Self {
        Self {
            task: tokio::spawn(lead(state, exports, config)),
        }
    }
}

async fn lead(state: AppState, exports: Exports, config: DeliveryConfig) {
    loop {
        let Some(connection) =
            leadership::connect(&state, "webhook dispatcher", config.scan_interval).await
        else {
            return;
        };
        let mut running: HashMap<Uuid, JoinHandle<()>> = HashMap::new();
        loop {
            if connection.is_closed() {
                break;
            }
            running.retain(|_, task| !task.is_finished());
            match state.db.active_subscriptions().await {
                Ok(subscriptions) => {
                    let live: Vec<Uuid> = subscriptions.iter().map(|s| s.subscription_id).collect();
                    // Deleted subscriptions: stop and release.
                    let gone: Vec<Uuid> = running
                        .keys()
                        .filter(|id| !live.contains(id))
                        .copied()
                        .collect();
                    for id in gone {
                        if let Some(task) = running.remove(&id) {
                            task.abort();
                        }
                        leadership::release(&connection, &checkpoint_name(id)).await;
                    }
                    for sub in subscriptions {
                        if running.contains_key(&sub.subscription_id) {
                            continue;
                        }
                        let won = leadership::try_lead(
                            &connection,
                            &checkpoint_name(sub.subscription_id),
                        )
                        .await;
                        match won {
                            Ok(true) => {
                                tracing::info!(subscription = %sub.subscription_id, "leading webhook deliveries");
                                let task = tokio::spawn(follow(
                                    state.clone(),
                                    exports.clone(),
                                    sub.clone(),
                                    config,
                                ));
                                running.insert(sub.subscription_id, task);
                            }
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "leader election failed");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot list subscriptions"),
            }
            tokio::time::sleep(config.scan_interval).await;
        }
        // The connection is gone, and the locks with it: stop everything we led.
        for (_, task) in running.drain() {
            task.abort();
        }
    }
}

/// Delivers one subscription's changes in feed order, forever.
async fn follow(state: AppState, exports: Exports, sub: Subscription, config: DeliveryConfig) {
    let name = checkpoint_name(sub.subscription_id);
    loop {
        if let Err(e) = follow_once(&state, &exports, &sub, &config, &name).await {
            tracing::warn!(error = %e, subscription = %sub.subscription_id, "webhook delivery paused");
            tokio::time::sleep(config.scan_interval).await;
        }
    }
}

async fn follow_once(
    state: &AppState,
    exports: &Exports,
    sub: &Subscription,
    config: &DeliveryConfig,
    name: &str,
) -> Result<(), crate::AppError> {
    let mut cursor = {
        let client = state
            .db
            .pool()
            .get()
            .await
            .map_err(|e| crate::AppError::Unavailable(e.to_string()))?;
        load_checkpoint(&client, name)
            .await?
            .unwrap_or(FeedCursor::START)
    };
    loop {
        if sub.on_failure == FailurePolicy::Wait
            && state.db.open_dead_letters(sub.subscription_id).await? > 0
        {
            tokio::time::sleep(config.scan_interval).await;
            continue;
        }
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
            let position = cursor_of(change, cursor);
            // A subscription made "from now" never exports what was committed before it.
            let before_start = sub
                .start_snapshot
                .as_ref()
                .is_some_and(|s| s.saw(position.transaction_id));
            let wanted = !before_start
                && (sub.change_types.is_empty() || sub.change_types.contains(&change.change_type));
            if wanted {
                let parked = deliver_with_retries(state, exports, sub, change, config).await?;
                if parked && sub.on_failure == FailurePolicy::Wait {
                    // Hold every later change until this one is redelivered.
                    save(state, name, cursor_of(change, cursor)).await?;
                    return Ok(());
                }
            }
            cursor = cursor_of(change, cursor);
            save(state, name, cursor).await?;
        }
        cursor = FeedCursor::decode(&page.next).unwrap_or(cursor);
    }
}

fn cursor_of(change: &Change, fallback: FeedCursor) -> FeedCursor {
    FeedCursor::decode(&change.cursor).unwrap_or(fallback)
}

async fn save(state: &AppState, name: &str, cursor: FeedCursor) -> Result<(), crate::AppError> {
    let client = state
        .db
        .pool()
        .get()
        .await
        .map_err(|e| crate::AppError::Unavailable(e.to_string()))?;
    save_checkpoint(&client, name, cursor).await?;
    Ok(())
}

/// Returns whether the change had to be parked.
async fn deliver_with_retries(
    state: &AppState,
    exports: &Exports,
    sub: &Subscription,
    change: &Change,
    config: &DeliveryConfig,
) -> Result<bool, crate::AppError> {
    let attempts = u32::try_from(sub.max_attempts.max(1)).unwrap_or(1);
    let body = serde_json::to_vec(change).map_err(|e| crate::AppError::Internal(Box::new(e)))?;
    let mut last_error = String::new();
    // As for a request, the entry is committed before the data leaves (202: handed over).
    record_delivery(&exports.audit, sub, change, 202).await?;
    for attempt in 1..=attempts {
        let outcome = deliver(
            &exports.client,
            sub,
            change.change_id,
            body.clone(),
            attempt,
            config,
        )
        .await;
        state.metrics.webhook_attempt(outcome.is_ok());
        match outcome {
            Ok(()) => return Ok(false),
            Err(e) => {
                tracing::info!(subscription = %sub.subscription_id, change = %change.change_id, attempt, error = %e, "delivery failed");
                last_error = e;
                if attempt < attempts {
                    tokio::time::sleep(backoff(config, attempt)).await;
                }
            }
        }
    }
    let payload =
        serde_json::to_value(change).map_err(|e| crate::AppError::Internal(Box::new(e)))?;
    state
        .db
        .park_dead_letter(&DeadLetter {
            dead_letter_id: Uuid::now_v7(),
            subscription_id: sub.subscription_id,
            change_id: change.change_id,
            payload,
            attempts: sub.max_attempts,
            last_error,
            parked_at: chrono::Utc::now(),
            redelivered_at: None,
        })
        .await?;
    // The receiver may have had the change even though no attempt was acknowledged.
    record_delivery(&exports.audit, sub, change, 502).await?;
    state.metrics.dead_letters_parked.inc();
    tracing::warn!(subscription = %sub.subscription_id, change = %change.change_id, "change parked as a dead letter");
    Ok(true)
}

/// The access-log entry of a change sent to a subscription: the person sees it as "shared with
/// <subscription name>", and an admin finds it by NHS number, plan or subscription.
#[must_use]
pub fn delivery_entry(sub: &Subscription, change: &Change, status: i16) -> AccessEntry {
    AccessEntry {
        entry_id: Uuid::now_v7(),
        at: chrono::Utc::now(),
        actor: format!("subscription:{}", sub.subscription_id),
        actor_name: Some(sub.name.clone()),
        role: "webhook".to_owned(),
        organisation: None,
        purpose: Some("webhook-delivery".to_owned()),
        action: "deliverWebhook".to_owned(),
        method: "POST".to_owned(),
        path: sub.target_url.clone(),
        plan_id: Some(change.plan_id),
        nhs_number: Some(change.nhs_number.clone()),
        plan_version: Some(change.plan_version),
        view: Some(View::Feed.as_str().to_owned()),
        section: None,
        search_criteria: None,
        search_results: None,
        returned_nhs_numbers: Vec::new(),
        request_id: None,
        status,
        detail: Some(serde_json::json!({
            "subscriptionId": sub.subscription_id,
            "subscriptionName": sub.name,
            "changeId": change.change_id,
            "deliveryId": delivery_id(sub.subscription_id, change.change_id),
            "action": change.action,
        })),
        issuer: None,
        credential: None,
        proofing_level: None,
        on_behalf_of: None,
    }
}

async fn record_delivery(
    audit: &AuditWriter,
    sub: &Subscription,
    change: &Change,
    status: i16,
) -> Result<(), crate::AppError> {
    audit
        .record(delivery_entry(sub, change, status))
        .await
        .map_err(|e| crate::AppError::AuditUnavailable(e.to_string()))
}
