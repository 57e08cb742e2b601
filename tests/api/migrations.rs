//! Migrations are idempotent and safe when two processes migrate at once.

use crate::helpers::TestDb;

async fn applied_versions(db: &TestDb) -> Vec<i32> {
    db.owner_client()
        .await
        .query(
            "SELECT version FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn migrating_twice_is_a_no_op() {
    let db = TestDb::empty().await;
    let first = ucp_store::migrate(&db.url())
        .await
        .unwrap_or_else(|e| panic!("first: {e}"));
    assert!(first >= 1);
    let second = ucp_store::migrate(&db.url())
        .await
        .unwrap_or_else(|e| panic!("second: {e}"));
    assert_eq!(second, 0);
    assert_eq!(applied_versions(&db).await.len(), first);
}

#[tokio::test]
async fn two_binaries_migrating_at_once_both_succeed_and_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let spawn = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
            .arg("migrate")
            .env("DATABASE_URL", db.url())
            .env("RUST_LOG", "warn")
            .status()
    };
    let (a, b, c) = tokio::join!(spawn(), spawn(), spawn());
    for status in [a, b, c] {
        assert!(status.unwrap_or_else(|e| panic!("{e}")).success());
    }
    let versions = applied_versions(&db).await;
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(versions, unique, "each migration recorded once");
    assert!(!versions.is_empty());
}
