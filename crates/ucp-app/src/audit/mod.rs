//! The access log: what each call showed ([`Access`]), and the writer that commits entries in
//! groups before the answer leaves.

mod access;
pub mod refusals;
mod writer;

pub use access::{entry, Access, EntryInWrite, Shown, View, ADMITTED, ENTRY_IN_WRITE};
pub use ucp_store::{AccessEntry, AccessQuery};
pub use writer::{AuditConfig, AuditFailed, AuditWriter};

/// Whose plan a refused request aimed at (the HTTP layer names the plan; the entry is about
/// its person, so that they see the attempt).
///
/// # Errors
/// When the store fails.
pub async fn person_of_plan(
    db: &ucp_store::Database,
    plan_id: uuid::Uuid,
) -> Result<Option<ucp_domain::NhsNumber>, crate::AppError> {
    Ok(db.plan(plan_id).await?.map(|row| row.nhs_number))
}
