use crate::tls::{parse_url, DatabaseTls};
use crate::StoreError;

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// Arbitrary but fixed: the advisory lock that serialises migrating processes.
const MIGRATION_LOCK_KEY: i64 = 0x7563_705f_6d69_6772; // "ucp_migr"

/// Where the database stands against the migrations this build carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Option<i64>,
    pub expected: i64,
}

impl MigrationStatus {
    #[must_use]
    pub fn is_current(&self) -> bool {
        self.applied == Some(self.expected)
    }
}

fn latest_embedded() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// Applies every migration not yet applied, holding a session advisory lock so that two
/// processes starting at once apply each migration once. Returns how many were applied.
///
/// # Errors
/// When the database cannot be reached or a migration fails (it is then rolled back).
pub async fn migrate(url: &str) -> Result<usize, StoreError> {
    migrate_with_tls(url, &DatabaseTls::default()).await
}

/// Fresh planner statistics for the log and the read models, as their owner (the application
/// role may not analyse them): loaders call it after a bulk load, because a hot read whose plan
/// depends on stale statistics is a trap.
///
/// # Errors
/// When the database cannot be reached or refuses.
pub async fn analyze_as_owner(url: &str, tls: &DatabaseTls) -> Result<(), StoreError> {
    let (client, connection) = parse_url(url)?.connect(tls.connector()?).await?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "analyze connection ended with an error");
        }
    });
    let result = client
        .batch_execute(
            "ANALYZE events, streams, care_plan_view, emergency_summary, patient_index, \
             review_worklist",
        )
        .await;
    drop(client);
    let _ = driver.await;
    Ok(result?)
}

/// As [`migrate`], trusting `tls`'s roots when the URL says `sslmode=require`.
///
/// # Errors
/// As [`migrate`].
pub async fn migrate_with_tls(url: &str, tls: &DatabaseTls) -> Result<usize, StoreError> {
    let (mut client, connection) = parse_url(url)?.connect(tls.connector()?).await?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "migration connection ended with an error");
        }
    });
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let report = embedded::migrations::runner()
        .run_async(&mut client)
        .await
        .map_err(|e| StoreError::Migration(e.to_string()));
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    drop(client);
    let _ = driver.await;
    let report = report?;
    unlocked?;
    for m in report.applied_migrations() {
        tracing::info!(version = m.version(), name = m.name(), "migration applied");
    }
    Ok(report.applied_migrations().len())
}

impl crate::Database {
    /// Compares the database's applied migrations with this build's.
    ///
    /// # Errors
    /// When the database cannot be queried.
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let client = self.connection().await?;
        migration_status(&client).await
    }
}

async fn migration_status(client: &tokio_postgres::Client) -> Result<MigrationStatus, StoreError> {
    let expected = latest_embedded();
    let exists = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await?;
    let applied = if exists.try_get::<_, bool>(0)? {
        let row = client
            .query_one(
                "SELECT max(version)::bigint FROM refinery_schema_history",
                &[],
            )
            .await?;
        row.try_get::<_, Option<i64>>(0)?
    } else {
        None
    };
    Ok(MigrationStatus { applied, expected })
}
