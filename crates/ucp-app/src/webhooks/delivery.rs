use std::time::Duration;

use ucp_store::Subscription;
use uuid::Uuid;

use super::signature::sign;
use super::target_policy::is_private;

/// How deliveries behave.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryConfig {
    /// A receiver that has not answered by then has failed this attempt.
    pub timeout: Duration,
    /// The first retry's delay; each next one doubles, up to `max_backoff`, with up to 25 %
    /// random jitter so that many servers do not retry in step.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often the dispatcher looks for subscriptions it could lead.
    pub scan_interval: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            scan_interval: Duration::from_secs(2),
        }
    }
}

/// The same (subscription, change) always has the same delivery id, across retries, restarts and
/// servers: a receiver drops a delivery id it has already processed.
#[must_use]
pub fn delivery_id(subscription_id: Uuid, change_id: Uuid) -> Uuid {
    Uuid::new_v5(&subscription_id, change_id.as_bytes())
}

/// One attempt: POST the change, signed. `Ok` for any 2xx.
///
/// # Errors
/// A short description of the failure (status, timeout, connection, a target the allow-list
/// now refuses).
pub async fn deliver(
    client: &super::WebhookClient,
    subscription: &Subscription,
    change_id: Uuid,
    body: Vec<u8>,
    attempt: u32,
    config: &DeliveryConfig,
) -> Result<(), String> {
    // Names are checked by the client's resolver at connection; address literals are not
    // resolved, so they are checked here (the allow-list may have changed since subscribing).
    let url = reqwest::Url::parse(&subscription.target_url).map_err(|e| e.to_string())?;
    client
        .policy
        .check_literal(&url)
        .map_err(|e| e.to_string())?;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(subscription.secret.as_bytes(), timestamp, &body);
    let response = client
        .http
        .post(url)
        .timeout(config.timeout)
        .header("content-type", "application/json")
        .header(
            "x-ucp-delivery-id",
            delivery_id(subscription.subscription_id, change_id).to_string(),
        )
        .header("x-ucp-change-id", change_id.to_string())
        .header(
            "x-ucp-subscription-id",
            subscription.subscription_id.to_string(),
        )
        .header("x-ucp-timestamp", timestamp.to_string())
        .header("x-ucp-signature", signature)
        .header("x-ucp-attempt", attempt.to_string())
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(e) => {
            // Why a connection failed (refused, reset, timed out) would tell what listens where
            // inside the network; the log keeps it for the operator, the admin gets the fact.
            tracing::warn!(error = %e, "webhook delivery failed before an answer");
            return Err(UNREACHED.to_owned());
        }
    };
    if response.status().is_success() {
        Ok(())
    } else if response.remote_addr().is_none_or(|a| is_private(a.ip())) {
        Err(PRIVATE_FAILURE.to_owned())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}

/// What an admin is told of a delivery that got no answer at all.
pub const UNREACHED: &str =
    "the receiver could not be reached or did not answer in time (the cause is in the server's log)";

/// What an admin is told of a failed delivery to a receiver on a private network: not its
/// status or error, which would let a subscription map what answers where inside the network.
pub const PRIVATE_FAILURE: &str =
    "the receiver refused the delivery (details are not shown for receivers on private networks)";

/// The delay before retry `attempt` (1-based: the delay after the first failure is `base`).
#[must_use]
pub fn backoff(config: &DeliveryConfig, attempt: u32) -> Duration {
    use rand::Rng;
    let exp = config
        .base_backoff
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)))
        .min(config.max_backoff);
    let jitter = rand::rng().random_range(0.0..0.25);
    exp + exp.mul_f64(jitter)
}
