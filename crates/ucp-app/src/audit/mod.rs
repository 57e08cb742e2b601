//! The access log: what each call showed ([`Access`]), and the writer that commits entries in
//! groups before the answer leaves.

mod access;
pub mod refusals;
mod writer;

pub use access::{entry, Access, Shown, View};
pub use writer::{AuditConfig, AuditFailed, AuditWriter};
