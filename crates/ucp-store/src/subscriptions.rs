//! Webhook subscriptions and dead letters.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::feed::{head_of, HEAD_SQL};
use crate::{save_checkpoint, Database, FeedCursor, StoreError, TxSnapshot};

/// What delivery does once a change has failed every attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Park it as a dead letter and go on with later changes.
    Continue,
    /// Park it and hold later changes until it is redelivered.
    Wait,
}

impl FailurePolicy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continue => "continue",
            Self::Wait => "wait",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "continue" => Ok(Self::Continue),
            "wait" => Ok(Self::Wait),
            other => Err(StoreError::Corrupt(format!("failure policy {other:?}"))),
        }
    }
}

/// Where a new subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStart {
    /// With changes committed from now on: nothing of the past is exported.
    Now,
    /// After this position (a replay the admin asked for, and which the access log records).
    After(FeedCursor),
}

/// The consumer checkpoint a subscription's deliveries are tracked under.
#[must_use]
pub fn checkpoint_name(subscription_id: Uuid) -> String {
    format!("subscription:{subscription_id}")
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub subscription_id: Uuid,
    /// Who receives the deliveries, as the person reads it in their access log.
    pub name: String,
    pub target_url: String,
    pub change_types: Vec<String>,
    pub secret: String,
    pub on_failure: FailurePolicy,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub deleted_at: Option<DateTime<Utc>>,
    /// For a subscription started from now: the transactions already committed when it was
    /// made, whose changes it never delivers.
    pub start_snapshot: Option<TxSnapshot>,
}

/// A change that could not be delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub dead_letter_id: Uuid,
    pub subscription_id: Uuid,
    pub change_id: Uuid,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub last_error: String,
    pub parked_at: DateTime<Utc>,
    pub redelivered_at: Option<DateTime<Utc>>,
}

const SUB_COLUMNS: &str = "subscription_id, target_url, change_types, secret, on_failure, \
    max_attempts, created_at, created_by, deleted_at, name, start_snapshot";
const DL_COLUMNS: &str = "dead_letter_id, subscription_id, change_id, payload, attempts, \
    last_error, parked_at, redelivered_at";

fn subscription(row: &tokio_postgres::Row) -> Result<Subscription, StoreError> {
    Ok(Subscription {
        subscription_id: row.try_get(0)?,
        target_url: row.try_get(1)?,
        change_types: row.try_get(2)?,
        secret: row.try_get(3)?,
        on_failure: FailurePolicy::parse(row.try_get(4)?)?,
        max_attempts: row.try_get(5)?,
        created_at: row.try_get(6)?,
        created_by: row.try_get(7)?,
        deleted_at: row.try_get(8)?,
        name: row.try_get(9)?,
        start_snapshot: row
            .try_get::<_, Option<String>>(10)?
            .as_deref()
            .map(TxSnapshot::parse)
            .transpose()?,
    })
}

fn dead_letter(row: &tokio_postgres::Row) -> Result<DeadLetter, StoreError> {
    Ok(DeadLetter {
        dead_letter_id: row.try_get(0)?,
        subscription_id: row.try_get(1)?,
        change_id: row.try_get(2)?,
        payload: row.try_get(3)?,
        attempts: row.try_get(4)?,
        last_error: row.try_get(5)?,
        parked_at: row.try_get(6)?,
        redelivered_at: row.try_get(7)?,
    })
}

impl Database {
    /// Saves a subscription and its starting checkpoint in one transaction. `start_snapshot`
    /// of `s` is ignored: it is taken here, for [`SubscriptionStart::Now`].
    ///
    /// # Errors
    /// When the database fails.
    pub async fn create_subscription(
        &self,
        s: &Subscription,
        start: SubscriptionStart,
    ) -> Result<Subscription, StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let (snapshot, cursor) = match start {
            SubscriptionStart::Now => {
                let head = tx.prepare_cached(HEAD_SQL).await?;
                let (snapshot, cursor) = head_of(&tx.query_one(&head, &[]).await?)?;
                (Some(snapshot.to_string()), cursor)
            }
            SubscriptionStart::After(cursor) => (None, cursor),
        };
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO subscriptions (subscription_id, target_url, change_types, secret, \
                       on_failure, max_attempts, created_by, name, start_snapshot) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {SUB_COLUMNS}"
                ),
                &[
                    &s.subscription_id,
                    &s.target_url,
                    &s.change_types,
                    &s.secret,
                    &s.on_failure.as_str(),
                    &s.max_attempts,
                    &s.created_by,
                    &s.name,
                    &snapshot,
                ],
            )
            .await?;
        save_checkpoint(&tx, &checkpoint_name(s.subscription_id), cursor).await?;
        tx.commit().await?;
        subscription(&row)
    }

    /// Subscriptions not deleted, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn active_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT {SUB_COLUMNS} FROM subscriptions WHERE deleted_at IS NULL \
                     ORDER BY created_at, subscription_id"
                ),
                &[],
            )
            .await?
            .iter()
            .map(subscription)
            .collect()
    }

    /// # Errors
    /// When the database fails.
    pub async fn subscription(&self, id: Uuid) -> Result<Option<Subscription>, StoreError> {
        let client = self.connection().await?;
        client
            .query_opt(
                &format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE subscription_id = $1"),
                &[&id],
            )
            .await?
            .as_ref()
            .map(subscription)
            .transpose()
    }

    /// Marks a subscription deleted; returns false when there was no live one.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn delete_subscription(&self, id: Uuid) -> Result<bool, StoreError> {
        let client = self.connection().await?;
        let n = client
            .execute(
                "UPDATE subscriptions SET deleted_at = clock_timestamp() \
                 WHERE subscription_id = $1 AND deleted_at IS NULL",
                &[&id],
            )
            .await?;
        Ok(n == 1)
    }

    /// Parks a change that could not be delivered (once per subscription and change).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn park_dead_letter(&self, d: &DeadLetter) -> Result<(), StoreError> {
        let client = self.connection().await?;
        client
            .execute(
                "INSERT INTO dead_letters (dead_letter_id, subscription_id, change_id, payload, \
                   attempts, last_error) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (subscription_id, change_id) DO UPDATE SET \
                   attempts = dead_letters.attempts + excluded.attempts, \
                   last_error = excluded.last_error, redelivered_at = NULL",
                &[
                    &d.dead_letter_id,
                    &d.subscription_id,
                    &d.change_id,
                    &d.payload,
                    &d.attempts,
                    &d.last_error,
                ],
            )
            .await?;
        Ok(())
    }

    /// A subscription's dead letters, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn dead_letters(&self, subscription_id: Uuid) -> Result<Vec<DeadLetter>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT {DL_COLUMNS} FROM dead_letters WHERE subscription_id = $1 \
                     ORDER BY parked_at, dead_letter_id"
                ),
                &[&subscription_id],
            )
            .await?
            .iter()
            .map(dead_letter)
            .collect()
    }

    /// How many of a subscription's dead letters still wait for redelivery.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn open_dead_letters(&self, subscription_id: Uuid) -> Result<i64, StoreError> {
        let client = self.connection().await?;
        Ok(client
            .query_one(
                "SELECT count(*) FROM dead_letters WHERE subscription_id = $1 AND redelivered_at IS NULL",
                &[&subscription_id],
            )
            .await?
            .try_get(0)?)
    }

    /// Records a successful redelivery, or another failed attempt.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn settle_dead_letter(
        &self,
        dead_letter_id: Uuid,
        error: Option<&str>,
    ) -> Result<Option<DeadLetter>, StoreError> {
        let client = self.connection().await?;
        let row = match error {
            None => {
                client
                    .query_opt(
                        &format!(
                            "UPDATE dead_letters SET redelivered_at = clock_timestamp(), \
                               attempts = attempts + 1 WHERE dead_letter_id = $1 RETURNING {DL_COLUMNS}"
                        ),
                        &[&dead_letter_id],
                    )
                    .await?
            }
            Some(e) => {
                client
                    .query_opt(
                        &format!(
                            "UPDATE dead_letters SET last_error = $2, attempts = attempts + 1 \
                             WHERE dead_letter_id = $1 RETURNING {DL_COLUMNS}"
                        ),
                        &[&dead_letter_id, &e],
                    )
                    .await?
            }
        };
        row.as_ref().map(dead_letter).transpose()
    }
}
