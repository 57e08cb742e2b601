//! Summaries as a reader is sent them, kept per plan version, day and whether the way into the
//! home is shown: the hottest read decodes the stored summary, judges it as of the day and
//! encodes it again, and all of that is the same for every reader of that version on that day.
//! A hit sends the bytes as they were judged. A new version, a new day or the other kind of
//! reader is another entry, so nothing kept can outlive what it was judged from; a summary
//! telling of a previous decision is never kept, because its printed copies come from the
//! access log and change without a new version.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use ucp_domain::notice::ConsentWithdrawal;
use uuid::Uuid;

/// How many judged summaries a server keeps: about 5 KB each, so about 20 MB when full.
const KEPT: usize = 4_096;

/// What a judgement depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub plan_id: Uuid,
    pub version: i64,
    pub changed_at: DateTime<Utc>,
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

/// The judged summaries, least recently used first out.
#[derive(Clone)]
pub struct JudgedSummaries(Arc<Mutex<lru::LruCache<Key, Arc<Judged>>>>);

impl Default for JudgedSummaries {
    fn default() -> Self {
        Self::with_capacity(KEPT)
    }
}

impl std::fmt::Debug for JudgedSummaries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.lock().map(|c| c.len()).unwrap_or_default();
        f.debug_struct("JudgedSummaries")
            .field("len", &len)
            .finish()
    }
}

impl JudgedSummaries {
    /// A cache of at most `capacity` summaries (0 keeps none).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self(Arc::new(Mutex::new(lru::LruCache::new(capacity))))
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Arc<Judged>> {
        self.0.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: Key, judged: Arc<Judged>) {
        if let Ok(mut cache) = self.0.lock() {
            cache.put(key, judged);
        }
    }

    /// How many are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.lock().map(|c| c.len()).unwrap_or_default()
    }

    /// Whether none is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
