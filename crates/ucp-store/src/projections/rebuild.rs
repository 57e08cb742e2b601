//! Rebuilding the care plan read models from the log without stopping writers: the log is read
//! in one pass from one snapshot, folded plan by plan, and copied in bulk into fresh tables
//! beside the live ones; their indexes are built; then, in one short transaction that holds
//! appends back, the plans written meanwhile are brought up to date and the fresh tables take
//! the live ones' names. Readers see the old tables until that commit and the new ones after it.
//!
//! Runs as the database owner (it creates and drops tables), never as the server's role.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::{pin_mut, TryStreamExt};
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::IsolationLevel;
use uuid::Uuid;

use super::care_plans::{
    write_plan, PlanRows, PATIENT_COLUMNS, STREAM_TYPE, SUMMARY_COLUMNS, VIEW_COLUMNS,
    WORKLIST_COLUMNS,
};
use super::replay::fold;
use crate::event::EVENT_COLUMNS;
use crate::read_stream::{load_stream, StreamReads};
use crate::tls::{parse_url, DatabaseTls};
use crate::{RecordedEvent, StoreError, StreamBound, APP_ROLE};

/// The read models of care plans, in the order they may be dropped (a line by organisation
/// refers to its worklist row).
const TABLES: [&str; 5] = [
    "review_worklist_orgs",
    "review_worklist",
    "patient_index",
    "emergency_summary",
    "care_plan_view",
];

/// The fresh tables' names: the live name with this suffix.
const FRESH: &str = "_rebuild";

/// The replaced tables' names until they are dropped, after the swap.
const REPLACED: &str = "_replaced";

/// Only one rebuild at a time: they would share the fresh tables.
const REBUILD_LOCK: i64 = 0x7563_705f_7265_6275; // "ucp_rebu"

/// How many plans are copied per `COPY`.
const CHUNK: usize = 2_000;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RebuildReport {
    /// Plans folded from the log (in the snapshot the bulk copy read).
    pub plans: u64,
    /// Events read in that snapshot.
    pub events: u64,
    /// Plans written while the copy ran, brought up to date before the swap.
    pub caught_up: u64,
    /// How long reading, folding and copying took.
    pub copy: Duration,
    /// How long building the fresh tables' indexes took.
    pub indexes: Duration,
    /// How long appends were held back: catching up and swapping the tables.
    pub swap: Duration,
    /// How long checking the foreign keys and analysing the swapped-in tables took.
    pub after_swap: Duration,
}

/// A constraint or index of a live table, to be made again on its fresh table.
#[derive(Debug, Clone)]
struct Definition {
    name: String,
    kind: DefinitionKind,
}

#[derive(Debug, Clone)]
enum DefinitionKind {
    /// A primary key, unique or exclusion constraint: `pg_get_constraintdef`.
    Constraint(String),
    /// A foreign key: made after the swap (it names the live table it refers to).
    ForeignKey(String),
    /// A plain index: what follows `USING` in `pg_get_indexdef`, and whether it is unique.
    Index { unique: bool, using: String },
}

/// The read models rebuilt into fresh tables, waiting to be swapped in.
pub struct Rebuild {
    client: Object,
    /// The snapshot the log was folded in (`pg_current_snapshot()` as text): every event it
    /// does not see was written since, and its plan must be caught up.
    snapshot: String,
    definitions: HashMap<&'static str, Vec<Definition>>,
    report: RebuildReport,
}

impl std::fmt::Debug for Rebuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// Rebuilds the care plan read models from the log while appends go on, telling `progress`
/// (plans done, plans in all) as it goes.
///
/// # Errors
/// When the database fails, another rebuild is running, or a stored event cannot be read.
pub async fn rebuild_care_plan_read_models(
    owner_url: &str,
    tls: &DatabaseTls,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<RebuildReport, StoreError> {
    Rebuild::load(owner_url, tls, progress).await?.swap().await
}

/// Two connections as the owner: one reads the log, one writes the fresh tables.
fn owner_pool(url: &str, tls: &DatabaseTls) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        parse_url(url)?,
        tls.connector()?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(2)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Config(e.to_string()))
}

impl Rebuild {
    /// Folds the whole log, as of one snapshot, into fresh tables beside the live ones and
    /// builds their indexes. Appends and reads go on meanwhile, on the live tables.
    ///
    /// # Errors
    /// As [`rebuild_care_plan_read_models`].
    pub async fn load(
        owner_url: &str,
        tls: &DatabaseTls,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Self, StoreError> {
        let pool = owner_pool(owner_url, tls)?;
        let client = pool.get().await?;
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&REBUILD_LOCK])
            .await?
            .try_get(0)?;
        if !locked {
            return Err(StoreError::Config(
                "another projection rebuild is running on this database".into(),
            ));
        }
        // The bulk copy need not wait for its WAL to reach the disk: the index builds' commits
        // flush it, before the swap. (And no notices for the tables that were not there.)
        client
            .batch_execute("SET synchronous_commit = off; SET client_min_messages = warning")
            .await?;
        let mut definitions = HashMap::new();
        for table in TABLES {
            definitions.insert(table, definitions_of(&client, table).await?);
            client
                .batch_execute(&format!(
                    "DROP TABLE IF EXISTS {table}{FRESH} CASCADE; \
                     DROP TABLE IF EXISTS {table}{REPLACED} CASCADE; \
                     CREATE TABLE {table}{FRESH} (LIKE {table} INCLUDING ALL \
                       EXCLUDING INDEXES)"
                ))
                .await?;
        }

        let started = Instant::now();
        // The reader: one snapshot for the count, the versions and the events.
        let mut reader = pool.get().await?;
        let snapshot = reader
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        // The first statement fixes the transaction's snapshot: this is the one folded.
        let seen: String = snapshot
            .query_one("SELECT pg_current_snapshot()::text", &[])
            .await?
            .try_get(0)?;
        let total: i64 = snapshot
            .query_one(
                "SELECT count(*) FROM streams WHERE stream_type = $1",
                &[&STREAM_TYPE],
            )
            .await?
            .try_get(0)?;
        let total = u64::try_from(total).unwrap_or(0);
        let stmt = snapshot
            .prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.stream_id = e.stream_id \
                 WHERE s.stream_type = $1 ORDER BY e.stream_id, e.stream_version"
            ))
            .await?;
        let rows = snapshot.query_raw(&stmt, [STREAM_TYPE]).await?;
        pin_mut!(rows);

        // Folding here, copying there: the two overlap.
        let (chunks, mut received) = mpsc::channel::<Vec<PlanRows>>(2);
        let copier = async {
            while let Some(chunk) = received.recv().await {
                copy_chunk(&client, &chunk).await?;
            }
            Ok::<(), StoreError>(())
        };
        let folder = async {
            let mut report = RebuildReport::default();
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut current: Option<(Uuid, Vec<RecordedEvent>)> = None;
            let mut seen = 0;
            loop {
                let next = rows.try_next().await?;
                let event = next.map(|row| RecordedEvent::from_row(&row)).transpose()?;
                let same =
                    matches!((&current, &event), (Some((id, _)), Some(e)) if *id == e.stream_id);
                if same {
                    if let (Some((_, events)), Some(e)) = (current.as_mut(), event) {
                        events.push(e);
                    }
                    continue;
                }
                if let Some((id, events)) = current.take() {
                    report.events += events.len() as u64;
                    if let Some(plan) = fold(&events)? {
                        chunk.push(PlanRows::of(id, &plan)?);
                        report.plans += 1;
                    }
                    seen += 1;
                    progress(seen, total);
                    if chunk.len() >= CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        if chunks.send(full).await.is_err() {
                            break;
                        }
                    }
                }
                match event {
                    Some(e) => current = Some((e.stream_id, vec![e])),
                    None => break,
                }
            }
            if !chunk.is_empty() {
                let _ = chunks.send(chunk).await;
            }
            drop(chunks);
            Ok::<_, StoreError>(report)
        };
        let (copied, folding) = tokio::join!(copier, folder);
        let mut report = folding?;
        copied?;
        snapshot.commit().await?;
        drop(reader);
        report.copy = started.elapsed();
        let started = Instant::now();

        // The copies' WAL is flushed by the indexes' commits, here, not by the swap's commit
        // while appends wait (at a million plans that flush held them back for seconds).
        client.batch_execute("SET synchronous_commit = on").await?;
        // Indexes after the rows: one sort per index rather than one insert per row.
        for table in TABLES {
            for d in definitions.get(table).into_iter().flatten() {
                let fresh = fresh_name(&d.name);
                let sql = match &d.kind {
                    DefinitionKind::Constraint(def) => {
                        format!("ALTER TABLE {table}{FRESH} ADD CONSTRAINT {fresh} {def}")
                    }
                    DefinitionKind::Index { unique, using } => format!(
                        "CREATE {}INDEX {fresh} ON {table}{FRESH} {using}",
                        if *unique { "UNIQUE " } else { "" }
                    ),
                    DefinitionKind::ForeignKey(_) => continue,
                };
                client.batch_execute(&sql).await?;
            }
        }
        report.indexes = started.elapsed();
        Ok(Self {
            client,
            snapshot: seen,
            definitions,
            report,
        })
    }

    /// What the load folded so far.
    #[must_use]
    pub fn report(&self) -> RebuildReport {
        self.report
    }

    /// Swaps the fresh tables in. In one transaction: appends are held back (a share lock on
    /// `streams`) while the plans with events the load's snapshot did not see are found (a range
    /// of the transaction-id index) and folded again, the live tables are renamed aside and the
    /// fresh ones take their names, indexes and grants. Catalogue changes only, so the hold does
    /// not grow with the number of plans; the replaced tables are dropped after the commit.
    ///
    /// # Errors
    /// When the database fails or a stored event cannot be read; nothing is swapped then.
    pub async fn swap(mut self) -> Result<RebuildReport, StoreError> {
        let result = self.swap_in().await;
        let unlock = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&REBUILD_LOCK])
            .await;
        drop(self.client);
        let report = result?;
        unlock?;
        Ok(report)
    }

    async fn swap_in(&mut self) -> Result<RebuildReport, StoreError> {
        let started = Instant::now();
        let tx = self.client.transaction().await?;
        tx.batch_execute("LOCK TABLE streams IN SHARE MODE").await?;
        // The plans with an event the folded snapshot did not see: a range of the index on
        // transaction ids, however many plans there are.
        let changed: Vec<Uuid> = tx
            .query(
                "SELECT DISTINCT e.stream_id FROM events e \
                 JOIN streams s ON s.stream_id = e.stream_id \
                 WHERE s.stream_type = $1 \
                   AND e.transaction_id >= pg_snapshot_xmin($2::text::pg_snapshot) \
                   AND NOT pg_visible_in_snapshot(e.transaction_id, $2::text::pg_snapshot)",
                &[&STREAM_TYPE, &self.snapshot],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        // The live tables step aside, renamed with their indexes (catalogue changes only:
        // dropping them here would unlink their files while appends wait, seconds at a million
        // plans). They are dropped after the commit.
        for table in TABLES {
            tx.batch_execute(&format!("ALTER TABLE {table} RENAME TO {table}{REPLACED}"))
                .await?;
            for d in self.definitions.get(table).into_iter().flatten() {
                let name = &d.name;
                let sql = match &d.kind {
                    DefinitionKind::Constraint(_) => format!(
                        "ALTER TABLE {table}{REPLACED} RENAME CONSTRAINT {name} TO {name}{REPLACED}"
                    ),
                    DefinitionKind::Index { .. } => {
                        format!("ALTER INDEX {name} RENAME TO {name}{REPLACED}")
                    }
                    DefinitionKind::ForeignKey(_) => continue,
                };
                tx.batch_execute(&sql).await?;
            }
        }
        for table in TABLES {
            tx.batch_execute(&format!(
                "ALTER TABLE {table}{FRESH} RENAME TO {table}; \
                 GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}"
            ))
            .await?;
        }
        // Then their constraints and indexes (a foreign key names a table by its live name).
        for table in TABLES {
            for d in self.definitions.get(table).into_iter().flatten() {
                let fresh = fresh_name(&d.name);
                let name = &d.name;
                let sql = match &d.kind {
                    DefinitionKind::Constraint(_) => {
                        format!("ALTER TABLE {table} RENAME CONSTRAINT {fresh} TO {name}")
                    }
                    DefinitionKind::Index { .. } => format!("ALTER INDEX {fresh} RENAME TO {name}"),
                    // Checked once the swap has committed, without holding writers back.
                    DefinitionKind::ForeignKey(def) => {
                        format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def} NOT VALID")
                    }
                };
                tx.batch_execute(&sql).await?;
            }
        }
        // The plans written since the snapshot: their rows go, and are written again from the
        // whole stream (deleted first, so that a plan withdrawn and its successor created
        // meanwhile cannot collide on the one active plan per person).
        let delete = TABLES
            .iter()
            .map(|t| format!("DELETE FROM {t} WHERE plan_id = ANY($1::uuid[])"))
            .collect::<Vec<_>>();
        for sql in delete {
            tx.execute(sql.as_str(), &[&changed]).await?;
        }
        let reads = StreamReads::default();
        for id in &changed {
            let events = load_stream(&tx, &reads, *id, StreamBound::All).await?;
            if let Some(plan) = fold(&events)? {
                write_plan(&tx, *id, &plan).await?;
            }
        }
        tx.commit().await?;
        self.report.caught_up = changed.len() as u64;
        self.report.swap = started.elapsed();
        let started = Instant::now();
        let replaced = TABLES
            .iter()
            .map(|t| format!("{t}{REPLACED}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.client
            .batch_execute(&format!("DROP TABLE {replaced}"))
            .await?;
        for table in TABLES {
            for d in self.definitions.get(table).into_iter().flatten() {
                if let DefinitionKind::ForeignKey(_) = d.kind {
                    self.client
                        .batch_execute(&format!(
                            "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
                            d.name
                        ))
                        .await?;
                }
            }
        }
        self.client
            .batch_execute(&format!("ANALYZE {}", TABLES.join(", ")))
            .await?;
        self.report.after_swap = started.elapsed();
        Ok(self.report)
    }
}

/// A constraint's or index's name on the fresh table.
fn fresh_name(name: &str) -> String {
    format!("{name}{FRESH}")
}

/// The constraints and indexes of a live table, read from the catalogue so that a migration
/// that adds one needs no change here.
async fn definitions_of(client: &Object, table: &str) -> Result<Vec<Definition>, StoreError> {
    let mut out = Vec::new();
    let constraints = client
        .query(
            "SELECT conname::text, contype::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = $1::text::regclass AND contype IN ('p', 'u', 'x', 'f') \
             ORDER BY conname",
            &[&table],
        )
        .await?;
    for row in &constraints {
        let name: String = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let def: String = row.try_get(2)?;
        out.push(Definition {
            name,
            kind: if kind == "f" {
                DefinitionKind::ForeignKey(def)
            } else {
                DefinitionKind::Constraint(def)
            },
        });
    }
    let indexes = client
        .query(
            "SELECT c.relname::text, i.indisunique, pg_get_indexdef(i.indexrelid) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = $1::text::regclass \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
             ORDER BY c.relname",
            &[&table],
        )
        .await?;
    for row in &indexes {
        let name: String = row.try_get(0)?;
        let unique: bool = row.try_get(1)?;
        let def: String = row.try_get(2)?;
        let using = def
            .find(" USING ")
            .map(|at| def[at + 1..].to_owned())
            .ok_or_else(|| StoreError::Corrupt(format!("index {name}: unexpected form {def}")))?;
        out.push(Definition {
            name,
            kind: DefinitionKind::Index { unique, using },
        });
    }
    Ok(out)
}

/// Copies one chunk of plans into the fresh tables, one `COPY` per table, with the rows the
/// inline projection upserts.
async fn copy_chunk(client: &Object, chunk: &[PlanRows]) -> Result<(), StoreError> {
    use Type as T;
    let view = copy_in(
        client,
        "care_plan_view",
        VIEW_COLUMNS,
        &[
            T::UUID,
            T::TEXT,
            T::TEXT,
            T::INT8,
            T::TIMESTAMPTZ,
            T::TIMESTAMPTZ,
            T::JSON,
            T::TEXT,
        ],
    )
    .await?;
    pin_mut!(view);
    for r in chunk {
        view.as_mut().write(&r.view_row()).await?;
    }
    view.finish().await?;

    let summary = copy_in(
        client,
        "emergency_summary",
        SUMMARY_COLUMNS,
        &[T::UUID, T::TEXT, T::TEXT, T::INT8, T::JSON, T::TIMESTAMPTZ],
    )
    .await?;
    pin_mut!(summary);
    for row in chunk.iter().filter_map(PlanRows::summary_row) {
        summary.as_mut().write(&row).await?;
    }
    summary.finish().await?;

    let patients = copy_in(
        client,
        "patient_index",
        PATIENT_COLUMNS,
        &[
            T::UUID,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::DATE,
            T::TEXT,
            T::TEXT,
            T::TIMESTAMPTZ,
        ],
    )
    .await?;
    pin_mut!(patients);
    for row in chunk.iter().filter_map(PlanRows::patient_row) {
        patients.as_mut().write(&row).await?;
    }
    patients.finish().await?;

    let worklist = copy_in(
        client,
        "review_worklist",
        WORKLIST_COLUMNS,
        &[
            T::UUID,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::DATE,
            T::TIMESTAMPTZ,
            T::TEXT,
            T::TEXT,
            T::TEXT_ARRAY,
            T::INT2,
            T::TEXT,
            T::BOOL,
        ],
    )
    .await?;
    pin_mut!(worklist);
    for row in chunk.iter().filter_map(PlanRows::worklist_row) {
        worklist.as_mut().write(&row).await?;
    }
    worklist.finish().await?;

    let orgs = copy_in(
        client,
        "review_worklist_orgs",
        "organisation, plan_id, status, due_date, priority",
        &[T::TEXT, T::UUID, T::TEXT, T::DATE, T::INT2],
    )
    .await?;
    pin_mut!(orgs);
    for r in chunk {
        if let Some(w) = &r.worklist {
            for org in r.worklist_organisations() {
                let row: [&(dyn ToSql + Sync); 5] =
                    [&org, &r.plan_id, &r.status, &w.entry.due, &w.priority];
                orgs.as_mut().write(&row).await?;
            }
        }
    }
    orgs.finish().await?;
    Ok(())
}

async fn copy_in(
    client: &Object,
    table: &str,
    columns: &str,
    types: &[Type],
) -> Result<BinaryCopyInWriter, StoreError> {
    let sink = client
        .copy_in(&format!(
            "COPY {table}{FRESH} ({columns}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    Ok(BinaryCopyInWriter::new(sink, types))
}
