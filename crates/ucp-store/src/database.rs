use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::{InlineProjection, StoreError};

/// The role every server session runs as: it may read the log and append to it, never rewrite
/// it. Set as a startup parameter, so even `RESET ROLE` returns to it.
pub const APP_ROLE: &str = "ucp_app";

/// How to reach PostgreSQL.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// A libpq-style URL or key/value string, for a user that may `SET ROLE ucp_app`.
    pub url: String,
    pub max_connections: usize,
    /// How long a request may wait for a pooled connection before it fails with 503.
    pub acquire_timeout: Duration,
}

impl DatabaseConfig {
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool whose sessions all run as [`APP_ROLE`].
///
/// # Errors
/// When the URL cannot be parsed or the pool cannot be built.
pub fn connect(config: &DatabaseConfig) -> Result<Pool, StoreError> {
    let mut pg: tokio_postgres::Config = config
        .url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Config(e.to_string()))?;
    let options = match pg.get_options() {
        Some(existing) => format!("{existing} -c role={APP_ROLE}"),
        None => format!("-c role={APP_ROLE}"),
    };
    pg.options(&options);
    if pg.get_application_name().is_none() {
        pg.application_name("ucp");
    }
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.max_connections)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .build()
        .map_err(|e| StoreError::Config(e.to_string()))
}

/// The event store: a pool and the inline projections every append runs in its transaction.
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    pub(crate) projections: Arc<[Arc<dyn InlineProjection>]>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("projections", &self.projections.len())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// A store with no inline projection: appends write only the log.
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            projections: Arc::from(Vec::new()),
        }
    }

    /// The same store, with projections that run inside every append's transaction so that a
    /// saved change is visible to every reader the moment the write returns.
    #[must_use]
    pub fn with_projections(pool: Pool, projections: Vec<Arc<dyn InlineProjection>>) -> Self {
        Self {
            pool,
            projections: Arc::from(projections),
        }
    }

    #[must_use]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// True when a connection can be had and answers.
    ///
    /// # Errors
    /// When the pool or the database fails.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }
}
