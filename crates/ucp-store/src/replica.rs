//! Reads from a replica that still read your own writes. Every write response carries the
//! primary's WAL position after the write ([`Database::consistency_token`]); a read that
//! presents it is served by the replica only once the replica has replayed past it (waiting a
//! bounded time), else by the primary. A read without one may use the replica while it is
//! known to be no staler than a bound. A poller keeps the replica's position and freshness in
//! memory, so choosing costs no round trip.
//!
//! Which reads may go to a replica is the caller's choice: a request scope
//! ([`READ_CONSISTENCY`]) says what the request needs; reads outside one use the primary.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio_postgres::types::PgLsn;

use crate::{Database, StoreError};

/// What one request needs of a read, and which server served it.
#[derive(Debug)]
pub struct ReadConsistency {
    /// The token the client presented: the write position it must see.
    pub after: Option<u64>,
    /// Where the read went (set by the store): `true` for the replica.
    pub served_by_replica: std::cell::Cell<Option<bool>>,
}

impl ReadConsistency {
    #[must_use]
    pub fn new(after: Option<u64>) -> Self {
        Self {
            after,
            served_by_replica: std::cell::Cell::new(None),
        }
    }
}

tokio::task_local! {
    /// Set around a request whose reads may go to the replica.
    pub static READ_CONSISTENCY: ReadConsistency;
    /// Set around a request that writes: an append that commits inside it records the
    /// primary's WAL position after its commit, read on the append's own connection, so that
    /// the response's consistency token costs no second connection.
    pub static WRITE_POSITION: std::cell::Cell<WritePosition>;
}

/// The WAL position after a request's writes, as their appends saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WritePosition {
    /// The latest position noted.
    pub lsn: Option<u64>,
    /// An append of the request could not note its position: `lsn` may not cover every write,
    /// so the token must be asked for afresh.
    pub unknown: bool,
}

impl WritePosition {
    /// The token's position, when every write of the request noted one.
    #[must_use]
    pub fn known(self) -> Option<u64> {
        self.lsn.filter(|_| !self.unknown)
    }
}

/// Records, for the request's [`WRITE_POSITION`] scope if there is one, the WAL position after
/// a commit just made on `client`. The write is committed whatever happens here: a failure only
/// leaves the token to be asked for on another connection. Returns `false` when the connection
/// did not answer in time and must not be used again.
pub(crate) async fn note_write_position(client: &deadpool_postgres::Object) -> bool {
    if WRITE_POSITION.try_with(|_| ()).is_err() {
        return true;
    }
    let unknown = || {
        let _ = WRITE_POSITION.try_with(|p| {
            p.set(WritePosition {
                unknown: true,
                ..p.get()
            });
        });
    };
    // Bounded: the write is committed and answered whatever this does (a server that went
    // away just after the commit must not hold the answer back).
    // Prepared once per connection: one round trip, not two.
    let asked = tokio::time::timeout(Duration::from_secs(1), async {
        let stmt = client.prepare_cached("SELECT pg_current_wal_lsn()").await?;
        client.query_one(&stmt, &[]).await
    })
    .await;
    let Ok(asked) = asked else {
        tracing::warn!("the WAL position after a write did not come within 1 s");
        unknown();
        return false;
    };
    match asked.and_then(|row| row.try_get::<_, PgLsn>(0)) {
        Ok(lsn) => {
            let lsn = u64::from(lsn);
            let _ = WRITE_POSITION.try_with(|p| {
                let was = p.get();
                p.set(WritePosition {
                    lsn: Some(was.lsn.map_or(lsn, |q| q.max(lsn))),
                    ..was
                });
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the WAL position after a write");
            unknown();
        }
    }
    true
}

/// How long a read waits for the replica to reach its token, and how stale a read without a
/// token may be.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaBounds {
    pub max_wait: Duration,
    pub max_staleness: Duration,
    pub poll: Duration,
}

impl Default for ReplicaBounds {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_millis(200),
            max_staleness: Duration::from_secs(1),
            poll: Duration::from_millis(20),
        }
    }
}

/// A replica's pool and what the poller last saw of it.
#[derive(Debug, Clone)]
pub struct Replica {
    pool: Pool,
    bounds: ReplicaBounds,
    /// The WAL position the replica has replayed (0: unknown).
    replayed: Arc<AtomicU64>,
    /// When the replica was last seen to have replayed everything the primary had written at
    /// that instant, in milliseconds since `epoch` (-1: never).
    fresh_at_ms: Arc<AtomicI64>,
    epoch: Instant,
}

/// `X/Y` (hex), as PostgreSQL writes a WAL position, as a number.
#[must_use]
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    (hi <= u64::from(u32::MAX) && lo <= u64::from(u32::MAX)).then_some((hi << 32) | lo)
}

/// A WAL position as PostgreSQL writes it.
#[must_use]
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

impl Replica {
    /// A replica from its pool; call [`Replica::watch`] to keep its position current.
    #[must_use]
    pub fn new(pool: Pool, bounds: ReplicaBounds) -> Self {
        Self {
            pool,
            bounds,
            replayed: Arc::new(AtomicU64::new(0)),
            fresh_at_ms: Arc::new(AtomicI64::new(-1)),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Polls the primary's and the replica's positions every `bounds.poll`, for as long as the
    /// returned task runs.
    pub fn watch(&self, primary: Pool) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = me.observe(&primary).await {
                    tracing::debug!(error = %e, "replica position unknown");
                    me.replayed.store(0, Ordering::Relaxed);
                }
                tokio::time::sleep(me.bounds.poll).await;
            }
        })
    }

    async fn observe(&self, primary: &Pool) -> Result<(), StoreError> {
        let asked_at = self.now_ms();
        let written: PgLsn = primary
            .get()
            .await?
            .query_one("SELECT pg_current_wal_lsn()", &[])
            .await?
            .try_get(0)?;
        // A node that is no longer in recovery (promoted) has everything it has.
        let row = self
            .pool
            .get()
            .await?
            .query_one(
                "SELECT COALESCE(pg_last_wal_replay_lsn(), pg_current_wal_lsn()), pg_is_in_recovery()",
                &[],
            )
            .await?;
        let replayed: PgLsn = row.try_get(0)?;
        let replayed = u64::from(replayed);
        self.replayed.store(replayed, Ordering::Relaxed);
        if replayed >= u64::from(written) {
            self.fresh_at_ms.store(asked_at, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Whether a read needing `after` (or, without, fresh within the bound) may use the
    /// replica now, waiting up to the bound for it to catch up.
    async fn usable(&self, after: Option<u64>) -> bool {
        match after {
            Some(lsn) => {
                let deadline = Instant::now() + self.bounds.max_wait;
                loop {
                    if self.replayed.load(Ordering::Relaxed) >= lsn {
                        return true;
                    }
                    if Instant::now() >= deadline {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            None => {
                let fresh = self.fresh_at_ms.load(Ordering::Relaxed);
                let bound =
                    i64::try_from(self.bounds.max_staleness.as_millis()).unwrap_or(i64::MAX);
                fresh >= 0 && self.now_ms() - fresh <= bound
            }
        }
    }
}

impl Database {
    /// The store with a replica for the reads that may use one.
    #[must_use]
    pub fn with_replica(mut self, replica: Replica) -> Self {
        self.replica = Some(replica);
        self
    }

    /// The primary's WAL position now: after a commit on it, at or past that commit. Sent with
    /// every write response, so that a later read can ask to see it.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn consistency_token(&self) -> Result<String, StoreError> {
        let client = self.connection().await?;
        let lsn: PgLsn = client
            .query_one("SELECT pg_current_wal_lsn()", &[])
            .await?
            .try_get(0)?;
        Ok(format_lsn(u64::from(lsn)))
    }

    /// A connection for a read that may use the replica: the replica when the request's scope
    /// allows it and the replica qualifies, the primary otherwise (and outside any scope).
    pub(crate) async fn read_connection(&self) -> Result<deadpool_postgres::Object, StoreError> {
        let Some(replica) = &self.replica else {
            let _ = READ_CONSISTENCY.try_with(|c| c.served_by_replica.set(Some(false)));
            return self.connection().await;
        };
        let Ok(after) = READ_CONSISTENCY.try_with(|c| c.after) else {
            return self.connection().await;
        };
        let use_replica = replica.usable(after).await;
        let client = if use_replica {
            match replica.pool.get().await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::debug!(error = %e, "replica unavailable; reading from the primary");
                    None
                }
            }
        } else {
            None
        };
        let _ = READ_CONSISTENCY.try_with(|c| c.served_by_replica.set(Some(client.is_some())));
        match client {
            Some(c) => Ok(c),
            None => self.connection().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{format_lsn, parse_lsn};

    #[test]
    fn wal_positions_read_and_write_as_postgresql_writes_them() {
        assert_eq!(parse_lsn("0/3016C18"), Some(0x0301_6C18));
        assert_eq!(parse_lsn("1A/0"), Some(0x1A_0000_0000));
        assert_eq!(format_lsn(0x1A_0301_6C18), "1A/3016C18");
        assert_eq!(
            parse_lsn(&format_lsn(123_456_789_012)),
            Some(123_456_789_012)
        );
        for bad in ["", "0", "x/1", "1/2/3", "100000000/0"] {
            assert_eq!(parse_lsn(bad), None, "{bad}");
        }
    }
}
