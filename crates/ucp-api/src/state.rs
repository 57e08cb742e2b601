use ucp_store::Database;

/// What every handler shares: the event store (and through it the read models).
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
}
