//! Every access accounted for: the access log's group-commit writer, the middleware that writes
//! one entry per plan-touching request before its response leaves, and what handlers note for it.

mod middleware;
mod note;
mod writer;

pub use middleware::record_access;
pub use note::{note, AuditNote, View};
pub use writer::{AuditConfig, AuditWriter};
