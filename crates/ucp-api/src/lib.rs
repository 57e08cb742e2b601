//! The HTTP face of the service: actix-web handlers (parse, call `ucp-app`, respond), bearer
//! tokens, problem+json errors, the access-log middleware and the OpenAPI document. Nothing
//! below this crate knows about HTTP.

mod application;
pub mod audit;
pub mod auth;
pub mod body;
pub mod consistency;
mod headers;
mod log_spans;
pub mod metrics;
pub mod openapi;
mod operation_ids;
mod paging;
mod problem;
pub mod proxy;
pub mod rate_limit;
mod request_id;
pub mod routes;

pub use application::{ApiConfig, Application};
pub use auth::{Claims, Deployment, JwtKeys, KeyError, PolicyError, Role, TokenSettings};
pub use openapi::{openapi_document, ApiDoc};
pub use problem::{ApiError, ErrorCode, FieldError};
pub use ucp_app::AppState;
pub use ucp_fhir::FhirSettings;

/// Webhooks, as the application delivers them (re-exported for configuration and for
/// receivers that check signatures).
pub mod webhooks {
    pub use ucp_app::webhooks::*;
}

/// The National Record Locator publisher's settings (re-exported for configuration).
pub mod nrl {
    pub use ucp_app::nrl::{NrlClientError, NrlConfig};
}

/// The privacy officer's alert detection settings (re-exported for configuration).
pub mod alerts {
    pub use ucp_app::alerts::{AlertsConfig, StaffDirectory};
}

/// The notifier's settings (re-exported for configuration).
pub mod notify {
    pub use ucp_app::notify::{NotifyConfig, PracticeTarget, Practices};
}
