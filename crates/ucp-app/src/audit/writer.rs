use std::time::Duration;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Semaphore};

use super::refusals::{Admission, Refusals};
use crate::metrics::Metrics;
use ucp_store::{AccessEntry, Database};

/// How entries are grouped into commits.
#[derive(Debug, Clone, Copy)]
pub struct AuditConfig {
    /// How long the writer waits, after the first entry of a batch, for more to join it before
    /// asking for a commit slot (zero: none; batches fill while earlier commits are in flight).
    pub window: Duration,
    /// The most entries one commit carries.
    pub max_batch: usize,
    /// Commits in flight at once.
    pub in_flight: usize,
    /// Repeated refusals against one person within this long are one entry and a count (see
    /// [`super::refusals`]); zero writes each.
    pub refusal_window: Duration,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            window: Duration::ZERO,
            max_batch: 256,
            in_flight: 2,
            refusal_window: Duration::from_secs(60),
        }
    }
}

/// Why an entry could not be made durable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the access log could not be written: {0}")]
pub struct AuditFailed(pub String);

type Pending = (AccessEntry, oneshot::Sender<Result<(), AuditFailed>>);

/// Hands entries to one writer task that commits them in groups: every request waits for its
/// own entry's commit, but concurrent requests share one round trip and one fsync.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    sender: mpsc::Sender<Pending>,
    refusals: Arc<Refusals>,
    metrics: Arc<Metrics>,
}

impl AuditWriter {
    /// Starts the writer task, and the task that writes the counts of closed refusal windows,
    /// on the current Tokio runtime.
    #[must_use]
    pub fn start(db: Database, config: AuditConfig, metrics: Arc<Metrics>) -> Self {
        let (sender, receiver) = mpsc::channel(config.max_batch * 8);
        let refusals = Arc::new(Refusals::new(config.refusal_window));
        tokio::spawn(run(db, config, receiver, metrics.clone()));
        tokio::spawn(close_windows(sender.downgrade(), refusals.clone()));
        Self {
            sender,
            refusals,
            metrics,
        }
    }

    /// Records a request's entry: as [`AuditWriter::record`], except that a refusal repeating
    /// one already written in its window is counted into that window's entry instead.
    ///
    /// # Errors
    /// When its batch could not be committed (or the writer is gone).
    pub async fn record_request(&self, entry: AccessEntry) -> Result<(), AuditFailed> {
        match self.refusals.admit(&entry) {
            Admission::Counted => {
                self.metrics.access_refusals_coalesced.inc();
                Ok(())
            }
            Admission::Write => {
                let written = self.record(entry.clone()).await;
                if written.is_err() {
                    self.refusals.forget(&entry);
                }
                written
            }
        }
    }

    /// Returns once the entry is committed.
    ///
    /// # Errors
    /// When its batch could not be committed (or the writer is gone).
    pub async fn record(&self, entry: AccessEntry) -> Result<(), AuditFailed> {
        let (done, wait) = oneshot::channel();
        self.sender
            .send((entry, done))
            .await
            .map_err(|_| AuditFailed("the audit writer has stopped".into()))?;
        wait.await
            .map_err(|_| AuditFailed("the audit writer has stopped".into()))?
    }
}

/// Writes the count of each refusal window as it closes, until the writer is gone.
async fn close_windows(sender: mpsc::WeakSender<Pending>, refusals: Arc<Refusals>) {
    let mut tick = tokio::time::interval(refusals.tick());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(sender) = sender.upgrade() else {
            return;
        };
        for entry in refusals.close(chrono::Utc::now(), false) {
            let (done, wait) = oneshot::channel();
            if sender.send((entry, done)).await.is_err() {
                return;
            }
            match wait.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "a refusal window's count was not written")
                }
                Err(_) => return,
            }
        }
    }
}

async fn run(
    db: Database,
    config: AuditConfig,
    mut receiver: mpsc::Receiver<Pending>,
    metrics: Arc<Metrics>,
) {
    // Commits in flight at once: while one commits, the next batch fills; when a slot frees, the
    // batch goes as it is. No fixed window: under light load an entry waits for one commit, under
    // heavy load batches grow on their own.
    let slots = Arc::new(Semaphore::new(config.in_flight.max(1)));
    let mut open = true;
    while open {
        let Some(first) = receiver.recv().await else {
            break;
        };
        let mut batch: Vec<Pending> = Vec::with_capacity(config.max_batch);
        batch.push(first);
        if !config.window.is_zero() {
            let deadline = tokio::time::Instant::now() + config.window;
            while batch.len() < config.max_batch {
                match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(next)) => batch.push(next),
                    Ok(None) => {
                        open = false;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        let permit = loop {
            while batch.len() < config.max_batch {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            tokio::select! {
                biased;
                permit = slots.clone().acquire_owned() => break permit,
                next = receiver.recv(), if open && batch.len() < config.max_batch => match next {
                    Some(next) => batch.push(next),
                    None => open = false,
                },
            }
        };
        let Ok(permit) = permit else {
            break;
        };
        let db = db.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            commit(&db, batch, &metrics).await;
            drop(permit);
        });
    }
    // Let the last commits finish before the writer is gone.
    let _ = slots
        .acquire_many(u32::try_from(config.in_flight.max(1)).unwrap_or(1))
        .await;
}

async fn commit(db: &Database, batch: Vec<Pending>, metrics: &Metrics) {
    let (entries, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let result = db
        .record_access(&entries)
        .await
        .map_err(|e| AuditFailed(e.to_string()));
    let count = u64::try_from(entries.len()).unwrap_or(u64::MAX);
    match &result {
        Ok(()) => {
            metrics.audit_entries.inc_by(count);
            metrics.audit_commits.inc();
            #[allow(clippy::cast_precision_loss)] // a batch is at most a few hundred
            metrics.audit_batch_size.observe(count as f64);
        }
        Err(_) => {
            metrics.audit_failed_entries.inc_by(count);
        }
    }
    if let Err(e) = &result {
        tracing::error!(error = %e, entries = entries.len(), "access log batch failed; its requests get 503");
    }
    for waiter in waiters {
        let _ = waiter.send(result.clone());
    }
}
