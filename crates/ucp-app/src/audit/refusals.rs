//! Repeated refusals against one person, folded into one entry per window with a count.
//!
//! Every request gets an access-log entry, and a refusal that names a person is shown to that
//! person. Without a bound, anyone could write unlimited entries into a named person's log (300
//! requests with a garbage token: 300 lines of "someone without a valid sign-in tried …"),
//! burying the real ones and growing the database. So the first refusal of a kind (the same
//! person, caller, operation and status) in a window is written as it happens, and those that follow it in the window are counted;
//! a kind is a refusal of someone without a valid sign-in, a 429 of anyone, or a 403 of a
//! person proofed below P9 (a signed-in caller's other refusals each keep an entry: they are
//! accountable, and their own budget bounds them); when the window closes, one more entry says how many
//! there were in all and between which times ("refused 300 times between 03:10:02 and
//! 03:10:59"). Nothing attempted goes unrecorded, and the log grows by at most two entries per
//! kind and window.
//!
//! Two more kinds are folded the same way. A refusal at the public check of printed copies that
//! names no one (made-up codes) is one kind per status.
//! And a check of a printed copy (`GET /check/{code}`, no sign-in) is folded even when it
//! succeeds, per person, printed version and answer: anyone who photographed the paper could
//! otherwise bury the person's log under "a printed copy was checked". The count of a window still open when the process stops is lost with it:
//! its first refusal is already on record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ucp_store::AccessEntry;
use uuid::Uuid;

/// What makes two refusals "the same": whom they were about, who asked, what (the operation,
/// not the raw path, which can be written many ways), and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Kind {
    person: String,
    actor: String,
    role: String,
    action: String,
    status: i16,
    /// For a printed copy's check: the version and the answer ("7 current").
    variant: String,
}

/// A window opened by a refusal written as it happened.
#[derive(Debug)]
struct Window {
    first: AccessEntry,
    count: u64,
    last_at: DateTime<Utc>,
}

/// Whether an entry is to be written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Write it: it is not a refusal about a person, or the first of its kind in the window.
    Write,
    /// Counted into the open window's entry; write nothing now.
    Counted,
}

/// The open windows, and the summaries of windows closed by a newer refusal of their kind.
#[derive(Debug, Default)]
struct Inner {
    open: HashMap<Kind, Window>,
    closed: Vec<AccessEntry>,
}

/// The refusal windows of one server.
#[derive(Debug)]
pub struct Refusals {
    window: Duration,
    inner: Mutex<Inner>,
}

impl Refusals {
    /// Windows of `window`; zero writes every refusal as it happens.
    #[must_use]
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// How often the closed windows are looked for.
    #[must_use]
    pub fn tick(&self) -> Duration {
        (self.window / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
    }

    /// Counts a refusal into its open window, or opens one with it.
    pub fn admit(&self, entry: &AccessEntry) -> Admission {
        let Some(kind) = self.kind(entry) else {
            return Admission::Write;
        };
        let Ok(mut inner) = self.inner.lock() else {
            return Admission::Write;
        };
        let window = self.window_length();
        if let Some(w) = inner.open.get_mut(&kind) {
            if w.first
                .at
                .checked_add_signed(window)
                .is_none_or(|end| entry.at < end)
            {
                w.count += 1;
                w.last_at = w.last_at.max(entry.at);
                return Admission::Counted;
            }
        }
        let opened = Window {
            first: entry.clone(),
            count: 1,
            last_at: entry.at,
        };
        if let Some(ended) = inner.open.insert(kind, opened) {
            if ended.count > 1 {
                inner.closed.push(summary(ended));
            }
        }
        Admission::Write
    }

    /// Forgets the window `entry` opened, when its entry could not be written: the refusals
    /// that follow must not be counted into an entry that is not on record.
    pub fn forget(&self, entry: &AccessEntry) {
        let Some(kind) = self.kind(entry) else {
            return;
        };
        if let Ok(mut inner) = self.inner.lock() {
            if inner
                .open
                .get(&kind)
                .is_some_and(|w| w.first.entry_id == entry.entry_id)
            {
                inner.open.remove(&kind);
            }
        }
    }

    fn window_length(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX)
    }

    fn kind(&self, entry: &AccessEntry) -> Option<Kind> {
        // A caller who signed in is accountable and has a budget of their own: each of their
        // refusals stays on record with its own path and request id (a revoked proxy trying
        // again is news), except the 429s past that budget and the refusals of a person whose
        // sign-in is proofed below P9 (any basic NHS login could otherwise write without end
        // into someone else's log).
        let weakly_proofed =
            entry.status == 403 && entry.proofing_level.as_deref().is_some_and(|l| l != "P9");
        let floods = entry.role == "none" || entry.status == 429 || weakly_proofed;
        let copy_checked = entry.view.as_deref() == Some("printed-copy-check");
        if self.window.is_zero() || !(copy_checked || (entry.status >= 400 && floods)) {
            return None;
        }
        let person = match (&entry.nhs_number, entry.role.as_str()) {
            (Some(n), _) => n.clone(),
            // Made-up codes at the public check of printed copies, about no one: one kind per
            // answer. (Elsewhere a request about no one keeps its own entry.)
            (None, "none") if entry.action == "checkPrintedCopy" => String::new(),
            (None, _) => return None,
        };
        Some(Kind {
            person,
            actor: entry.actor.clone(),
            role: entry.role.clone(),
            action: entry.action.clone(),
            status: entry.status,
            variant: if copy_checked {
                format!(
                    "{} {}",
                    entry.plan_version.unwrap_or_default(),
                    entry
                        .detail
                        .as_ref()
                        .and_then(|d| d.get("state"))
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                )
            } else {
                String::new()
            },
        })
    }

    /// Closes the windows that ended by `now` (all of them with `everything`), returning one
    /// entry for each that counted more than its first refusal.
    pub fn close(&self, now: DateTime<Utc>, everything: bool) -> Vec<AccessEntry> {
        let Ok(mut inner) = self.inner.lock() else {
            return Vec::new();
        };
        let window = self.window_length();
        let ended: Vec<Kind> = inner
            .open
            .iter()
            .filter(|(_, w)| {
                everything
                    || w.first
                        .at
                        .checked_add_signed(window)
                        .is_some_and(|end| end <= now)
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut summaries = std::mem::take(&mut inner.closed);
        summaries.extend(
            ended
                .into_iter()
                .filter_map(|k| inner.open.remove(&k))
                .filter(|w| w.count > 1)
                .map(summary),
        );
        summaries
    }
}

/// The entry that closes a window: the first refusal's what and who, with the count and the
/// times, pointing at the entry written for the first.
fn summary(w: Window) -> AccessEntry {
    let mut entry = w.first.clone();
    entry.entry_id = Uuid::now_v7();
    entry.at = w.last_at;
    entry.request_id = None;
    let mut detail = match entry.detail.take() {
        Some(serde_json::Value::Object(map)) => map,
        Some(other) => serde_json::Map::from_iter([("detail".to_owned(), other)]),
        None => serde_json::Map::new(),
    };
    detail.insert(
        "refusals".to_owned(),
        serde_json::json!({
            "count": w.count,
            "from": w.first.at,
            "to": w.last_at,
            "firstEntryId": w.first.entry_id,
        }),
    );
    entry.detail = Some(serde_json::Value::Object(detail));
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(at: DateTime<Utc>, person: &str, status: i16) -> AccessEntry {
        AccessEntry {
            at,
            status,
            nhs_number: Some(person.to_owned()),
            ..crate::audit::entry(None, "getCarePlan", crate::audit::Access::default(), 401)
        }
    }

    #[test]
    fn a_flood_of_refusals_is_one_entry_and_one_count_per_window() {
        let r = Refusals::new(Duration::from_secs(60));
        let t0 = Utc::now();
        let mut written = 0;
        for i in 0..300 {
            let at = t0 + chrono::Duration::milliseconds(i * 100);
            if r.admit(&refusal(at, "9434765919", 401)) == Admission::Write {
                written += 1;
            }
        }
        assert_eq!(written, 1, "the first is written, the rest counted");
        assert!(r
            .close(t0 + chrono::Duration::seconds(59), false)
            .is_empty());
        let closed = r.close(t0 + chrono::Duration::seconds(60), false);
        assert_eq!(closed.len(), 1);
        let counted = &closed[0].detail.as_ref().map(|d| d["refusals"].clone());
        assert_eq!(
            counted.as_ref().map(|c| c["count"].clone()),
            Some(300.into())
        );
        assert_eq!(closed[0].at, t0 + chrono::Duration::milliseconds(29_900));
    }

    #[test]
    fn other_people_statuses_and_served_requests_are_not_folded_together() {
        let r = Refusals::new(Duration::from_secs(60));
        let t0 = Utc::now();
        assert_eq!(r.admit(&refusal(t0, "9434765919", 401)), Admission::Write);
        assert_eq!(r.admit(&refusal(t0, "9990000018", 401)), Admission::Write);
        assert_eq!(r.admit(&refusal(t0, "9434765919", 429)), Admission::Write);
        let served = AccessEntry {
            status: 200,
            ..refusal(t0, "9434765919", 200)
        };
        assert_eq!(r.admit(&served), Admission::Write);
        assert_eq!(r.admit(&served), Admission::Write);
        // A signed-in caller's refusals each keep their entry; their 429s are counted.
        let known = AccessEntry {
            role: "patient".into(),
            actor: "sam".into(),
            ..refusal(t0, "9434765919", 403)
        };
        assert_eq!(r.admit(&known), Admission::Write);
        assert_eq!(r.admit(&known), Admission::Write);
        let throttled = AccessEntry {
            status: 429,
            ..known
        };
        assert_eq!(r.admit(&throttled), Admission::Write);
        assert_eq!(r.admit(&throttled), Admission::Counted);
        // A lone refusal leaves nothing more to write when its window closes; the 429s do.
        let closed = r.close(t0, true);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].status, 429);
        // A window longer than time itself does not overflow on a request.
        let forever = Refusals::new(Duration::MAX);
        assert_eq!(
            forever.admit(&refusal(t0, "9434765919", 401)),
            Admission::Write
        );
        assert_eq!(
            forever.admit(&refusal(t0, "9434765919", 401)),
            Admission::Counted
        );
        assert!(forever.close(t0, false).is_empty());
        // A first entry that could not be written opens no window.
        let first = refusal(t0, "9999999999", 401);
        assert_eq!(r.admit(&first), Admission::Write);
        r.forget(&first);
        assert_eq!(r.admit(&first), Admission::Write);
        let off = Refusals::new(Duration::ZERO);
        assert_eq!(off.admit(&refusal(t0, "9434765919", 401)), Admission::Write);
        assert_eq!(off.admit(&refusal(t0, "9434765919", 401)), Admission::Write);
    }

    #[test]
    fn a_window_that_ended_opens_a_new_one() {
        let r = Refusals::new(Duration::from_secs(1));
        let t0 = Utc::now();
        assert_eq!(r.admit(&refusal(t0, "9434765919", 401)), Admission::Write);
        assert_eq!(
            r.admit(&refusal(
                t0 + chrono::Duration::milliseconds(500),
                "9434765919",
                401
            )),
            Admission::Counted
        );
        assert_eq!(
            r.admit(&refusal(
                t0 + chrono::Duration::seconds(2),
                "9434765919",
                401
            )),
            Admission::Write
        );
        // The window it replaced is not lost: its count is written at the next close.
        let closed = r.close(t0 + chrono::Duration::seconds(2), false);
        assert_eq!(closed.len(), 1);
        assert_eq!(
            closed[0]
                .detail
                .as_ref()
                .map(|d| d["refusals"]["count"].clone()),
            Some(2.into())
        );
    }
}
