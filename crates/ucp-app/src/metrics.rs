//! The counters operators watch — requests by status class, access-log commits and failures,
//! webhook deliveries and dead letters — and the registry that prints them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// A response's status class (`2xx`, `4xx`, …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusClass {
    pub class: String,
}

/// How a webhook delivery attempt ended (`delivered`, `failed`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

/// The counters, and the registry that prints them.
#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<StatusClass, Counter>,
    pub audit_entries: Counter,
    pub audit_commits: Counter,
    pub audit_failed_entries: Counter,
    pub webhook_attempts: Family<Outcome, Counter>,
    pub dead_letters_parked: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ucp");
        let requests = Family::<StatusClass, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by status class",
            requests.clone(),
        );
        let audit_entries = Counter::default();
        registry.register(
            "audit_entries",
            "Access-log entries committed",
            audit_entries.clone(),
        );
        let audit_commits = Counter::default();
        registry.register(
            "audit_commits",
            "Access-log group commits",
            audit_commits.clone(),
        );
        let audit_failed_entries = Counter::default();
        registry.register(
            "audit_failed_entries",
            "Access-log entries whose commit failed (their requests got 503)",
            audit_failed_entries.clone(),
        );
        let webhook_attempts = Family::<Outcome, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by outcome",
            webhook_attempts.clone(),
        );
        let dead_letters_parked = Counter::default();
        registry.register(
            "dead_letters_parked",
            "Changes parked as dead letters",
            dead_letters_parked.clone(),
        );
        Self {
            registry,
            requests,
            audit_entries,
            audit_commits,
            audit_failed_entries,
            webhook_attempts,
            dead_letters_parked,
        }
    }
}

impl Metrics {
    pub fn webhook_attempt(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.webhook_attempts
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}
