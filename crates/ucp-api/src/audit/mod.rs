//! Every access accounted for: the middleware that writes one entry per `/v1` request, from
//! what the handler's response says it showed, before the response leaves.

mod middleware;

pub use crate::auth::AuditScope;
pub use crate::auth::PURPOSE_HEADER;
pub use middleware::{record_access, PersonNamedInBody};
pub use ucp_app::audit::{Access, AuditConfig, AuditFailed, AuditWriter, View};
