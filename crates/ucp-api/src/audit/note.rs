use actix_web::{HttpMessage, HttpRequest};
use uuid::Uuid;

/// What a response showed, so the entry can be replayed exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Plan,
    Section,
    Summary,
    History,
    Search,
    Feed,
    /// A replay of what another access showed (admin).
    Replay,
    /// The current summaries handed to a new consumer.
    Snapshot,
    /// A subscription's dead letters (their payloads are summaries).
    DeadLetters,
}

impl View {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Section => "section",
            Self::Summary => "summary",
            Self::History => "history",
            Self::Search => "search",
            Self::Feed => "feed",
            Self::Replay => "replay",
            Self::Snapshot => "snapshot",
            Self::DeadLetters => "dead-letters",
        }
    }
}

/// What a handler knows that the access log needs: which plan, which version, which view.
#[derive(Debug, Clone, Default)]
pub struct AuditNote {
    pub plan_id: Option<Uuid>,
    pub nhs_number: Option<String>,
    pub plan_version: Option<i64>,
    pub view: Option<View>,
    pub section: Option<String>,
    pub search_criteria: Option<serde_json::Value>,
    pub search_results: Option<serde_json::Value>,
    pub returned_nhs_numbers: Vec<String>,
    /// What the entry needs beyond its columns (see `AccessEntry::detail`).
    pub detail: Option<serde_json::Value>,
}

/// Adds to the request's note (later calls fill in what earlier ones did not know).
pub fn note(req: &HttpRequest, update: impl FnOnce(&mut AuditNote)) {
    let mut ext = req.extensions_mut();
    if let Some(existing) = ext.get_mut::<AuditNote>() {
        update(existing);
    } else {
        let mut fresh = AuditNote::default();
        update(&mut fresh);
        ext.insert(fresh);
    }
}
