//! The HTTP face of the service: actix-web handlers, problem+json errors and the OpenAPI
//! document. Nothing below this crate knows about HTTP.

mod application;
pub mod audit;
pub mod auth;
mod body;
pub mod changes;
pub mod commands;
pub mod metrics;
pub mod openapi;
mod operation_ids;
mod problem;
mod request_id;
pub mod routes;
mod state;
pub mod tls;
pub mod webhooks;

pub use application::{ApiConfig, Application};
pub use auth::{Claims, Deployment, JwtKeys, KeyError, PolicyError, Role, TokenSettings};
pub use openapi::{openapi_document, ApiDoc};
pub use problem::{ApiError, FieldError};
pub use state::AppState;
