//! The event store on real PostgreSQL: appends, conflicts, idempotency, no lost update, and the
//! log's refusal to be rewritten.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::Barrier;
use ucp_store::{
    AppendRequest, Database, EventMetadata, ExpectedVersion, IdempotencyKey, NewEvent, StoreError,
    StreamBound,
};
use uuid::Uuid;

use crate::helpers::TestDb;

fn metadata() -> EventMetadata {
    EventMetadata {
        actor: "clinician-1".into(),
        actor_name: Some("Dr A Example".into()),
        role: "clinician".into(),
        organisation: Some("F84001".into()),
        on_behalf_of: None,
        request_id: Some("req-1".into()),
        correlation_id: Some(Uuid::new_v4()),
        causation_id: None,
    }
}

fn event(n: u32) -> NewEvent {
    NewEvent::new("TestHappened", 1, json!({ "n": n }), metadata())
}

fn append(stream_id: Uuid, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream_id,
        stream_type: "test".into(),
        expected,
        events,
        idempotency: None,
        prior: None,
        audit: None,
    }
}

async fn event_count(db: &Database) -> i64 {
    let client = db.pool().get().await.unwrap();
    client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn append_and_read_round_trip() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    let stream = Uuid::new_v4();
    let written = vec![event(1), event(2)];

    let first = db
        .append(append(stream, ExpectedVersion::NoStream, written.clone()))
        .await
        .unwrap_or_else(|e| panic!("append: {e}"));
    assert_eq!(first.version(), 2);
    assert!(!first.replayed);
    let second = db
        .append(append(stream, ExpectedVersion::Exact(2), vec![event(3)]))
        .await
        .unwrap_or_else(|e| panic!("append: {e}"));
    assert_eq!(second.version(), 3);

    let read = db
        .read_stream(stream, StreamBound::All)
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(read.len(), 3);
    for (i, (got, sent)) in read.iter().zip(&written).enumerate() {
        assert_eq!(got.stream_version, i64::try_from(i).unwrap_or_default() + 1);
        assert_eq!(got.event_id, sent.event_id);
        assert_eq!(got.event_type, "TestHappened");
        assert_eq!(got.schema_version, 1);
        assert_eq!(got.data, sent.data);
        assert_eq!(
            got.metadata, sent.metadata,
            "actor, role, organisation, ids survive"
        );
        assert_eq!(got.stream_type, "test");
    }
    assert_eq!(
        read[..2],
        first.events[..],
        "append returns what the log holds"
    );
    assert_eq!(db.stream_version(stream).await.ok().flatten(), Some(3));

    let up_to_two = db
        .read_stream(stream, StreamBound::UpToVersion(2))
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(up_to_two.len(), 2);
    let as_of_first = db
        .read_stream(stream, StreamBound::AsOf(read[1].recorded_at))
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(as_of_first.len(), 2, "as of the first append's instant");
    let before = read[0].recorded_at - chrono::Duration::seconds(1);
    let none = db
        .read_stream(stream, StreamBound::AsOf(before))
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert!(none.is_empty());
    assert!(db
        .read_stream(Uuid::new_v4(), StreamBound::All)
        .await
        .unwrap_or_else(|e| panic!("read: {e}"))
        .is_empty());
}

#[tokio::test]
async fn a_stale_expected_version_is_a_typed_conflict_and_writes_nothing() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    let stream = Uuid::new_v4();
    db.append(append(stream, ExpectedVersion::NoStream, vec![event(1)]))
        .await
        .unwrap_or_else(|e| panic!("append: {e}"));

    let again = db
        .append(append(stream, ExpectedVersion::NoStream, vec![event(2)]))
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::VersionConflict {
                actual: Some(1),
                ..
            })
        ),
        "{again:?}"
    );
    let stale = db
        .append(append(stream, ExpectedVersion::Exact(5), vec![event(3)]))
        .await;
    assert!(
        matches!(
            &stale,
            Err(StoreError::VersionConflict {
                actual: Some(1),
                ..
            })
        ),
        "{stale:?}"
    );
    // A refused append wrote nothing: the stream is still at version 1, with its one event.
    assert_eq!(db.stream_version(stream).await.unwrap(), Some(1));
    assert_eq!(
        db.read_stream(stream, ucp_store::StreamBound::All)
            .await
            .unwrap()
            .len(),
        1
    );
    // Only a version conflict is one a caller resolves by reading again.
    let empty = db
        .append(append(stream, ExpectedVersion::Exact(1), vec![]))
        .await;
    assert!(matches!(&empty, Err(StoreError::EmptyAppend)), "{empty:?}");
    assert!(stale.is_err_and(|e| e.is_conflict()));
    assert!(empty.is_err_and(|e| !e.is_conflict()));
    let missing = db
        .append(append(
            Uuid::new_v4(),
            ExpectedVersion::Exact(1),
            vec![event(4)],
        ))
        .await;
    assert!(
        matches!(
            missing,
            Err(StoreError::VersionConflict { actual: None, .. })
        ),
        "{missing:?}"
    );
    assert_eq!(event_count(&db).await, 1);
    assert!(matches!(
        db.append(append(stream, ExpectedVersion::Any, vec![]))
            .await,
        Err(StoreError::EmptyAppend)
    ));
}

#[tokio::test]
async fn an_event_id_is_written_once() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    let e = event(1);
    db.append(append(
        Uuid::new_v4(),
        ExpectedVersion::NoStream,
        vec![e.clone()],
    ))
    .await
    .unwrap_or_else(|err| panic!("append: {err}"));
    let again = db
        .append(append(
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            vec![e.clone()],
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::DuplicateEvent(id)) if id == e.event_id),
        "{again:?}"
    );
    assert_eq!(event_count(&db).await, 1);
}

fn keyed(stream: Uuid, key: &str, fingerprint: &str, n: u32) -> AppendRequest {
    AppendRequest {
        idempotency: Some(IdempotencyKey {
            scope: "clinician-1".into(),
            key: key.into(),
            fingerprint: fingerprint.into(),
        }),
        ..append(stream, ExpectedVersion::NoStream, vec![event(n)])
    }
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_first_result_and_writes_nothing() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    // A create picks a new stream id on every try: the retry must still find the first.
    let first = db
        .append(keyed(Uuid::new_v4(), "key-1", "body-a", 1))
        .await
        .unwrap_or_else(|e| panic!("append: {e}"));
    let retry = db
        .append(keyed(Uuid::new_v4(), "key-1", "body-a", 1))
        .await
        .unwrap_or_else(|e| panic!("retry: {e}"));
    assert!(retry.replayed);
    assert_eq!(retry.stream_id, first.stream_id);
    assert_eq!(retry.events, first.events);
    assert_eq!(event_count(&db).await, 1);

    // Concurrent retries of one request: one write, every caller the same answer.
    let results = futures::future::join_all(
        (0..8).map(|_| db.append(keyed(Uuid::new_v4(), "key-2", "body-b", 2))),
    )
    .await;
    let outcomes: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("concurrent retry: {e}")))
        .collect();
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(outcomes
        .iter()
        .all(|o| o.stream_id == outcomes[0].stream_id));
    assert_eq!(event_count(&db).await, 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    db.append(keyed(Uuid::new_v4(), "key-1", "body-a", 1))
        .await
        .unwrap_or_else(|e| panic!("append: {e}"));
    let reuse = db.append(keyed(Uuid::new_v4(), "key-1", "body-b", 2)).await;
    assert!(
        matches!(&reuse, Err(StoreError::IdempotencyKeyReused { key }) if key == "key-1"),
        "{reuse:?}"
    );
    assert_eq!(event_count(&db).await, 1);
}

/// 16 writers race for every version: in each round all of them read the same version and
/// append expecting it. Exactly one wins each round, every other gets the typed conflict, and
/// every version is taken exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_lost_update_under_sixteen_concurrent_writers() {
    const WRITERS: usize = 16;
    const ROUNDS: usize = 25;
    let test_db = TestDb::migrated().await;
    let db = test_db.store(WRITERS + 2);
    let stream = Uuid::new_v4();
    db.append(append(stream, ExpectedVersion::NoStream, vec![event(0)]))
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));

    let barrier = Arc::new(Barrier::new(WRITERS));
    let tasks = (0..WRITERS).map(|w| {
        let db = db.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            let mut won = Vec::new();
            let mut lost = 0usize;
            for round in 0..ROUNDS {
                barrier.wait().await;
                let version = db
                    .stream_version(stream)
                    .await
                    .unwrap_or_else(|e| panic!("version: {e}"))
                    .unwrap_or_default();
                barrier.wait().await;
                let n = u32::try_from(w * 1000 + round).unwrap_or_default();
                match db
                    .append(append(
                        stream,
                        ExpectedVersion::Exact(version),
                        vec![event(n)],
                    ))
                    .await
                {
                    Ok(outcome) => won.push((round, outcome.version(), outcome.events[0].event_id)),
                    Err(StoreError::VersionConflict { .. }) => lost += 1,
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
            (won, lost)
        })
    });
    let tasks: Vec<_> = tasks.collect(); // spawn them all now: they wait for each other
    let mut wins = Vec::new();
    let mut losses = 0;
    for task in tasks {
        let (won, lost) = task.await.unwrap_or_else(|e| panic!("writer: {e}"));
        wins.extend(won);
        losses += lost;
    }
    assert_eq!(wins.len(), ROUNDS, "exactly one winner per round");
    assert_eq!(
        losses,
        ROUNDS * (WRITERS - 1),
        "every loser got the conflict"
    );
    let mut versions: Vec<i64> = wins.iter().map(|w| w.1).collect();
    versions.sort_unstable();
    let expected: Vec<i64> = (2..=i64::try_from(ROUNDS).unwrap_or_default() + 1).collect();
    assert_eq!(versions, expected, "every version taken exactly once");

    let log = db
        .read_stream(stream, StreamBound::All)
        .await
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(log.len(), ROUNDS + 1);
    for (round, version, event_id) in wins {
        let stored = &log[usize::try_from(version - 1).unwrap_or_default()];
        assert_eq!(
            stored.event_id, event_id,
            "round {round}: the winner's event holds its version"
        );
    }
}

#[tokio::test]
async fn the_log_refuses_update_delete_and_truncate() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(2);
    db.append(append(
        Uuid::new_v4(),
        ExpectedVersion::NoStream,
        vec![event(1)],
    ))
    .await
    .unwrap_or_else(|e| panic!("append: {e}"));

    // Even the owner (a superuser here) is refused by the trigger.
    let owner = test_db.owner_client().await;
    for sql in [
        "UPDATE events SET data = '{}'::jsonb",
        "DELETE FROM events",
        "TRUNCATE events CASCADE",
    ] {
        let err = owner
            .batch_execute(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} was allowed"));
        let db_err = err.as_db_error().unwrap_or_else(|| panic!("{err}"));
        assert!(
            db_err.message().contains("append-only"),
            "{sql}: {db_err:?}"
        );
    }

    // The server's role has no right to try.
    let app = db.pool().get().await.unwrap();
    let role: String = app
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, ucp_store::APP_ROLE);
    for sql in [
        "UPDATE events SET data = '{}'::jsonb",
        "DELETE FROM events",
        "TRUNCATE events",
        "RESET ROLE; DELETE FROM events",
        "SET ROLE postgres",
    ] {
        let err = app
            .batch_execute(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} was allowed for the app role"));
        let db_err = err.as_db_error().unwrap_or_else(|| panic!("{err}"));
        assert_eq!(
            db_err.code(),
            &tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE,
            "{sql}: {db_err:?}"
        );
    }
    assert_eq!(event_count(&db).await, 1);
}

/// A write's consistency token comes from its own connection: inside a request's scope the
/// append notes the WAL position after its commit, at or past the commit and no later than the
/// primary's position read afterwards; outside one it notes nothing and costs nothing.
#[tokio::test]
async fn an_append_notes_the_wal_position_after_its_commit() {
    use std::cell::Cell;
    use ucp_store::replica::{parse_lsn, WritePosition, WRITE_POSITION};
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    let before = parse_lsn(&db.consistency_token().await.unwrap()).unwrap();
    let noted = WRITE_POSITION
        .scope(Cell::new(WritePosition::default()), async {
            db.append(append(
                Uuid::new_v4(),
                ExpectedVersion::NoStream,
                vec![event(1)],
            ))
            .await
            .unwrap();
            WRITE_POSITION.with(Cell::get).known()
        })
        .await
        .expect("the append noted its position");
    let after = parse_lsn(&db.consistency_token().await.unwrap()).unwrap();
    assert!(
        before < noted,
        "{before} < {noted}: the commit moved the WAL on"
    );
    assert!(noted <= after, "{noted} <= {after}");
    // Outside a scope: nothing noted, nothing refused.
    db.append(append(
        Uuid::new_v4(),
        ExpectedVersion::NoStream,
        vec![event(2)],
    ))
    .await
    .unwrap();
}

/// A write reads only the events after the state it holds, however long the stream: the
/// bounded reads are index ranges even in the generic plan PostgreSQL switches a prepared
/// statement to after a few runs (a plan that filtered instead read every event of the stream
/// on every write).
#[tokio::test]
async fn a_bounded_stream_read_is_an_index_range_in_a_generic_plan() {
    let db = TestDb::migrated().await;
    let client = db.owner_client().await;
    client
        .batch_execute("SET plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    for (name, bound, value) in [
        ("after", ucp_store::StreamBound::AfterVersion(7), 7_i64),
        ("up_to", ucp_store::StreamBound::UpToVersion(7), 7),
    ] {
        let sql = ucp_store::stream_sql(bound);
        client
            .batch_execute(&format!("PREPARE {name}(uuid, bigint) AS {sql}"))
            .await
            .unwrap();
        let plan: serde_json::Value = client
            .query_one(
                &format!(
                    "EXPLAIN (FORMAT JSON) EXECUTE {name}('{}', {value})",
                    Uuid::new_v4()
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        let text = plan.to_string();
        let bounded = text.split("\"Index Cond\":").skip(1).any(|cond| {
            cond.split('"')
                .nth(1)
                .is_some_and(|c| c.contains("stream_version"))
        });
        assert!(bounded, "{name}: the version is not an index bound: {plan}");
    }
}
