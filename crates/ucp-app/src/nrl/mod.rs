//! Publishing to the National Record Locator: every active plan has pointers there
//! (DocumentReferences, see `ucp_fhir::pointers`), and they follow the plan's life. The
//! publisher follows the feed with its own checkpoint, works out from the plan before and after
//! each change which pointers to create, update or delete, and sends each with retries; what
//! still fails is parked as a dead letter for an admin to redeliver. One server leads.

mod client;
pub mod dead_letters;
mod publisher;

pub use client::{NrlClient, NrlClientError, NrlConfig};
pub use publisher::NrlPublisher;
