//! Wake-ups for feed readers: a dedicated connection LISTENs for commits of appends, so a long
//! poll answers as soon as a change commits instead of at its next poll. Readers still poll as
//! a fallback; a lost notification only delays, never loses, a change.

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio_postgres::AsyncMessage;

use crate::Database;

/// A counter that moves on every committed append this process hears of.
#[derive(Debug, Clone)]
pub struct FeedSignal {
    receiver: watch::Receiver<u64>,
    // A silent signal holds its own sender, so that `changed()` waits instead of failing at once.
    _silent_sender: Option<std::sync::Arc<watch::Sender<u64>>>,
}

impl FeedSignal {
    /// A signal that never fires: readers fall back to polling.
    #[must_use]
    pub fn silent() -> Self {
        let (sender, receiver) = watch::channel(0);
        Self {
            receiver,
            _silent_sender: Some(std::sync::Arc::new(sender)),
        }
    }

    /// A receiver to wait on; subscribe before reading the feed, so no wake-up is missed.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        let mut receiver = self.receiver.clone();
        receiver.mark_unchanged();
        receiver
    }
}

impl Database {
    /// Starts the LISTEN task (reconnecting with backoff) when the store knows how to connect;
    /// otherwise a silent signal.
    #[must_use]
    pub fn feed_signal(&self) -> FeedSignal {
        let Some((config, tls)) = self.listen.clone() else {
            return FeedSignal::silent();
        };
        let (sender, receiver) = watch::channel(0u64);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match config.connect(tls.clone()).await {
                    Ok((client, mut connection)) => {
                        backoff = Duration::from_millis(100);
                        let mut messages =
                            futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                        let listen = client.batch_execute("LISTEN ucp_feed");
                        tokio::pin!(listen);
                        // Drive the connection while LISTEN is sent.
                        let listening = loop {
                            tokio::select! {
                                r = &mut listen => break r.is_ok(),
                                m = messages.next() => if m.is_none() { break false },
                            }
                        };
                        if listening {
                            // Anything may have committed while we were away.
                            sender.send_modify(|n| *n += 1);
                            while let Some(message) = messages.next().await {
                                match message {
                                    Ok(AsyncMessage::Notification(_)) => {
                                        sender.send_modify(|n| *n += 1)
                                    }
                                    Ok(_) => {}
                                    Err(e) => {
                                        tracing::warn!(error = %e, "feed listener connection failed");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "feed listener cannot connect; readers poll")
                    }
                }
                if sender.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        FeedSignal {
            receiver,
            _silent_sender: None,
        }
    }
}
