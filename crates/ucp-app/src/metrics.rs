//! What operators watch — requests by status class and their latency by route, the pool's
//! connections and waits, access-log commits, batch sizes and failures, webhook deliveries, dead
//! letters, and how far the feed's fence and each subscription are behind the log — and the
//! registry that prints them. Every documented series is present from the start (at zero).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// A response's status class (`2xx`, `4xx`, …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusClass {
    pub class: String,
}

/// A request's route template (never its path: paths hold NHS numbers), method and status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
    pub status: String,
}

/// A pool connection's state (`idle`, `in_use`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectionState {
    pub state: String,
}

/// A webhook subscription, by id.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubscriptionLabel {
    pub subscription: String,
}

/// How a webhook delivery attempt ended (`delivered`, `failed`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

/// An alert's kind (`bulk-reads`, …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertKindLabel {
    pub kind: String,
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
    pub request_seconds: Family<RouteLabels, Histogram>,
    pub audit_batch_size: Histogram,
    pub pool_wait_seconds: Histogram,
    pub pool_connections: Family<ConnectionState, Gauge>,
    pub pool_max: Gauge,
    pub pool_waiting: Gauge,
    pub feed_head_position: Gauge,
    pub feed_fence_lag: Gauge,
    pub subscription_lag: Family<SubscriptionLabel, Gauge>,
    /// Proxy grants made by the author who had just recorded the attorney they grant to.
    pub proxy_grants_flagged: Counter,
    /// Refusals folded into an earlier access-log entry of the same window.
    pub access_refusals_coalesced: Counter,
    /// Tokens refused because their issuer's keys are older than its `max_key_age_seconds`.
    pub stale_key_refusals: Counter,
    /// Privacy alerts open, by kind (as the last scan or outcome on this server counted them).
    pub privacy_alerts_open: Family<AlertKindLabel, Gauge>,
    /// Seconds between now and the newest access-log entry the alert scanner has read (on the
    /// server that leads the scan): detection that stalls (a long transaction holding the
    /// fence, a scanner that fails) shows here.
    pub alert_scan_lag_seconds: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
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
        let request_seconds =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (to its first byte), by route template, method and status",
            request_seconds.clone(),
        );
        let audit_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "audit_batch_size",
            "Access-log entries per group commit",
            audit_batch_size.clone(),
        );
        let pool_wait_seconds = latency_histogram();
        registry.register(
            "db_pool_wait_seconds",
            "Time a request waited for a pooled database connection",
            pool_wait_seconds.clone(),
        );
        let pool_connections = Family::<ConnectionState, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Pooled database connections, by state (at the last scrape)",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The pool's size limit",
            pool_max.clone(),
        );
        let pool_waiting = Gauge::default();
        registry.register(
            "db_pool_waiting",
            "Requests waiting for a pooled connection (at the last scrape)",
            pool_waiting.clone(),
        );
        let feed_head_position = Gauge::default();
        registry.register(
            "feed_head_position",
            "Global position of the newest event in the log",
            feed_head_position.clone(),
        );
        let feed_fence_lag = Gauge::default();
        registry.register(
            "feed_fence_lag_positions",
            "Positions between the newest event and the newest the feed may serve (held back \
             while older transactions are still open)",
            feed_fence_lag.clone(),
        );
        let subscription_lag = Family::<SubscriptionLabel, Gauge>::default();
        registry.register(
            "subscription_lag_positions",
            "Positions between the newest event and a webhook subscription's checkpoint",
            subscription_lag.clone(),
        );
        let proxy_grants_flagged = Counter::default();
        registry.register(
            "proxy_grants_flagged",
            "Proxy grants to an attorney whom the same author recorded on the plan shortly before \
             (for the privacy officer)",
            proxy_grants_flagged.clone(),
        );
        let access_refusals_coalesced = Counter::default();
        registry.register(
            "access_refusals_coalesced",
            "Refused requests counted into an earlier access-log entry of the same window rather \
             than given an entry of their own",
            access_refusals_coalesced.clone(),
        );
        let stale_key_refusals = Counter::default();
        registry.register(
            "stale_key_refusals",
            "Tokens refused because their issuer's keys could not be fetched for longer than its \
             max_key_age_seconds",
            stale_key_refusals.clone(),
        );
        let privacy_alerts_open = Family::<AlertKindLabel, Gauge>::default();
        registry.register(
            "privacy_alerts_open",
            "Privacy alerts open (not yet reviewed, or reopened by new evidence), by kind",
            privacy_alerts_open.clone(),
        );
        let alert_scan_lag_seconds = Gauge::default();
        registry.register(
            "privacy_alert_scan_lag_seconds",
            "Seconds between now and the newest access-log entry the privacy alert scanner has \
             read, on the server leading the scan (0 elsewhere)",
            alert_scan_lag_seconds.clone(),
        );
        for kind in [
            "self-declared-relationship",
            "emergency-purpose",
            "bulk-reads",
            "family-lookup",
            "sensitive-record",
            "bulk-refusals",
        ] {
            privacy_alerts_open
                .get_or_create(&AlertKindLabel {
                    kind: kind.to_owned(),
                })
                .set(0);
        }
        for class in ["2xx", "3xx", "4xx", "5xx"] {
            requests
                .get_or_create(&StatusClass {
                    class: class.to_owned(),
                })
                .inc_by(0);
        }
        for outcome in ["delivered", "failed"] {
            webhook_attempts
                .get_or_create(&Outcome {
                    outcome: outcome.to_owned(),
                })
                .inc_by(0);
        }
        for state in ["idle", "in_use"] {
            pool_connections
                .get_or_create(&ConnectionState {
                    state: state.to_owned(),
                })
                .set(0);
        }
        Self {
            registry,
            requests,
            audit_entries,
            audit_commits,
            audit_failed_entries,
            webhook_attempts,
            dead_letters_parked,
            request_seconds,
            audit_batch_size,
            pool_wait_seconds,
            pool_connections,
            pool_max,
            pool_waiting,
            feed_head_position,
            feed_fence_lag,
            subscription_lag,
            proxy_grants_flagged,
            access_refusals_coalesced,
            stale_key_refusals,
            privacy_alerts_open,
            alert_scan_lag_seconds,
        }
    }
}

impl Metrics {
    /// Sets the scanner's lag from the time of the newest entry it has read. When it is idle
    /// and caught up, that entry may be old while nothing is behind: the lag is then measured
    /// from it all the same, so read it with the access log's own rate in mind.
    pub fn set_alert_scan_lag(&self, newest_read: chrono::DateTime<chrono::Utc>) {
        let lag = (chrono::Utc::now() - newest_read).num_seconds().max(0);
        self.alert_scan_lag_seconds.set(lag);
    }

    /// Sets how many alerts of a kind are open.
    pub fn set_open_alerts(&self, kind: &str, open: i64) {
        self.privacy_alerts_open
            .get_or_create(&AlertKindLabel {
                kind: kind.to_owned(),
            })
            .set(open);
    }

    /// Records one answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// Sets the gauges read at scrape time: the pool's state and how far behind the log the
    /// feed's fence and each subscription are.
    pub fn scraped(&self, pool: &ucp_store::PoolStatus, lag: Option<&ucp_store::LagReport>) {
        let idle = i64::try_from(pool.available).unwrap_or(i64::MAX);
        let size = i64::try_from(pool.size).unwrap_or(i64::MAX);
        self.set_state("idle", idle);
        self.set_state("in_use", size.saturating_sub(idle));
        self.pool_max
            .set(i64::try_from(pool.max_size).unwrap_or(i64::MAX));
        self.pool_waiting
            .set(i64::try_from(pool.waiting).unwrap_or(i64::MAX));
        if let Some(lag) = lag {
            self.feed_head_position.set(lag.head);
            self.feed_fence_lag.set(lag.head - lag.fenced);
            self.subscription_lag.clear();
            for (subscription, position) in &lag.subscriptions {
                self.subscription_lag
                    .get_or_create(&SubscriptionLabel {
                        subscription: subscription.clone(),
                    })
                    .set(lag.head - position);
            }
        }
    }

    fn set_state(&self, state: &str, value: i64) {
        self.pool_connections
            .get_or_create(&ConnectionState {
                state: state.to_owned(),
            })
            .set(value);
    }

    pub fn webhook_attempt(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.webhook_attempts
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}
