use std::net::{IpAddr, SocketAddr};
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
    let target = url.clone();
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
            if private_target(&target, None).await {
                return Err(PRIVATE_FAILURE.to_owned());
            }
            return Err(if e.is_timeout() {
                "the receiver timed out".to_owned()
            } else {
                format!("could not reach the receiver: {e}")
            });
        }
    };
    if response.status().is_success() {
        Ok(())
    } else if private_target(&target, response.remote_addr()).await {
        Err(PRIVATE_FAILURE.to_owned())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}

/// What an admin is told of a failed delivery to a receiver on a private network: not its
/// status or error, which would let a subscription map what answers where inside the network.
pub const PRIVATE_FAILURE: &str =
    "the receiver refused the delivery (details are not shown for receivers on private networks)";

/// Whether the receiver is on a private network: the address that answered, else the URL's
/// literal address or the addresses its name resolves to.
async fn private_target(url: &reqwest::Url, answered_from: Option<SocketAddr>) -> bool {
    if let Some(addr) = answered_from {
        return is_private(addr.ip());
    }
    match url.host() {
        Some(url::Host::Ipv4(a)) => is_private(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => is_private(IpAddr::V6(a)),
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::net::lookup_host((name, port)).await {
                Ok(mut addrs) => addrs.any(|a| is_private(a.ip())),
                // Nothing resolved: nothing was reached to tell about.
                Err(_) => false,
            }
        }
        None => false,
    }
}

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

#[cfg(test)]
mod private_receivers {
    use super::private_target;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[tokio::test]
    async fn a_receiver_on_a_private_network_is_known_by_its_address_in_any_form() {
        for private in [
            "https://10.1.2.3/hook",
            "https://192.168.0.9:8443/",
            "https://[fd00::5]/",
            "https://[::ffff:172.16.0.1]/",
            "https://[64:ff9b::a00:1]/",
        ] {
            assert!(private_target(&url(private), None).await, "{private}");
        }
        assert!(!private_target(&url("https://203.0.113.7/"), None).await);
        let answered = "10.0.0.7:443".parse().ok();
        assert!(private_target(&url("https://203.0.113.7/"), answered).await);
    }
}
