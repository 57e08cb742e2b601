//! The gapless feed: with many concurrent writers, a reader that follows the cursor sees every
//! event exactly once, and each stream's events in version order.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::json;
use ucp_store::{
    load_checkpoint, save_checkpoint, AppendRequest, EventMetadata, ExpectedVersion, FeedCursor,
    NewEvent, RecordedEvent,
};
use uuid::Uuid;

use crate::helpers::TestDb;

fn event(writer: usize, n: usize) -> NewEvent {
    NewEvent::new(
        "TestHappened",
        1,
        json!({ "writer": writer, "n": n }),
        EventMetadata {
            actor: format!("writer-{writer}"),
            role: "system".into(),
            ..EventMetadata::default()
        },
    )
}

/// 16 writers append at least 10,000 events over 64 streams (1 to 4 events per append, so
/// transactions of different sizes interleave) while a reader follows the feed in pages of 7.
/// Run with the fence taken out of the feed query, this test fails: the reader moves past
/// events whose transaction commits late and never sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_feed_sees_every_event_once_in_stream_order() {
    const WRITERS: usize = 16;
    const TOTAL: usize = 10_000;
    const STREAMS: usize = 64;
    const PAGE: i64 = 7;
    let test_db = TestDb::migrated().await;
    let db = test_db.store(WRITERS + 4);
    let streams: Arc<Vec<Uuid>> = Arc::new((0..STREAMS).map(|_| Uuid::new_v4()).collect());
    // Set once the writers are done: how many events they wrote in all.
    let written_total = Arc::new(AtomicUsize::new(usize::MAX));

    let reader = {
        let db = db.clone();
        let written_total = written_total.clone();
        tokio::spawn(async move {
            let mut seen: Vec<RecordedEvent> = Vec::new();
            let mut cursor = FeedCursor::START;
            // The fence holds back events behind any transaction still open in the cluster
            // (other tests run beside this one), so an empty page does not mean the end: read
            // until every written event has come, or give up after a while — a skipped event
            // never comes.
            let mut deadline: Option<tokio::time::Instant> = None;
            loop {
                let target = written_total.load(Ordering::SeqCst);
                if target != usize::MAX {
                    let give_up = *deadline.get_or_insert_with(|| {
                        tokio::time::Instant::now() + Duration::from_secs(20)
                    });
                    if seen.len() >= target || tokio::time::Instant::now() >= give_up {
                        break;
                    }
                }
                let page = db
                    .read_feed(cursor, PAGE)
                    .await
                    .unwrap_or_else(|e| panic!("feed: {e}"));
                if page.events.is_empty() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                cursor = page.next;
                seen.extend(page.events);
            }
            // Nothing more may come: a repeat would show up here.
            let tail = db
                .read_feed(cursor, PAGE)
                .await
                .unwrap_or_else(|e| panic!("feed: {e}"));
            seen.extend(tail.events);
            seen
        })
    };

    let per_writer = TOTAL / WRITERS;
    let writers = (0..WRITERS).map(|w| {
        let db = db.clone();
        let streams = streams.clone();
        tokio::spawn(async move {
            let mut written = 0;
            let mut ids = Vec::new();
            while written < per_writer {
                let (stream, count) = {
                    let mut rng = rand::rng();
                    (
                        streams[rng.random_range(0..STREAMS)],
                        rng.random_range(1..=4usize).min(per_writer - written),
                    )
                };
                let events: Vec<NewEvent> = (0..count).map(|i| event(w, written + i)).collect();
                ids.extend(events.iter().map(|e| e.event_id));
                db.append(AppendRequest {
                    stream_id: stream,
                    stream_type: "test".into(),
                    expected: ExpectedVersion::Any,
                    events,
                    idempotency: None,
                    prior: None,
                    audit: None,
                })
                .await
                .unwrap_or_else(|e| panic!("append: {e}"));
                written += count;
            }
            ids
        })
    });
    let writers: Vec<_> = writers.collect(); // spawn them all now, to run at once
    let mut written: HashSet<Uuid> = HashSet::new();
    for w in writers {
        written.extend(w.await.unwrap_or_else(|e| panic!("writer: {e}")));
    }
    written_total.store(written.len(), Ordering::SeqCst);
    let seen = reader.await.unwrap_or_else(|e| panic!("reader: {e}"));

    // Every acknowledged event is in the log, and nothing else is.
    assert_eq!(
        written.len(),
        TOTAL,
        "each writer's events have distinct ids"
    );
    assert_eq!(
        test_db.event_count().await,
        TOTAL,
        "the log holds what was acknowledged"
    );
    let seen_ids: HashSet<Uuid> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(seen_ids.len(), seen.len(), "no event was read twice");
    let missed = written.difference(&seen_ids).count();
    assert_eq!(
        missed,
        0,
        "the reader skipped {missed} of {} events",
        written.len()
    );
    assert_eq!(seen.len(), written.len());

    let mut last_version: HashMap<Uuid, i64> = HashMap::new();
    for e in &seen {
        let last = last_version.entry(e.stream_id).or_insert(0);
        assert_eq!(
            e.stream_version,
            *last + 1,
            "stream {} out of order",
            e.stream_id
        );
        *last = e.stream_version;
    }
    for w in seen.windows(2) {
        assert!(
            FeedCursor::of(&w[0]) < FeedCursor::of(&w[1]),
            "feed order is commit order"
        );
    }
}

/// A committed event shows in the feed once every transaction older than it has ended, in this
/// database or any other of the cluster: wait for that.
async fn read_at_least(
    db: &ucp_store::Database,
    after: FeedCursor,
    limit: i64,
    n: usize,
) -> ucp_store::FeedPage {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = db
            .read_feed(after, limit)
            .await
            .unwrap_or_else(|e| panic!("feed: {e}"));
        if page.events.len() >= n || tokio::time::Instant::now() >= deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn checkpoints_save_and_resume_where_a_consumer_stopped() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    let stream = Uuid::new_v4();
    db.append(AppendRequest {
        stream_id: stream,
        stream_type: "test".into(),
        expected: ExpectedVersion::NoStream,
        events: (0..5).map(|n| event(0, n)).collect(),
        idempotency: None,
        prior: None,
        audit: None,
    })
    .await
    .unwrap_or_else(|e| panic!("append: {e}"));

    let mut client = db.pool().get().await.unwrap();
    assert_eq!(
        load_checkpoint(&client, "dispatch").await.ok().flatten(),
        None
    );
    let page = read_at_least(&db, FeedCursor::START, 3, 3).await;
    assert_eq!(page.events.len(), 3);

    // A batch whose transaction rolls back leaves the checkpoint where it was.
    let tx = client.transaction().await.unwrap();
    save_checkpoint(&tx, "dispatch", page.next)
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    tx.rollback().await.unwrap();
    assert_eq!(
        load_checkpoint(&client, "dispatch").await.ok().flatten(),
        None
    );

    let tx = client.transaction().await.unwrap();
    save_checkpoint(&tx, "dispatch", page.next)
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    tx.commit().await.unwrap();
    let resumed = load_checkpoint(&client, "dispatch")
        .await
        .unwrap_or_else(|e| panic!("load: {e}"))
        .unwrap_or_else(|| panic!("no checkpoint"));
    assert_eq!(resumed, page.next);
    let rest = read_at_least(&db, resumed, 100, 2).await;
    let versions: Vec<i64> = rest.events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, vec![4, 5]);
    let decoded = FeedCursor::decode(&rest.next.encode()).unwrap();
    assert_eq!(decoded, rest.next);
    assert!(db
        .read_feed(rest.next, 100)
        .await
        .unwrap_or_else(|e| panic!("feed: {e}"))
        .events
        .is_empty());
}
