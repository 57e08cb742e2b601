//! Every access accounted for: the access log's group-commit writer, the middleware that writes
//! one entry per `/v1` request before its response leaves, and what handlers note for it.

mod middleware;
mod note;
mod writer;

pub use middleware::{entry_of, record_access, AuditScope, PURPOSE_HEADER};
pub use note::{note, AuditNote, View};
pub use writer::{AuditConfig, AuditFailed, AuditWriter};
