use ucp_store::Database;

/// What every handler shares: the event store (and through it the read models).
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
}

impl AppState {
    /// The store with the inline projections every append must run.
    #[must_use]
    pub fn new(pool: ucp_store::Pool) -> Self {
        Self {
            db: Database::with_projections(
                pool,
                vec![std::sync::Arc::new(
                    ucp_store::projections::care_plans::CarePlanProjection,
                )],
            ),
        }
    }
}
