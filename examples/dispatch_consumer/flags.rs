//! The dispatch side's local flag table: what a call handler needs to know before a crew is
//! sent, kept per NHS number from the care plan changes, and saved so that a restart resumes
//! exactly where it stopped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One person's flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub plan_id: String,
    pub plan_version: i64,
    /// e.g. `attempts-not-recommended`; `None` when no Emergency Treatment Plan is recorded.
    pub cpr: Option<String>,
    pub postcode: Option<String>,
    pub summary_link: Option<String>,
}

/// The whole table, with the position it was built to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlagTable {
    /// The feed cursor after the last change applied.
    pub cursor: Option<String>,
    pub flags: BTreeMap<String, Flag>,
    /// Webhook delivery ids already applied (webhooks are at-least-once).
    pub seen_deliveries: BTreeSet<String>,
}

impl FlagTable {
    /// Loads the table, or starts an empty one.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Saves atomically: a crash leaves the old table or the new one, never half of one.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp: PathBuf = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, path)
    }

    /// Applies one change (a `Change` of the feed or a webhook body). Changes of a plan arrive
    /// in order; an older version than the one held is ignored.
    pub fn apply(&mut self, change: &Value) {
        let Some(nhs) = change["nhsNumber"].as_str() else {
            return;
        };
        let version = change["planVersion"].as_i64().unwrap_or(0);
        let plan_id = change["planId"].as_str().unwrap_or_default();
        if let Some(held) = self.flags.get(nhs) {
            if held.plan_id == plan_id && held.plan_version >= version {
                return;
            }
        }
        if change["action"] == "drop" {
            // Withdrawn, died, or voided as made in error: nothing of it may stay on screen.
            if self.flags.get(nhs).is_some_and(|f| f.plan_id == plan_id) {
                self.flags.remove(nhs);
            }
            return;
        }
        let summary = &change["summary"];
        self.flags.insert(
            nhs.to_owned(),
            Flag {
                plan_id: plan_id.to_owned(),
                plan_version: version,
                cpr: summary["cpr"]["status"].as_str().map(str::to_owned),
                postcode: summary["postcode"].as_str().map(str::to_owned),
                summary_link: summary["planLink"].as_str().map(str::to_owned),
            },
        );
    }

    /// Applies one item of `/v1/feed/snapshot` (a person's current summary), as an upsert.
    pub fn apply_snapshot_item(&mut self, item: &Value) {
        let change = serde_json::json!({
            "nhsNumber": item["nhsNumber"],
            "planId": item["planId"],
            "planVersion": item["summary"]["planVersion"],
            "action": "upsert",
            "summary": item["summary"],
        });
        self.apply(&change);
    }

    /// Applies a webhook delivery once: a repeated delivery id is ignored.
    pub fn apply_delivery(&mut self, delivery_id: &str, change: &Value) -> bool {
        if !self.seen_deliveries.insert(delivery_id.to_owned()) {
            return false;
        }
        self.apply(change);
        if let Some(cursor) = change["cursor"].as_str() {
            self.cursor = Some(cursor.to_owned());
        }
        true
    }
}

/// Checks a webhook's `X-UCP-Signature` (`v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`)
/// and refuses timestamps more than five minutes from now (replays).
#[must_use]
pub fn signature_ok(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: i64,
) -> bool {
    use hmac::{Hmac, Mac};
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > 300 {
        return false;
    }
    let Some(Ok(expected)) = signature.strip_prefix("v1=").map(hex::decode) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}
