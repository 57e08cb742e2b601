use std::sync::Arc;

use ucp_store::projections::care_plans::CarePlanProjection;
use ucp_store::projections::proxies::ProxyGrantProjection;
use ucp_store::{Database, DatabaseConfig, FeedSignal};

/// What every handler shares: the event store (and through it the read models), and the
/// signal that wakes feed readers when a change commits.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
    pub feed: FeedSignal,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Who may sign as the senior responsible clinician (`UCP_SENIOR_DESIGNATIONS`).
    pub signing: Arc<ucp_domain::signing::SigningPolicy>,
    /// Summaries as judged today, per plan version, sent again as they were encoded.
    pub summaries: crate::judged_summaries::JudgedSummaries,
}

impl AppState {
    /// The store with the inline projections every append must run; feed readers poll.
    #[must_use]
    pub fn new(pool: ucp_store::Pool) -> Self {
        Self::observed(
            Database::with_projections(
                pool,
                vec![Arc::new(CarePlanProjection), Arc::new(ProxyGrantProjection)],
            ),
            FeedSignal::silent(),
        )
    }

    /// The state, with the store reporting its pool waits to the metrics.
    fn observed(db: Database, feed: FeedSignal) -> Self {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let waits = metrics.pool_wait_seconds.clone();
        db.observe_pool_waits(Arc::new(move |waited| waits.observe(waited.as_secs_f64())));
        Self {
            db,
            feed,
            metrics,
            signing: Arc::new(ucp_domain::signing::SigningPolicy::default()),
            summaries: crate::judged_summaries::JudgedSummaries::default(),
        }
    }

    /// The pool's and the feed's gauges, read now for a scrape. A scrape must answer even when
    /// the database does not: the lag gauges then keep their last values, and the pool's state
    /// (read locally) says why.
    pub async fn refresh_gauges(&self) {
        let lag = tokio::time::timeout(std::time::Duration::from_secs(2), self.db.lag_report())
            .await
            .ok()
            .and_then(Result::ok);
        self.metrics.scraped(&self.db.pool().status(), lag.as_ref());
    }

    /// Whether the database carries every migration this build expects (readiness).
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn migration_status(&self) -> Result<ucp_store::MigrationStatus, crate::AppError> {
        Ok(self.db.migration_status().await?)
    }

    /// As [`AppState::new`], and feed readers are woken by a LISTEN connection. Call it on a
    /// Tokio runtime: the listener is a task.
    ///
    /// # Errors
    /// When the settings are not usable.
    pub fn open(config: &DatabaseConfig) -> Result<Self, ucp_store::StoreError> {
        let db = ucp_store::open(
            config,
            vec![Arc::new(CarePlanProjection), Arc::new(ProxyGrantProjection)],
        )?;
        let feed = db.feed_signal();
        Ok(Self::observed(db, feed))
    }
}
