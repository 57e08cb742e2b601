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
    /// The review worklist (names and NHS numbers of people due a review).
    Worklist,
    /// What changed in a plan since a version.
    Changes,
    /// The printed plan (PDF) at a version.
    Document,
    /// FHIR resources (a read, a search, `$everything`), each from a plan at a version.
    Fhir,
    /// A check of a printed copy's currency by whoever holds the paper (`GET /check/{code}`).
    PrintedCopyCheck,
    /// A care home's read of a resident's plan (the parts a home's staff read).
    CareHomePlan,
    /// A care home's read of one section of a resident's plan.
    CareHomeSection,
    /// A care home's read of a resident's emergency summary.
    CareHomeSummary,
    /// A care home's print of a resident's plan.
    CareHomeDocument,
    /// A care home's list of its residents (names, NHS numbers, plan ids).
    Residents,
    /// A change of where the person lives: what its answer showed (the residence, no more of
    /// the plan).
    Residence,
    /// The privacy officer's list of alerts (each names the person it is about).
    Alerts,
    /// One privacy alert with its evidence, or an outcome recorded on it.
    Alert,
    /// A message that told the person or their GP practice of a change (its replay is the
    /// message sent).
    Notification,
}

impl View {
    pub const ALL: [Self; 23] = [
        Self::Plan,
        Self::Section,
        Self::Summary,
        Self::History,
        Self::Search,
        Self::Feed,
        Self::Replay,
        Self::Snapshot,
        Self::DeadLetters,
        Self::Worklist,
        Self::Changes,
        Self::Document,
        Self::Fhir,
        Self::PrintedCopyCheck,
        Self::CareHomePlan,
        Self::CareHomeSection,
        Self::CareHomeSummary,
        Self::CareHomeDocument,
        Self::Residents,
        Self::Residence,
        Self::Alerts,
        Self::Alert,
        Self::Notification,
    ];

    /// The view named in an access-log entry.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

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
            Self::Worklist => "worklist",
            Self::Changes => "changes",
            Self::Document => "document",
            Self::Fhir => "fhir",
            Self::PrintedCopyCheck => "printed-copy-check",
            Self::CareHomePlan => "care-home-plan",
            Self::CareHomeSection => "care-home-section",
            Self::CareHomeSummary => "care-home-summary",
            Self::CareHomeDocument => "care-home-document",
            Self::Residents => "residents",
            Self::Residence => "residence",
            Self::Alerts => "alerts",
            Self::Alert => "alert",
            Self::Notification => "notification",
        }
    }

    /// The view as the access log names it for this reader: a care home's reads have names of
    /// their own, so that the person and the privacy officer tell them apart at a glance.
    #[must_use]
    pub fn read_by(self, actor: &crate::Actor) -> Self {
        if !actor.role.reads_residents_only() {
            return self;
        }
        match self {
            Self::Plan => Self::CareHomePlan,
            Self::Section => Self::CareHomeSection,
            Self::Summary => Self::CareHomeSummary,
            Self::Document => Self::CareHomeDocument,
            other => other,
        }
    }
}

tokio::task_local! {
    /// Set around a request by the access log: the grant under which the use case admitted a
    /// proxy ([`crate::proxies::admit`]), so that the entry is the proxy's, about the person,
    /// whether the act then succeeded or was refused (a stale tag, a closed plan).
    pub static ADMITTED: std::cell::RefCell<Option<crate::ActingFor>>;
}

/// Makes a request's entry from who wrote, what the write shows and the answer's status.
pub type BuildEntry = dyn Fn(&crate::Actor, Access, u16) -> ucp_store::AccessEntry;

/// How the access-log entry of the request a write answers is made, by the layer that knows the
/// request (HTTP: who, how, why, with which id), so that the write commits it in its own
/// transaction ([`crate::commands::execute`]): a write that commits has its entry, its outcome
/// done, and the two cannot disagree. `written` says the entry is committed.
pub struct EntryInWrite {
    pub build: Box<BuildEntry>,
    pub written: std::cell::Cell<bool>,
}

impl std::fmt::Debug for EntryInWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryInWrite")
            .field("written", &self.written.get())
            .finish_non_exhaustive()
    }
}

tokio::task_local! {
    /// Set around a request that may write by the access log (see [`EntryInWrite`]).
    pub static ENTRY_IN_WRITE: EntryInWrite;
}

/// What a call showed, returned with its result so that the access log records it exactly
/// (and a replay can show it again): which plan, which version, which view, and whose NHS
/// numbers came back.
#[derive(Debug, Clone, Default)]
pub struct Access {
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
    /// The grant under which a proxy did this, once the use case admitted them: the entry is
    /// the proxy's, about the person they act for.
    pub acting_for: Option<crate::ActingFor>,
}

/// A result and what it showed.
#[derive(Debug, Clone)]
pub struct Shown<T> {
    pub value: T,
    pub access: Access,
}

impl<T> Shown<T> {
    #[must_use]
    pub fn new(value: T, access: Access) -> Self {
        Self { value, access }
    }
}

/// The access-log entry of one access by `actor` (`None`: no valid credential). The HTTP layer
/// fills in method, path, purpose and request id; deliveries and streamed events use it as is.
#[must_use]
pub fn entry(
    actor: Option<&crate::Actor>,
    action: &str,
    access: Access,
    status: u16,
) -> ucp_store::AccessEntry {
    let acting_for = access
        .acting_for
        .clone()
        .or_else(|| actor.and_then(|a| a.acting_for.clone()));
    ucp_store::AccessEntry {
        entry_id: Uuid::now_v7(),
        at: chrono::Utc::now(),
        actor: actor.map_or_else(|| "anonymous".to_owned(), |a| a.sub.clone()),
        actor_name: actor.and_then(|a| a.name.clone()),
        role: match (actor, &acting_for) {
            (None, _) => "none",
            (Some(_), Some(_)) => "proxy",
            (Some(a), None) => a.role_name(),
        }
        .to_owned(),
        organisation: actor.and_then(|a| a.org.clone()),
        purpose: actor.and_then(|a| a.purpose).map(|p| p.as_str().to_owned()),
        action: action.to_owned(),
        method: "GET".to_owned(),
        path: String::new(),
        plan_id: access.plan_id,
        // What the access showed, else (for a person) whose plan they act on: the person a
        // proxy acts for, not the proxy.
        nhs_number: access.nhs_number.or_else(|| {
            acting_for
                .as_ref()
                .map(|p| p.nhs_number)
                .or(actor.and_then(|a| a.nhs_number))
                .map(|n| n.to_string())
        }),
        plan_version: access.plan_version,
        view: access.view.map(|v| v.as_str().to_owned()),
        section: access.section,
        search_criteria: access.search_criteria,
        search_results: access.search_results,
        returned_nhs_numbers: access.returned_nhs_numbers,
        request_id: None,
        status: i16::try_from(status).unwrap_or(0),
        detail: access.detail,
        issuer: actor.map(|a| a.issuer.clone()),
        credential: actor.and_then(|a| a.credential.clone()),
        proofing_level: actor
            .and_then(|a| a.proofing)
            .map(|p| p.level.as_str().to_owned()),
        on_behalf_of: acting_for.map(|p| p.nhs_number.to_string()),
    }
}
