//! Webhooks: each subscription follows the feed with its own checkpoint and gets every change
//! it asked for, signed, in order, at least once; failures are retried with backoff and jitter,
//! then parked as dead letters. With several servers, each subscription is delivered by one.

mod client;
mod delivery;
mod dispatcher;
pub mod signature;
pub mod target_policy;

pub use client::{WebhookClient, WebhookClientError, WebhookTls};
pub use delivery::{backoff, deliver, delivery_id, DeliveryConfig};
pub use dispatcher::{delivery_entry, Exports, WebhookDispatcher};
pub use target_policy::{TargetPolicy, TargetRefused};
