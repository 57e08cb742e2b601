//! Proxy access (`proxy_grants`): who may act for a person, kept from each person's
//! `proxy_access` stream (the domain's `proxy_access` events) inside the append's transaction.
//! The rules are the domain's (`ucp_domain::proxy_access::decide`); appends to a stream are
//! serialised by its lock, so the read model refuses here what a writer that lost a race decided
//! on a state already gone (a second active grant, a use or revocation of a revoked grant): the
//! loser's append is rolled back with [`StoreError::Refused`], naming the domain's refusal.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::error::SqlState;
use ucp_domain::proxy_access::{ProxyAccessEvent, ProxyRefusal};
use uuid::Uuid;

use crate::{Database, InlineProjection, RecordedEvent, StoreError};

/// The stream type of a person's proxy access.
pub const STREAM_TYPE: &str = "proxy_access";

/// The event types this projection understands: the domain's.
pub use ucp_domain::proxy_access::{GRANTED, REVOKED, USED};

/// The proxy stream of the person with this NHS number: one per person, its id derived from
/// the number so that every writer finds the same stream.
#[must_use]
pub fn stream_id(nhs_number: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x7563_7020_7072_6f78_7920_6163_6365_7373);
    Uuid::new_v5(&NAMESPACE, nhs_number.as_bytes())
}

/// One grant as the read model holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyGrantRow {
    pub grant_id: Uuid,
    pub nhs_number: String,
    pub proxy_nhs_number: String,
    pub proxy_name: String,
    pub relationship: String,
    pub basis: String,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
    pub granted_by_name: Option<String>,
    pub granted_by_role: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub uses: i64,
}

const COLUMNS: &str = "grant_id, nhs_number, proxy_nhs_number, proxy_name, relationship, basis, \
    granted_at, granted_by, granted_by_name, granted_by_role, revoked_at, revoked_by, \
    revoked_reason, last_used_at, uses";

fn row(r: &tokio_postgres::Row) -> Result<ProxyGrantRow, StoreError> {
    Ok(ProxyGrantRow {
        grant_id: r.try_get(0)?,
        nhs_number: r.try_get(1)?,
        proxy_nhs_number: r.try_get(2)?,
        proxy_name: r.try_get(3)?,
        relationship: r.try_get(4)?,
        basis: r.try_get(5)?,
        granted_at: r.try_get(6)?,
        granted_by: r.try_get(7)?,
        granted_by_name: r.try_get(8)?,
        granted_by_role: r.try_get(9)?,
        revoked_at: r.try_get(10)?,
        revoked_by: r.try_get(11)?,
        revoked_reason: r.try_get(12)?,
        last_used_at: r.try_get(13)?,
        uses: r.try_get(14)?,
    })
}

/// The inline projection of proxy access.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProxyGrantProjection;

#[async_trait]
impl InlineProjection for ProxyGrantProjection {
    fn name(&self) -> &'static str {
        "proxy_grants"
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[RecordedEvent],
        _prior: Option<&crate::State>,
        _reads: &crate::StreamReads,
    ) -> Result<Option<crate::State>, StoreError> {
        for event in events.iter().filter(|e| e.stream_type == STREAM_TYPE) {
            apply_one(tx, event).await?;
        }
        Ok(None)
    }
}

async fn apply_one(tx: &Transaction<'_>, event: &RecordedEvent) -> Result<(), StoreError> {
    let by = &event.metadata;
    let typed =
        ProxyAccessEvent::from_data(&event.event_type, &event.data).map_err(StoreError::Corrupt)?;
    match typed {
        ProxyAccessEvent::Granted(g) => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO proxy_grants (grant_id, nhs_number, proxy_nhs_number, proxy_name, \
                     relationship, basis, granted_at, granted_by, granted_by_name, granted_by_role) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .await?;
            let inserted = tx
                .execute(
                    &stmt,
                    &[
                        &g.grant_id,
                        &g.nhs_number,
                        &g.proxy_nhs_number,
                        &g.proxy_name,
                        &g.relationship,
                        &g.basis,
                        &event.recorded_at,
                        &by.actor,
                        &by.actor_name,
                        &by.role,
                    ],
                )
                .await;
            match inserted {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(
                    StoreError::Refused(ProxyRefusal::AlreadyGranted.to_string()),
                ),
                Err(e) => Err(e.into()),
            }
        }
        ProxyAccessEvent::Used(u) => {
            let stmt = tx
                .prepare_cached(
                    "UPDATE proxy_grants SET uses = uses + 1, last_used_at = $2 \
                     WHERE grant_id = $1 AND revoked_at IS NULL",
                )
                .await?;
            if tx
                .execute(&stmt, &[&u.grant_id, &event.recorded_at])
                .await?
                == 0
            {
                return Err(StoreError::Refused(ProxyRefusal::NoActiveGrant.to_string()));
            }
            Ok(())
        }
        ProxyAccessEvent::Revoked(r) => {
            let stmt = tx
                .prepare_cached(
                    "UPDATE proxy_grants SET revoked_at = $2, revoked_by = $3, revoked_reason = $4 \
                     WHERE grant_id = $1 AND revoked_at IS NULL",
                )
                .await?;
            if tx
                .execute(
                    &stmt,
                    &[&r.grant_id, &event.recorded_at, &by.actor, &r.reason],
                )
                .await?
                == 0
            {
                return Err(StoreError::Refused(
                    ProxyRefusal::AlreadyRevoked.to_string(),
                ));
            }
            Ok(())
        }
    }
}

impl Database {
    /// Every grant a person has made or been given, newest first (revoked ones too).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn proxy_grants(&self, nhs_number: &str) -> Result<Vec<ProxyGrantRow>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM proxy_grants WHERE nhs_number = $1 \
                 ORDER BY granted_at DESC, grant_id"
            ))
            .await?;
        client
            .query(&stmt, &[&nhs_number])
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// The active grants a proxy holds, for whoever they act for.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn proxy_grants_held(
        &self,
        proxy_nhs_number: &str,
    ) -> Result<Vec<ProxyGrantRow>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM proxy_grants \
                 WHERE proxy_nhs_number = $1 AND revoked_at IS NULL ORDER BY granted_at"
            ))
            .await?;
        client
            .query(&stmt, &[&proxy_nhs_number])
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// The grant with this id.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn proxy_grant(&self, grant_id: Uuid) -> Result<Option<ProxyGrantRow>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM proxy_grants WHERE grant_id = $1"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&grant_id])
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_person_has_one_stream_of_their_own() {
        assert_eq!(
            super::stream_id("9990000018"),
            super::stream_id("9990000018")
        );
        assert_ne!(
            super::stream_id("9990000018"),
            super::stream_id("9990000026")
        );
    }
}
