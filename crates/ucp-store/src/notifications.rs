//! The notifier's outbox and dead letters: what is to be told to the person (through NHS Notify)
//! and to their GP practice, put there with the feed checkpoint in one transaction, and what
//! could not be sent.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access_log::insert_entries;
use crate::checkpoint::{load_checkpoint, save_checkpoint};
use crate::{AccessEntry, Database, FeedCursor, StoreError};

/// The notifier's feed checkpoint and leadership lock.
pub const NOTIFIER: &str = "notifier";

/// Something to be told.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue {
    /// `person` or `practice`.
    pub recipient: &'static str,
    pub nhs_number: String,
    pub practice_ods: Option<String>,
    pub plan_id: Option<Uuid>,
    /// The change told of (kind, plan, version, when, who).
    pub change: serde_json::Value,
    pub at: DateTime<Utc>,
    /// When it is to be sent: after the coalescing window for the person (a later change in
    /// the window joins the same message), at once for the practice.
    pub due_at: DateTime<Utc>,
}

/// A message waiting in the outbox, or parked as a dead letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub recipient: String,
    pub nhs_number: String,
    pub practice_ods: Option<String>,
    pub plan_id: Option<Uuid>,
    /// The changes told of, oldest first.
    pub changes: Vec<serde_json::Value>,
    pub first_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Dead letters only.
    pub parked_at: Option<DateTime<Utc>>,
    pub redelivered_at: Option<DateTime<Utc>>,
}

fn outbox_row(row: &tokio_postgres::Row) -> Result<Notification, StoreError> {
    let changes: serde_json::Value = row.try_get(5)?;
    Ok(Notification {
        id: row.try_get(0)?,
        recipient: row.try_get(1)?,
        nhs_number: row.try_get(2)?,
        practice_ods: row.try_get(3)?,
        plan_id: row.try_get(4)?,
        changes: changes.as_array().cloned().unwrap_or_default(),
        first_at: row.try_get(6)?,
        attempts: row.try_get(7)?,
        last_error: row.try_get(8)?,
        parked_at: None,
        redelivered_at: None,
    })
}

fn dead_letter(row: &tokio_postgres::Row) -> Result<Notification, StoreError> {
    let mut n = outbox_row(row)?;
    n.parked_at = row.try_get(9)?;
    n.redelivered_at = row.try_get(10)?;
    Ok(n)
}

const OUTBOX_COLUMNS: &str = "outbox_id, recipient, nhs_number, practice_ods, plan_id, changes, \
     first_at, attempts, last_error";
const DEAD_COLUMNS: &str = "dead_letter_id, recipient, nhs_number, practice_ods, plan_id, \
     changes, first_at, attempts, last_error, parked_at, redelivered_at";

/// Puts a message in the outbox: the person's joins their waiting message, if any.
async fn put(
    client: &impl deadpool_postgres::GenericClient,
    e: &Enqueue,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO notification_outbox (outbox_id, recipient, nhs_number, practice_ods, \
               plan_id, changes, first_at, due_at) \
             VALUES ($1, $2, $3, $4, $5, jsonb_build_array($6::jsonb), $7, $8) \
             ON CONFLICT (nhs_number) WHERE recipient = 'person' DO UPDATE \
               SET changes = notification_outbox.changes || excluded.changes, \
                   plan_id = excluded.plan_id",
            &[
                &Uuid::now_v7(),
                &e.recipient,
                &e.nhs_number,
                &e.practice_ods,
                &e.plan_id,
                &e.change,
                &e.at,
                &e.due_at,
            ],
        )
        .await?;
    Ok(())
}

impl Database {
    /// Puts what a page of the feed calls for in the outbox, and moves the notifier's
    /// checkpoint past the page, in one transaction.
    ///
    /// # Errors
    /// When the database fails; then nothing is written and the page is read again.
    pub async fn enqueue_notifications(
        &self,
        items: &[Enqueue],
        cursor: FeedCursor,
    ) -> Result<(), StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        for item in items {
            put(&tx, item).await?;
        }
        save_checkpoint(&tx, NOTIFIER, cursor).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Messages due by `now`, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT {OUTBOX_COLUMNS} FROM notification_outbox WHERE due_at <= $1 \
                     ORDER BY due_at LIMIT $2"
                ),
                &[&now, &limit],
            )
            .await?
            .iter()
            .map(outbox_row)
            .collect()
    }

    /// A message was sent (or is not to be: the person chose no messages, or died) telling of
    /// its first `told` changes: those leave the outbox; changes that joined it meanwhile stay,
    /// due after `window` from now.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn notification_done(
        &self,
        id: Uuid,
        told: &[String],
        next_due: DateTime<Utc>,
        entry: Option<&AccessEntry>,
    ) -> Result<(), StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        // The changes told of leave (by their ids: a redelivery may have added others in any
        // place); what is left waits for the next window under a new id, since NHS Notify
        // refuses a message reference it has had.
        tx.execute(
            "UPDATE notification_outbox SET outbox_id = $4, \
               changes = (SELECT jsonb_agg(c ORDER BY i) FROM jsonb_array_elements(changes) \
                          WITH ORDINALITY AS t(c, i) WHERE NOT (c ->> 'changeId' = ANY($2))), \
               first_at = now(), due_at = $3, attempts = 0, last_error = NULL \
             WHERE outbox_id = $1 AND EXISTS (SELECT 1 FROM jsonb_array_elements(changes) c \
                                              WHERE NOT (c ->> 'changeId' = ANY($2)))",
            &[&id, &told, &next_due, &Uuid::now_v7()],
        )
        .await?;
        tx.execute(
            "DELETE FROM notification_outbox WHERE outbox_id = $1",
            &[&id],
        )
        .await?;
        if let Some(entry) = entry {
            insert_entries(&tx, std::slice::from_ref(entry))
                .await
                .map_err(|e| StoreError::AccessLog(e.to_string()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A send failed: try again at `retry_at`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn notification_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let client = self.connection().await?;
        client
            .execute(
                "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2, \
                 due_at = $3 WHERE outbox_id = $1",
                &[&id, &error, &retry_at],
            )
            .await?;
        Ok(())
    }

    /// Every attempt failed: the message leaves the outbox for the dead letters.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn park_notification(
        &self,
        id: Uuid,
        error: &str,
        entry: Option<&AccessEntry>,
    ) -> Result<Uuid, StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        // The dead letter keeps the message's id: redelivered alone, it goes with its own
        // reference, which NHS Notify recognises if it had the message after all.
        let parked = id;
        tx.execute(
            "INSERT INTO notification_dead_letters (dead_letter_id, recipient, nhs_number, \
               practice_ods, plan_id, changes, first_at, attempts, last_error, parked_at) \
             SELECT $2, recipient, nhs_number, practice_ods, plan_id, changes, first_at, \
               attempts + 1, $3, now() FROM notification_outbox WHERE outbox_id = $1",
            &[&id, &parked, &error],
        )
        .await?;
        tx.execute(
            "DELETE FROM notification_outbox WHERE outbox_id = $1",
            &[&id],
        )
        .await?;
        if let Some(entry) = entry {
            insert_entries(&tx, std::slice::from_ref(entry))
                .await
                .map_err(|e| StoreError::AccessLog(e.to_string()))?;
        }
        tx.commit().await?;
        Ok(parked)
    }

    /// Every dead letter, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn notification_dead_letters(&self) -> Result<Vec<Notification>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT {DEAD_COLUMNS} FROM notification_dead_letters \
                     ORDER BY parked_at, dead_letter_id"
                ),
                &[],
            )
            .await?
            .iter()
            .map(dead_letter)
            .collect()
    }

    /// One dead letter.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn notification_dead_letter(
        &self,
        id: Uuid,
    ) -> Result<Option<Notification>, StoreError> {
        let client = self.connection().await?;
        client
            .query_opt(
                &format!(
                    "SELECT {DEAD_COLUMNS} FROM notification_dead_letters WHERE dead_letter_id = $1"
                ),
                &[&id],
            )
            .await?
            .as_ref()
            .map(dead_letter)
            .transpose()
    }

    /// Puts a dead letter back in the outbox, due now (the sender checks again, then, whether
    /// the person still wants messages and is alive), and marks it redelivered: `None` when it
    /// was redelivered already.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn redeliver_notification(
        &self,
        id: Uuid,
    ) -> Result<Option<Notification>, StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let Some(letter) = tx
            .query_opt(
                &format!(
                    "UPDATE notification_dead_letters SET redelivered_at = now() \
                     WHERE dead_letter_id = $1 AND redelivered_at IS NULL RETURNING {DEAD_COLUMNS}"
                ),
                &[&id],
            )
            .await?
            .as_ref()
            .map(dead_letter)
            .transpose()?
        else {
            return Ok(None);
        };
        tx.execute(
            "INSERT INTO notification_outbox (outbox_id, recipient, nhs_number, practice_ods, \
               plan_id, changes, first_at, due_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, now()) \
             ON CONFLICT (nhs_number) WHERE recipient = 'person' DO UPDATE \
               SET changes = notification_outbox.changes || excluded.changes, due_at = now()",
            &[
                &letter.id,
                &letter.recipient,
                &letter.nhs_number,
                &letter.practice_ods,
                &letter.plan_id,
                &serde_json::Value::Array(letter.changes.clone()),
                &letter.first_at,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(letter))
    }
}

impl Database {
    /// Where the notifier starts when it has never run: after the last event recorded before
    /// `since` (its first start), so that turning it on does not tell everyone of every change
    /// ever made, while a change made once it is on is never missed. Saved at once.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn notifier_start(&self, since: DateTime<Utc>) -> Result<FeedCursor, StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        if let Some(cursor) = load_checkpoint(&tx, NOTIFIER).await? {
            return Ok(cursor);
        }
        let row = tx
            .query_opt(
                "SELECT transaction_id::text, global_position FROM events \
                 WHERE recorded_at < $1 ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
                &[&since],
            )
            .await?;
        let cursor = match row {
            None => FeedCursor::START,
            Some(row) => {
                let tx_id: String = row.try_get(0)?;
                FeedCursor {
                    transaction_id: tx_id.parse().map_err(|e| {
                        StoreError::Corrupt(format!("transaction id {tx_id:?}: {e}"))
                    })?,
                    global_position: row.try_get(1)?,
                }
            }
        };
        save_checkpoint(&tx, NOTIFIER, cursor).await?;
        tx.commit().await?;
        Ok(cursor)
    }

    /// Whether any plan of the person records their death.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn person_deceased(&self, nhs_number: &str) -> Result<bool, StoreError> {
        let client = self.connection().await?;
        Ok(client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM care_plan_view WHERE nhs_number = $1 \
                 AND status = 'deceased')",
                &[&nhs_number],
            )
            .await?
            .try_get(0)?)
    }

    /// The person a proxy grant is for (a revocation names only the grant).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn grant_person(&self, grant_id: Uuid) -> Result<Option<String>, StoreError> {
        let client = self.connection().await?;
        Ok(client
            .query_opt(
                "SELECT nhs_number FROM proxy_grants WHERE grant_id = $1",
                &[&grant_id],
            )
            .await?
            .map(|row| row.try_get(0))
            .transpose()?)
    }
}
