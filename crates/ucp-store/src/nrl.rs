//! The National Record Locator publisher's dead letters: pointer changes that could not be
//! sent, kept until an admin redelivers them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Database, StoreError};

/// The publisher's position in the feed.
pub const NRL_CHECKPOINT: &str = "nrl-publisher";

/// One parked pointer change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NrlDeadLetter {
    pub dead_letter_id: Uuid,
    pub change_id: Uuid,
    pub plan_id: Uuid,
    pub nhs_number: String,
    pub pointer_id: String,
    pub method: String,
    pub attempts: i32,
    pub last_error: String,
    pub parked_at: DateTime<Utc>,
    pub redelivered_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "dead_letter_id, change_id, plan_id, nhs_number, pointer_id, method, \
                       attempts, last_error, parked_at, redelivered_at";

fn letter(row: &tokio_postgres::Row) -> Result<NrlDeadLetter, StoreError> {
    Ok(NrlDeadLetter {
        dead_letter_id: row.try_get(0)?,
        change_id: row.try_get(1)?,
        plan_id: row.try_get(2)?,
        nhs_number: row.try_get(3)?,
        pointer_id: row.try_get(4)?,
        method: row.try_get(5)?,
        attempts: row.try_get(6)?,
        last_error: row.try_get(7)?,
        parked_at: row.try_get(8)?,
        redelivered_at: row.try_get(9)?,
    })
}

impl Database {
    /// Parks a pointer change (once per change and pointer; parking it again reopens it).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn park_nrl_dead_letter(&self, d: &NrlDeadLetter) -> Result<(), StoreError> {
        let client = self.connection().await?;
        client
            .execute(
                "INSERT INTO nrl_dead_letters (dead_letter_id, change_id, plan_id, nhs_number, \
                   pointer_id, method, attempts, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (change_id, pointer_id) DO UPDATE SET \
                   attempts = nrl_dead_letters.attempts + excluded.attempts, \
                   last_error = excluded.last_error, redelivered_at = NULL",
                &[
                    &d.dead_letter_id,
                    &d.change_id,
                    &d.plan_id,
                    &d.nhs_number,
                    &d.pointer_id,
                    &d.method,
                    &d.attempts,
                    &d.last_error,
                ],
            )
            .await?;
        Ok(())
    }

    /// Every parked pointer change, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn nrl_dead_letters(&self) -> Result<Vec<NrlDeadLetter>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM nrl_dead_letters ORDER BY parked_at, dead_letter_id"
            ))
            .await?;
        client.query(&stmt, &[]).await?.iter().map(letter).collect()
    }

    /// One parked pointer change.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn nrl_dead_letter(&self, id: Uuid) -> Result<Option<NrlDeadLetter>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM nrl_dead_letters WHERE dead_letter_id = $1"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .as_ref()
            .map(letter)
            .transpose()
    }

    /// Records a redelivery: settled (`error` none) or one more failed attempt. Settles only a
    /// letter still open, so two admins redelivering at once settle it once; `None` when it was
    /// not open.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn settle_nrl_dead_letter(
        &self,
        id: Uuid,
        error: Option<&str>,
    ) -> Result<Option<NrlDeadLetter>, StoreError> {
        let client = self.connection().await?;
        let sql = match error {
            None => format!(
                "UPDATE nrl_dead_letters SET redelivered_at = clock_timestamp(), \
                   attempts = attempts + 1 \
                 WHERE dead_letter_id = $1 AND redelivered_at IS NULL RETURNING {COLUMNS}"
            ),
            Some(_) => format!(
                "UPDATE nrl_dead_letters SET attempts = attempts + 1, last_error = $2 \
                 WHERE dead_letter_id = $1 AND redelivered_at IS NULL RETURNING {COLUMNS}"
            ),
        };
        let row = match error {
            None => client.query_opt(&sql, &[&id]).await?,
            Some(e) => client.query_opt(&sql, &[&id, &e]).await?,
        };
        row.as_ref().map(letter).transpose()
    }
}
