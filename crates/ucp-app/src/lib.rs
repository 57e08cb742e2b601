//! The application: what the service does, with no HTTP server types. The HTTP crate parses a
//! request, calls one of these, and responds; every call that shows plan data returns what it
//! showed ([`audit::Access`]), so the access log is written from results, not from a side
//! channel.
//!
//! - [`commands`]: carrying out a command on a plan (decide, append, project) — one fold per write;
//! - [`reads`]: the plan now, as of a version or instant, a section, the history, the summary,
//!   search;
//! - [`replay`]: replaying exactly what an access-log entry showed;
//! - [`fhir`]: the same reads as FHIR R4 UK Core resources, replayable like the rest;
//! - [`feed`]: the change documents every follower gets (feed pages, SSE, webhooks);
//! - [`nrl`]: publishing pointers to the National Record Locator as plans change;
//! - [`printed_copies`]: whether a printed copy is still the plan, for anyone holding it;
//! - [`webhooks`]: delivery, signatures and leader election;
//! - [`audit`]: the group-commit access-log writer.

pub mod actor;
pub mod alerts;
pub mod audit;
pub mod commands;
pub mod consistency;
mod error;
pub mod feed;
pub mod fhir;
pub mod judged_summaries;
pub mod leadership;
pub mod metrics;
pub mod notify;
pub mod nrl;
pub mod print;
pub mod printed_copies;
pub mod proxies;
pub mod reads;
pub mod replay;
pub mod residents;
pub mod sensitivity;
pub mod since;
mod state;
pub mod subscriptions;
pub mod tls;
pub mod use_cases;
pub mod visibility;
pub mod webhooks;
pub mod worklist;
pub mod writes;

pub use actor::{ActingFor, Actor, Proofing, ProofingLevel, Purpose, Role};
pub use error::{AppError, Conflict, Rule};
pub use metrics::Metrics;
pub use state::AppState;
