//! Summaries as a reader is sent them, kept per plan version, day and whether the way into the
//! home is shown: the hottest read decodes the stored summary, judges it as of the day and
//! encodes it again, and all of that is the same for every reader of that version on that day.
//! A hit sends the bytes as they were judged. A new version, a new day or the other kind of
//! reader is another entry, so nothing kept can outlive what it was judged from; a summary
//! telling of a previous decision is never kept, because its printed copies come from the
//! access log and change without a new version.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use ucp_domain::notice::ConsentWithdrawal;
use uuid::Uuid;

/// How many bytes of judged summaries a server keeps (about 5 KB each: some 3,000 summaries;
/// a server's peak RSS is held under 200 MB with it full).
const KEPT_BYTES: usize = 16 * 1024 * 1024;

/// A summary larger than this is not kept (one with pages of free text): it would crowd out
/// hundreds of others.
const LARGEST_KEPT: usize = 64 * 1024;

/// What a judgement depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub plan_id: Uuid,
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    /// The transaction that wrote the stored row: a row mended at the same version (by a
    /// rebuild) is judged afresh.
    pub written_by: i64,
    pub day: NaiveDate,
    /// Whether the reader attends the home (and so is shown how to get in).
    pub way_in: bool,
}

/// A summary as judged and encoded, with what is decided per reader afterwards.
#[derive(Debug)]
pub(crate) struct Judged {
    pub plan_version: i64,
    pub etag: String,
    pub body: Vec<u8>,
    /// Who may still read it while consent to share is withdrawn: asked of every reader.
    pub consent_withdrawn: Option<ConsentWithdrawal>,
    /// Whether the summary holds how to get into the home (the access log says it was shown).
    pub access_to_home: bool,
}

/// The judged summaries, least recently used first out, within a budget of bytes.
#[derive(Clone)]
pub struct JudgedSummaries(Arc<Mutex<Kept>>, Arc<AtomicU64>);

struct Kept {
    entries: lru::LruCache<Key, Arc<Judged>>,
    bytes: usize,
    budget: usize,
}

impl Default for JudgedSummaries {
    fn default() -> Self {
        Self::within(KEPT_BYTES)
    }
}

impl std::fmt::Debug for JudgedSummaries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgedSummaries")
            .field("len", &self.len())
            .finish()
    }
}

impl JudgedSummaries {
    /// Summaries kept within `budget` bytes of their bodies (0 keeps none).
    #[must_use]
    pub fn within(budget: usize) -> Self {
        Self(
            Arc::new(Mutex::new(Kept {
                entries: lru::LruCache::unbounded(),
                bytes: 0,
                budget,
            })),
            Arc::default(),
        )
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Arc<Judged>> {
        let hit = self.0.lock().ok()?.entries.get(key).cloned();
        if hit.is_some() {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// How many reads were sent a kept judgement.
    #[must_use]
    pub fn hits(&self) -> u64 {
        self.1.load(Ordering::Relaxed)
    }

    pub(crate) fn put(&self, key: Key, judged: Arc<Judged>) {
        let size = judged.body.len();
        let Ok(mut kept) = self.0.lock() else {
            return;
        };
        if size > LARGEST_KEPT || size > kept.budget {
            return;
        }
        if let Some(old) = kept.entries.put(key, judged) {
            kept.bytes -= old.body.len();
        }
        kept.bytes += size;
        while kept.bytes > kept.budget {
            match kept.entries.pop_lru() {
                Some((_, out)) => kept.bytes -= out.body.len(),
                None => break,
            }
        }
    }

    /// How many are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.lock().map(|k| k.entries.len()).unwrap_or_default()
    }

    /// Whether none is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of the bodies kept.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.0.lock().map(|k| k.bytes).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: i64) -> Key {
        Key {
            plan_id: Uuid::nil(),
            version: n,
            changed_at: DateTime::<Utc>::MIN_UTC,
            written_by: 0,
            day: NaiveDate::MIN,
            way_in: false,
        }
    }

    fn judged(size: usize) -> Arc<Judged> {
        Arc::new(Judged {
            plan_version: 1,
            etag: String::new(),
            body: vec![b'x'; size],
            consent_withdrawn: None,
            access_to_home: false,
        })
    }

    #[test]
    fn the_least_recently_used_go_first_to_keep_within_the_budget() {
        let kept = JudgedSummaries::within(10_000);
        for n in 0..4 {
            kept.put(key(n), judged(3_000));
        }
        assert_eq!((kept.len(), kept.bytes()), (3, 9_000));
        assert!(kept.get(&key(0)).is_none(), "the oldest went");
        assert!(kept.get(&key(1)).is_some());
        // Used just now, 1 stays; 2 goes.
        kept.put(key(4), judged(3_000));
        assert!(kept.get(&key(1)).is_some());
        assert!(kept.get(&key(2)).is_none());
        // The same key again replaces, and counts once.
        kept.put(key(4), judged(1_000));
        assert_eq!(kept.bytes(), 7_000);
    }

    #[test]
    fn a_summary_too_large_or_no_budget_keeps_nothing() {
        let kept = JudgedSummaries::within(KEPT_BYTES);
        kept.put(key(1), judged(LARGEST_KEPT + 1));
        assert!(kept.is_empty());
        let none = JudgedSummaries::within(0);
        none.put(key(1), judged(10));
        assert!(none.is_empty());
    }
}
