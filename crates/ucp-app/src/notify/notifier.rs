//! The notifier's two loops, on the one server that leads it: one follows the feed and puts in
//! the outbox what each change calls for, with its checkpoint; the other sends what is due,
//! retrying with backoff and parking what fails every attempt.

use chrono::Utc;
use tokio::task::JoinHandle;
use ucp_domain::notifications::{
    from_outside_the_practice, made_by_the_person, ChangeKind, Messages,
};
use ucp_domain::{Author, CarePlan, PlanStatus};
use ucp_store::notifications::{Enqueue, Notification, NOTIFIER};
use ucp_store::projections::replay::fold;
use ucp_store::{AccessEntry, RecordedEvent, StreamBound};
use uuid::Uuid;

use super::client::NotifyClient;
use super::messages;
use crate::audit::View;
use crate::{leadership, AppError, AppState};

/// Feed events read per page.
const PAGE: i64 = 100;

/// Runs the notifier while this server leads it.
#[derive(Debug)]
pub struct Notifier {
    task: JoinHandle<()>,
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Notifier {
    /// Starts on the current Tokio runtime.
    #[must_use]
    pub fn start(state: AppState, client: NotifyClient) -> Self {
        // A first run starts after the changes made before this server started (see
        // `Database::notifier_start`).
        let since = Utc::now();
        Self {
            task: tokio::spawn(lead(state, client, since)),
        }
    }
}

async fn lead(state: AppState, client: NotifyClient, since: chrono::DateTime<Utc>) {
    let interval = client.config.interval;
    loop {
        let Some(connection) = leadership::connect(&state, "notifier", interval).await else {
            return;
        };
        if !matches!(leadership::try_lead(&connection, NOTIFIER).await, Ok(true)) {
            drop(connection);
            tokio::time::sleep(interval).await;
            continue;
        }
        tracing::info!("leading the notifier");
        let mut follower = tokio::spawn(follow(state.clone(), client.clone(), since));
        let mut sender = tokio::spawn(send(state.clone(), client.clone()));
        loop {
            tokio::select! {
                _ = &mut follower => break,
                _ = &mut sender => break,
                () = tokio::time::sleep(interval) => {
                    if connection.is_closed() {
                        break;
                    }
                }
            }
        }
        follower.abort();
        sender.abort();
        tokio::time::sleep(interval).await;
    }
}

async fn follow(state: AppState, client: NotifyClient, since: chrono::DateTime<Utc>) {
    loop {
        if let Err(e) = follow_from_checkpoint(&state, &client, since).await {
            tracing::warn!(error = %e, "the notifier paused following the feed");
            tokio::time::sleep(client.config.interval).await;
        }
    }
}

async fn follow_from_checkpoint(
    state: &AppState,
    client: &NotifyClient,
    since: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    let mut cursor = state.db.notifier_start(since).await?;
    loop {
        let page = state.db.read_feed(cursor, PAGE).await?;
        if page.events.is_empty() {
            tokio::time::sleep(client.config.interval).await;
            continue;
        }
        let mut items = Vec::new();
        for event in &page.events {
            items.extend(what_to_tell(state, client, event).await?);
        }
        state.db.enqueue_notifications(&items, page.next).await?;
        cursor = page.next;
    }
}

fn author(event: &RecordedEvent) -> Author {
    Author {
        actor: event.metadata.actor.clone(),
        name: event.metadata.actor_name.clone(),
        role: event.metadata.role.clone(),
        organisation: event.metadata.organisation.clone(),
        on_behalf_of: event.metadata.on_behalf_of.clone(),
    }
}

/// The plan a change is about, as it stood after the change, with its id and version.
async fn plan_after(
    state: &AppState,
    event: &RecordedEvent,
) -> Result<Option<(Uuid, CarePlan)>, AppError> {
    if event.stream_type == ucp_store::projections::care_plans::STREAM_TYPE {
        let history = state
            .db
            .read_stream(
                event.stream_id,
                StreamBound::UpToVersion(event.stream_version),
            )
            .await?;
        return Ok(fold(&history)?.map(|plan| (event.stream_id, plan)));
    }
    // A proxy granted or revoked: the person's current plan (a revocation names only its
    // grant).
    let named = match event.data["nhsNumber"].as_str() {
        Some(n) => Some(n.to_owned()),
        None => match event.data["grantId"]
            .as_str()
            .and_then(|g| Uuid::parse_str(g).ok())
        {
            Some(grant) => state.db.grant_person(grant).await?,
            None => None,
        },
    };
    let Some(person) = named.and_then(|n| ucp_domain::NhsNumber::parse(&n).ok()) else {
        return Ok(None);
    };
    let Some(row) = state.db.plan_for_person(person).await? else {
        return Ok(None);
    };
    let history = state.db.read_stream(row.plan_id, StreamBound::All).await?;
    Ok(fold(&history)?.map(|plan| (row.plan_id, plan)))
}

/// What one change calls for: a message to the person (joining any waiting) and one to their
/// practice, as the rules say.
async fn what_to_tell(
    state: &AppState,
    client: &NotifyClient,
    event: &RecordedEvent,
) -> Result<Vec<Enqueue>, AppError> {
    let Some(kind) = ChangeKind::of(&event.event_type) else {
        return Ok(Vec::new());
    };
    let Some((plan_id, plan)) = plan_after(state, event).await? else {
        return Ok(Vec::new());
    };
    let nhs = plan.nhs_number.to_string();
    let by = author(event);
    let version = if event.stream_id == plan_id {
        event.stream_version
    } else {
        plan.version
    };
    let change = messages::change(
        kind,
        event.event_id,
        plan_id,
        version,
        event.recorded_at,
        &by,
    );
    let mut items = Vec::new();
    let config = &client.config;
    if config.notify_url.is_some()
        && kind.tells_the_person()
        && !made_by_the_person(&by, &nhs)
        && plan.status != PlanStatus::Deceased
        && !state.db.person_deceased(&nhs).await?
    {
        let window = chrono::Duration::from_std(config.window).unwrap_or_default();
        items.push(Enqueue {
            recipient: "person",
            nhs_number: nhs.clone(),
            practice_ods: None,
            plan_id: Some(plan_id),
            change: change.clone(),
            at: event.recorded_at,
            due_at: event.recorded_at + window,
        });
    }
    if let Some(practice) = ucp_domain::review::registered_practice(&plan) {
        if config.practices.get(&practice).is_some() && from_outside_the_practice(&by, &practice) {
            items.push(Enqueue {
                recipient: "practice",
                nhs_number: nhs,
                practice_ods: Some(practice.to_uppercase()),
                plan_id: Some(plan_id),
                change,
                at: event.recorded_at,
                due_at: event.recorded_at,
            });
        }
    }
    Ok(items)
}

async fn send(state: AppState, client: NotifyClient) {
    loop {
        if let Err(e) = send_due(&state, &client).await {
            tracing::warn!(error = %e, "the notifier paused sending");
        }
        tokio::time::sleep(client.config.interval).await;
    }
}

async fn send_due(state: &AppState, client: &NotifyClient) -> Result<(), AppError> {
    for n in state.db.due_notifications(Utc::now(), 50).await? {
        send_one(state, client, &n).await?;
    }
    Ok(())
}

/// Whether the person may still be told: they have not chosen no messages, and their plan does
/// not record their death (both as they are now, when the message would go).
async fn may_tell_the_person(state: &AppState, nhs: &str) -> Result<bool, AppError> {
    if super::preferences::choice(&state.db, nhs).await?.messages == Messages::Off {
        return Ok(false);
    }
    // On any of their plans.
    Ok(!state.db.person_deceased(nhs).await?)
}

async fn send_one(
    state: &AppState,
    client: &NotifyClient,
    n: &Notification,
) -> Result<(), AppError> {
    let config = &client.config;
    let next_window = Utc::now() + chrono::Duration::from_std(config.window).unwrap_or_default();
    let (body, url, sent) = if n.recipient == "person" {
        if !may_tell_the_person(state, &n.nhs_number).await? {
            tracing::info!(message = %n.id, "not told: the person chose no messages, or died");
            state
                .db
                .notification_done(n.id, &change_ids(n), next_window, None)
                .await?;
            return Ok(());
        }
        let body = messages::to_the_person(config.routing_plan_id, n.id, &n.nhs_number, &n.changes);
        let sent = client.to_person(&body, n.id).await;
        (body, client.messages_url().unwrap_or_default(), sent)
    } else {
        let ods = n.practice_ods.clone().unwrap_or_default();
        let body = messages::to_the_practice(n.id, &ods, &n.nhs_number, &n.changes);
        match config.practices.get(&ods) {
            Some(target) => {
                let sent = client.to_practice(target, &body).await;
                (body, target.url.clone(), sent)
            }
            None => (
                body,
                String::new(),
                Err(format!("no endpoint is configured for the practice {ods}")),
            ),
        }
    };
    match sent {
        Ok(()) => {
            // Out of the outbox with its access-log entry, together: a message sent is never
            // sent again for want of its entry.
            let entry = entry(n, &url, &body, 201);
            state
                .db
                .notification_done(n.id, &change_ids(n), next_window, Some(&entry))
                .await?;
        }
        Err(error) => {
            let attempt = u32::try_from(n.attempts).unwrap_or(0) + 1;
            tracing::info!(message = %n.id, attempt, error, "a notification was not accepted");
            if attempt >= config.max_attempts.max(1) {
                let entry = entry(n, &url, &body, 502);
                state
                    .db
                    .park_notification(n.id, &error, Some(&entry))
                    .await?;
                state.metrics.dead_letters_parked.inc();
                tracing::warn!(message = %n.id, "a notification was parked as a dead letter");
            } else {
                let retry = Utc::now()
                    + chrono::Duration::from_std(config.backoff(attempt)).unwrap_or_default();
                state.db.notification_failed(n.id, &error, retry).await?;
            }
        }
    }
    Ok(())
}

/// The access-log entry of a message sent (201) or parked (502): against the person, replayed
/// as the message that was sent.
#[must_use]
pub fn entry(n: &Notification, url: &str, body: &serde_json::Value, status: i16) -> AccessEntry {
    let last = n.changes.last().cloned().unwrap_or_default();
    let to_person = n.recipient == "person";
    AccessEntry {
        entry_id: Uuid::now_v7(),
        at: Utc::now(),
        actor: "notifier".to_owned(),
        actor_name: Some(if to_person {
            "NHS Notify".to_owned()
        } else {
            format!(
                "GP practice {}",
                n.practice_ods.as_deref().unwrap_or_default()
            )
        }),
        role: "notifier".to_owned(),
        organisation: n.practice_ods.clone(),
        purpose: Some("notification".to_owned()),
        action: if to_person {
            "notifyPerson".to_owned()
        } else {
            "notifyPractice".to_owned()
        },
        method: "POST".to_owned(),
        path: without_credentials(url),
        plan_id: n.plan_id,
        nhs_number: Some(n.nhs_number.clone()),
        plan_version: last["version"].as_i64(),
        view: Some(View::Notification.as_str().to_owned()),
        section: None,
        search_criteria: None,
        search_results: None,
        returned_nhs_numbers: Vec::new(),
        request_id: None,
        status,
        detail: Some(serde_json::json!({
            "messageId": n.id,
            "recipient": n.recipient,
            "changes": n.changes.len(),
            "sent": body,
        })),
        issuer: None,
        credential: None,
        proofing_level: None,
        on_behalf_of: None,
    }
}

/// The ids of the changes a message tells of.
fn change_ids(n: &Notification) -> Vec<String> {
    n.changes
        .iter()
        .filter_map(|c| c["changeId"].as_str().map(str::to_owned))
        .collect()
}

/// A URL as the access log keeps it: no user, password or query (where a credential could be).
fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => String::new(),
    }
}
