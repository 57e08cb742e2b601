use std::sync::Arc;
use std::time::Duration;

use crate::tls::{parse_url, Connector, DatabaseTls};
use crate::{InlineProjection, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

/// The role the server logs in as: it may read the log and append to it, never rewrite it.
/// Created by the first migration.
pub const APP_ROLE: &str = "ucp_app";

/// How to reach PostgreSQL.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// A libpq-style URL or key/value string for the database, as its owner (who migrates).
    pub url: String,
    /// How the server's pool logs in. When `None`, `url` with the user replaced by
    /// [`APP_ROLE`], which suits trust or peer authentication; with passwords, give it whole.
    pub app_url: Option<String>,
    pub max_connections: usize,
    /// How long a request may wait for a pooled connection before it fails with 503.
    pub acquire_timeout: Duration,
    /// The longest one statement of the server's may run (PostgreSQL's `statement_timeout`
    /// for the pool's sessions): a statement stuck behind a lock or a runaway query fails
    /// (503 with `Retry-After`) instead of holding a connection and a client for ever.
    /// `None`: no limit.
    pub statement_timeout: Option<Duration>,
    /// Trusted roots for `sslmode=require` (see [`crate::tls`]).
    pub tls: DatabaseTls,
    /// A replica for the reads that may use one (`UCP_REPLICA_URL`; the user is replaced by
    /// [`APP_ROLE`] as for `url`), and its bounds.
    pub replica_url: Option<String>,
    pub replica_bounds: crate::replica::ReplicaBounds,
}

impl DatabaseConfig {
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            app_url: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(15)),
            tls: DatabaseTls::default(),
            replica_url: None,
            replica_bounds: crate::replica::ReplicaBounds::default(),
        }
    }
}

/// A pool whose sessions log in as the application role, never as the owner.
///
/// # Errors
/// When the URL cannot be parsed or the pool cannot be built.
pub fn connect(config: &DatabaseConfig) -> Result<Pool, StoreError> {
    let mut pg = app_pg_config(config)?;
    let follows_primary = pg.get_hosts().len() > 1
        && pg.get_target_session_attrs() == tokio_postgres::config::TargetSessionAttrs::ReadWrite;
    if let Some(limit) = config.statement_timeout {
        // Only the pool's sessions: LISTEN and leader sessions hold no statement open.
        let options = format!(
            "{} -c statement_timeout={}",
            pg.get_options().unwrap_or_default(),
            limit.as_millis().max(1)
        );
        pg.options(options.trim());
    }
    let manager = Manager::from_config(
        pg,
        config.tls.connector()?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let mut builder = Pool::builder(manager)
        .max_size(config.max_connections)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .recycle_timeout(Some(config.acquire_timeout));
    if follows_primary {
        builder = builder.pre_recycle(still_primary_hook());
    }
    builder
        .build()
        .map_err(|e| StoreError::Config(e.to_string()))
}

/// How long a pooled connection may sit unused before it is checked, on its way out of the
/// pool, to be on the primary still.
const IDLE_BEFORE_CHECK: Duration = Duration::from_secs(1);

/// With several hosts and `target_session_attrs=read-write`, the pool follows the primary: new
/// connections reach whichever node is primary, and a connection that sat idle is checked to
/// be on a writable node before it is handed out (a failover restarts the demoted node, which
/// closes its connections; this catches one that survived). Busy connections are not checked:
/// a write they send to a read-only node fails with 25006, which is answered 503.
fn still_primary_hook() -> deadpool_postgres::Hook {
    deadpool_postgres::Hook::async_fn(|client: &mut deadpool_postgres::ClientWrapper, metrics| {
        let idle = metrics.last_used() >= IDLE_BEFORE_CHECK;
        Box::pin(async move {
            if !idle {
                return Ok(());
            }
            match client.query_one("SELECT pg_is_in_recovery()", &[]).await {
                Ok(row) if !row.try_get::<_, bool>(0).unwrap_or(true) => Ok(()),
                Ok(_) => Err(deadpool_postgres::HookError::message(
                    "the connection is to a standby (demoted in a failover)",
                )),
                Err(e) => Err(deadpool_postgres::HookError::Backend(e)),
            }
        })
    })
}

/// The store with its pool and, for the feed's wake-ups, the settings of a dedicated
/// `LISTEN` connection.
///
/// # Errors
/// As [`connect`].
pub fn open(
    config: &DatabaseConfig,
    projections: Vec<Arc<dyn InlineProjection>>,
) -> Result<Database, StoreError> {
    let pool = connect(config)?;
    let mut db = Database::with_projections(pool.clone(), projections);
    db.listen = Some((app_pg_config(config)?, config.tls.connector()?));
    if let Some(url) = &config.replica_url {
        let replica_config = DatabaseConfig {
            url: url.clone(),
            app_url: None,
            ..config.clone()
        };
        let replica =
            crate::replica::Replica::new(connect(&replica_config)?, config.replica_bounds);
        // The poller lives as long as the process; it only reads two positions.
        drop(replica.watch(pool));
        db = db.with_replica(replica);
    }
    Ok(db)
}

/// How the application role connects.
///
/// # Errors
/// When a URL cannot be parsed.
pub fn app_pg_config(config: &DatabaseConfig) -> Result<tokio_postgres::Config, StoreError> {
    let mut pg = match &config.app_url {
        Some(app_url) => parse_url(app_url)?,
        None => {
            let mut pg = parse_url(&config.url)?;
            pg.user(APP_ROLE);
            pg
        }
    };
    if pg.get_application_name().is_none() {
        pg.application_name("ucp");
    }
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(config.acquire_timeout);
    }
    Ok(pg)
}

/// The event store: a pool and the inline projections every append runs in its transaction.
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    pub(crate) projections: Arc<[Arc<dyn InlineProjection>]>,
    /// How to open connections of its own (LISTEN, leader election), outside the pool.
    pub(crate) listen: Option<(tokio_postgres::Config, Connector)>,
    pub(crate) stream_reads: crate::StreamReads,
    pool_waits: PoolWaits,
    pub(crate) plan_states: crate::read_stream::StateCache,
    pub(crate) feed_states: crate::read_stream::StateCache,
    /// Where the reads that may use a replica go (see `replica`).
    pub(crate) replica: Option<crate::replica::Replica>,
}

/// Who hears how long each request for a pooled connection waited (the metrics' histogram);
/// the store itself knows no metrics library.
#[derive(Clone, Default)]
pub struct PoolWaits(Arc<std::sync::OnceLock<PoolWaitObserver>>);

/// Hears one wait for a pooled connection.
pub type PoolWaitObserver = Arc<dyn Fn(std::time::Duration) + Send + Sync>;

impl PoolWaits {
    fn observe(&self, waited: std::time::Duration) {
        if let Some(observer) = self.0.get() {
            observer(waited);
        }
    }
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
            listen: None,
            stream_reads: crate::StreamReads::default(),
            pool_waits: PoolWaits::default(),
            plan_states: crate::read_stream::StateCache::default(),
            feed_states: crate::read_stream::StateCache::default(),
            replica: None,
        }
    }

    /// The same store, with projections that run inside every append's transaction so that a
    /// saved change is visible to every reader the moment the write returns.
    #[must_use]
    pub fn with_projections(pool: Pool, projections: Vec<Arc<dyn InlineProjection>>) -> Self {
        Self {
            pool,
            projections: Arc::from(projections),
            listen: None,
            stream_reads: crate::StreamReads::default(),
            pool_waits: PoolWaits::default(),
            plan_states: crate::read_stream::StateCache::default(),
            feed_states: crate::read_stream::StateCache::default(),
            replica: None,
        }
    }

    #[must_use]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Has `observer` hear how long every wait for a pooled connection took (once per store;
    /// a second observer is ignored).
    pub fn observe_pool_waits(&self, observer: PoolWaitObserver) {
        let _ = self.pool_waits.0.set(observer);
    }

    /// A pooled connection, its wait observed.
    pub(crate) async fn connection(&self) -> Result<deadpool_postgres::Object, StoreError> {
        let started = std::time::Instant::now();
        let client = self.pool.get().await;
        self.pool_waits.observe(started.elapsed());
        Ok(client?)
    }

    /// True when a connection can be had and answers.
    ///
    /// # Errors
    /// When the pool or the database fails.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.connection().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }
}

impl Database {
    /// A connection of its own, outside the pool, for session-scoped state such as the advisory
    /// locks that elect one leader per webhook subscription: when this connection dies, its
    /// locks go with it and another server takes over. `None` when the store was built from a
    /// bare pool.
    ///
    /// # Errors
    /// When the database cannot be reached.
    pub async fn dedicated_connection(&self) -> Result<Option<tokio_postgres::Client>, StoreError> {
        let Some((config, tls)) = &self.listen else {
            return Ok(None);
        };
        let (client, connection) = config.connect(tls.clone()).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "dedicated connection ended");
            }
        });
        Ok(Some(client))
    }
}
