//! The PostgreSQL event store: the only source of truth of the service.
//!
//! Every change is appended to `events` under a per-stream advisory lock, with an expected
//! version so that concurrent writers cannot overwrite each other; the gapless feed reads the log
//! in commit order behind a transaction-id fence, so that no follower ever skips an event.

mod access_log;
pub mod alerts;
mod append;
pub mod bulk_load;
mod checkpoint;
mod database;
mod error;
mod event;
mod feed;
mod feed_signal;
mod migrate;
pub mod notifications;
mod nrl;
mod projection;
pub mod projections;
pub mod queries;
mod read_stream;
pub mod replica;
mod subscriptions;
pub mod tls;
mod tx_snapshot;
mod worklist;

pub use access_log::{AccessEntry, AccessQuery};
pub use append::{AppendOutcome, AppendRequest, ExpectedVersion, IdempotencyKey};
pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use database::{app_pg_config, connect, open, Database, DatabaseConfig, APP_ROLE};
pub use error::StoreError;
pub use event::{EventMetadata, NewEvent, RecordedEvent};
pub use feed::{FeedCursor, FeedPage, InvalidCursor};
pub use feed::{LagReport, SummarySnapshot};
pub use feed_signal::FeedSignal;
pub use migrate::{analyze_as_owner, migrate, migrate_with_tls, MigrationStatus};
pub use nrl::{NrlDeadLetter, NRL_CHECKPOINT};
pub use projection::{InlineProjection, State};
pub use queries::{PatientMatch, PatientSearch, PlanRow, ResidentRow, StoredSummary, SummaryRow};
pub use read_stream::{stream_sql, StreamBound, StreamReads};
pub use subscriptions::{
    checkpoint_name, DeadLetter, FailurePolicy, Subscription, SubscriptionStart,
};
pub use tls::DatabaseTls;
pub use tx_snapshot::TxSnapshot;
pub use worklist::{WorklistCounts, WorklistQuery, WorklistRow};

/// Re-exported so that callers can hold transactions and clients without naming the driver.
pub use deadpool_postgres::{Pool, PoolError, Status as PoolStatus, Transaction};
/// A connection of its own (see [`Database::dedicated_connection`]), and its errors.
pub use tokio_postgres::{Client as DedicatedConnection, Error as PgError};
