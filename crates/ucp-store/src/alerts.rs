//! The privacy officer's alerts: what the scanner of the access log detected, and what the
//! officer decided. Detection is written here as the scanner found it (raise, or clear), merged
//! by [`merge`] both when the scanner commits and when `ucp alerts rebuild` recomputes them from
//! the whole log, so that the two agree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::access_log::{insert_entries, COLUMNS};
use crate::{AccessEntry, Database, StoreError};

/// The kind of alert that a clinician's confirmation can clear: a care home's own admission.
pub const SELF_DECLARED: &str = "self-declared-relationship";
/// Evidence kept per alert (the count goes on).
pub const EVIDENCE_KEPT: usize = 100;
/// People named per alert (a bulk read may name thousands).
pub const PEOPLE_KEPT: usize = 1000;

/// Where the scanner has got to: the last entry it read, in commit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanPosition {
    pub transaction_id: u64,
    pub entry_id: Uuid,
    /// The time of that entry (a new leader re-reads the hour before it).
    pub last_at: DateTime<Utc>,
}

impl ScanPosition {
    /// Before the first entry.
    pub const START: Self = Self {
        transaction_id: 0,
        entry_id: Uuid::nil(),
        last_at: DateTime::<Utc>::MIN_UTC,
    };
}

/// An entry of the access log as the scanner reads it: with its transaction id.
#[derive(Debug, Clone)]
pub struct ScannedEntry {
    pub transaction_id: u64,
    pub entry: AccessEntry,
}

impl ScannedEntry {
    #[must_use]
    pub fn position(&self) -> ScanPosition {
        ScanPosition {
            transaction_id: self.transaction_id,
            entry_id: self.entry.entry_id,
            last_at: self.entry.at,
        }
    }
}

/// An alert raised, or more evidence for one raised already (the same id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raise {
    pub alert_id: Uuid,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub nhs_number: Option<String>,
    pub actor: String,
    pub actor_name: Option<String>,
    pub role: String,
    pub organisation: Option<String>,
    /// The plan version the raising entry showed or made.
    pub plan_version: Option<i64>,
    pub reason: String,
    pub evidence: Vec<Uuid>,
    pub people: Vec<String>,
}

/// A clinician confirmed (or recorded) the residence a care home declared: the admission that
/// made that residence (its plan version) is moot; an earlier admission by the same home, whose
/// residence ended since, is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clear {
    pub nhs_number: String,
    pub care_home: String,
    /// The plan version that recorded the residence confirmed.
    pub residence_version: i64,
    pub entry_id: Uuid,
    pub at: DateTime<Utc>,
}

/// What the scanner found in one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Raise(Raise),
    Clear(Clear),
}

/// The privacy officer's decision on an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertOutcome {
    /// `reviewed-appropriate` or `referred`.
    pub outcome: String,
    pub note: String,
    pub by: String,
    pub by_name: Option<String>,
    pub at: DateTime<Utc>,
    /// How much evidence the decision was made on: more since reopens the alert.
    pub evidence_count: i64,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub alert_id: Uuid,
    pub kind: String,
    pub raised_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub nhs_number: Option<String>,
    pub actor: String,
    pub actor_name: Option<String>,
    pub role: String,
    pub organisation: Option<String>,
    pub plan_version: Option<i64>,
    pub reason: String,
    pub evidence: Vec<Uuid>,
    pub evidence_count: i64,
    pub people: Vec<String>,
    pub cleared_by: Option<Uuid>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub outcome: Option<AlertOutcome>,
    pub revision: i32,
}

impl Alert {
    /// Where it stands: `open`, `cleared`, `reviewed-appropriate` or `referred`. An outcome
    /// made before more evidence arrived stands no longer: the alert is open again.
    #[must_use]
    pub fn state(&self) -> &str {
        match &self.outcome {
            Some(o) if o.evidence_count >= self.evidence_count => &o.outcome,
            _ if self.cleared_by.is_some() => "cleared",
            _ => "open",
        }
    }

    /// What detection decided, without the officer's outcome or the revision: what a
    /// recomputation from the log must reproduce.
    #[must_use]
    pub fn detected(&self) -> Self {
        Self {
            outcome: None,
            revision: 0,
            ..self.clone()
        }
    }
}

/// The state SQL computes, as [`Alert::state`] does.
const STATE_SQL: &str =
    "CASE WHEN outcome IS NOT NULL AND outcome_evidence_count >= evidence_count \
     THEN outcome WHEN cleared_by IS NOT NULL THEN 'cleared' ELSE 'open' END";

/// Applies a raise to the alert it names (new, or more evidence for it).
#[must_use]
pub fn merge(existing: Option<Alert>, raise: &Raise) -> Alert {
    match existing {
        None => {
            let mut people = Vec::new();
            add_people(&mut people, &raise.people);
            let mut evidence = raise.evidence.clone();
            evidence.truncate(EVIDENCE_KEPT);
            Alert {
                alert_id: raise.alert_id,
                kind: raise.kind.clone(),
                raised_at: raise.at,
                last_at: raise.at,
                nhs_number: raise.nhs_number.clone(),
                actor: raise.actor.clone(),
                actor_name: raise.actor_name.clone(),
                role: raise.role.clone(),
                organisation: raise.organisation.clone(),
                plan_version: raise.plan_version,
                reason: raise.reason.clone(),
                evidence,
                evidence_count: i64::try_from(raise.evidence.len()).unwrap_or(i64::MAX),
                people,
                cleared_by: None,
                cleared_at: None,
                outcome: None,
                revision: 1,
            }
        }
        Some(mut alert) => {
            let new: Vec<Uuid> = raise
                .evidence
                .iter()
                .filter(|id| !alert.evidence.contains(id))
                .copied()
                .collect();
            alert.evidence_count += i64::try_from(new.len()).unwrap_or(i64::MAX);
            for id in new {
                if alert.evidence.len() < EVIDENCE_KEPT {
                    alert.evidence.push(id);
                }
            }
            add_people(&mut alert.people, &raise.people);
            alert.last_at = alert.last_at.max(raise.at);
            alert.revision += 1;
            alert
        }
    }
}

fn add_people(people: &mut Vec<String>, more: &[String]) {
    for p in more {
        if people.len() >= PEOPLE_KEPT {
            return;
        }
        if !people.contains(p) {
            people.push(p.clone());
        }
    }
}

/// Whether a clearance applies to this alert: an uncleared admission by the home confirmed.
#[must_use]
pub fn clears(alert: &Alert, clear: &Clear) -> bool {
    alert.kind == SELF_DECLARED
        && alert.cleared_by.is_none()
        && alert.role == "care-home"
        && alert.nhs_number.as_deref() == Some(clear.nhs_number.as_str())
        && alert.organisation.as_deref() == Some(clear.care_home.as_str())
        && alert.plan_version == Some(clear.residence_version)
}

/// Applies detections in order to a set of alerts by id: the recomputation's fold, and the
/// scanner's within a batch.
pub fn apply(alerts: &mut HashMap<Uuid, Alert>, detections: &[Detection]) -> Vec<Uuid> {
    let mut touched = Vec::new();
    for d in detections {
        match d {
            Detection::Raise(raise) => {
                let merged = merge(alerts.remove(&raise.alert_id), raise);
                alerts.insert(raise.alert_id, merged);
                if !touched.contains(&raise.alert_id) {
                    touched.push(raise.alert_id);
                }
            }
            Detection::Clear(clear) => {
                for alert in alerts.values_mut().filter(|a| clears(a, clear)) {
                    alert.cleared_by = Some(clear.entry_id);
                    alert.cleared_at = Some(clear.at);
                    alert.revision += 1;
                    if !touched.contains(&alert.alert_id) {
                        touched.push(alert.alert_id);
                    }
                }
            }
        }
    }
    touched
}

/// A sensitivity mark or clearance on one of a person's plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitivityMark {
    pub nhs_number: String,
    pub plan_id: Uuid,
    pub at: DateTime<Utc>,
    pub marked: bool,
    /// The mark's reason (`member-of-staff`, …); none for a clearance.
    pub reason: Option<String>,
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub organisation: Option<String>,
    pub actor: Option<String>,
    pub nhs_number: Option<String>,
    /// Alerts strictly older than this (raised at, id): the page cursor.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Why an outcome was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum OutcomeRefused {
    #[error("no such alert")]
    NotFound,
    /// Someone recorded an outcome, or more evidence arrived, since the revision named.
    #[error("the alert is at revision {0}")]
    Stale(i32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const ALERT_COLUMNS: &str = "alert_id, kind, raised_at, last_at, nhs_number, actor, actor_name, \
     role, organisation, reason, evidence, evidence_count, people, cleared_by, cleared_at, \
     outcome, outcome_note, outcome_by, outcome_by_name, outcome_at, outcome_evidence_count, \
     revision, plan_version";

fn alert(row: &tokio_postgres::Row) -> Result<Alert, StoreError> {
    let outcome: Option<String> = row.try_get(15)?;
    let outcome = match outcome {
        None => None,
        Some(outcome) => Some(AlertOutcome {
            outcome,
            note: row.try_get::<_, Option<String>>(16)?.unwrap_or_default(),
            by: row.try_get::<_, Option<String>>(17)?.unwrap_or_default(),
            by_name: row.try_get(18)?,
            at: row
                .try_get::<_, Option<DateTime<Utc>>>(19)?
                .ok_or_else(|| StoreError::Corrupt("an outcome without its time".into()))?,
            evidence_count: row.try_get::<_, Option<i64>>(20)?.unwrap_or_default(),
        }),
    };
    Ok(Alert {
        alert_id: row.try_get(0)?,
        kind: row.try_get(1)?,
        raised_at: row.try_get(2)?,
        last_at: row.try_get(3)?,
        nhs_number: row.try_get(4)?,
        actor: row.try_get(5)?,
        actor_name: row.try_get(6)?,
        role: row.try_get(7)?,
        organisation: row.try_get(8)?,
        reason: row.try_get(9)?,
        evidence: row.try_get(10)?,
        evidence_count: row.try_get(11)?,
        people: row.try_get(12)?,
        cleared_by: row.try_get(13)?,
        cleared_at: row.try_get(14)?,
        outcome,
        revision: row.try_get(21)?,
        plan_version: row.try_get(22)?,
    })
}

async fn upsert(client: &impl GenericClient, a: &Alert) -> Result<(), StoreError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO privacy_alerts (alert_id, kind, raised_at, last_at, nhs_number, actor, \
               actor_name, role, organisation, reason, evidence, evidence_count, people, \
               cleared_by, cleared_at, revision, plan_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
               $17) \
             ON CONFLICT (alert_id) DO UPDATE SET kind = excluded.kind, \
               raised_at = excluded.raised_at, last_at = excluded.last_at, \
               nhs_number = excluded.nhs_number, actor = excluded.actor, \
               actor_name = excluded.actor_name, role = excluded.role, \
               organisation = excluded.organisation, reason = excluded.reason, \
               evidence = excluded.evidence, evidence_count = excluded.evidence_count, \
               people = excluded.people, cleared_by = excluded.cleared_by, \
               cleared_at = excluded.cleared_at, plan_version = excluded.plan_version, \
               revision = greatest(privacy_alerts.revision + 1, excluded.revision)",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &a.alert_id,
                &a.kind,
                &a.raised_at,
                &a.last_at,
                &a.nhs_number,
                &a.actor,
                &a.actor_name,
                &a.role,
                &a.organisation,
                &a.reason,
                &a.evidence,
                &a.evidence_count,
                &a.people,
                &a.cleared_by,
                &a.cleared_at,
                &a.revision,
                &a.plan_version,
            ],
        )
        .await?;
    Ok(())
}

/// Moves the scanner from `from` to `to`, only if it is still at `from`: a scanner that lost its
/// leadership without noticing, while another moved on, cannot move the position back or record
/// a batch twice.
async fn move_position(
    client: &impl GenericClient,
    scanner: &str,
    from: ScanPosition,
    to: ScanPosition,
) -> Result<(), StoreError> {
    let moved = if from == ScanPosition::START {
        client
            .execute(
                "INSERT INTO alert_scan (scanner, transaction_id, entry_id, last_at) \
                 VALUES ($1, $2::text::xid8, $3, $4) ON CONFLICT (scanner) DO NOTHING",
                &[
                    &scanner,
                    &to.transaction_id.to_string(),
                    &to.entry_id,
                    &to.last_at,
                ],
            )
            .await?
    } else {
        client
            .execute(
                "UPDATE alert_scan SET transaction_id = $2::text::xid8, entry_id = $3, \
                   last_at = $4, updated_at = clock_timestamp() \
                 WHERE scanner = $1 AND transaction_id = $5::text::xid8 AND entry_id = $6",
                &[
                    &scanner,
                    &to.transaction_id.to_string(),
                    &to.entry_id,
                    &to.last_at,
                    &from.transaction_id.to_string(),
                    &from.entry_id,
                ],
            )
            .await?
    };
    if moved == 1 {
        Ok(())
    } else {
        Err(StoreError::Refused(format!(
            "the {scanner} scan position moved under this scanner: another server scans"
        )))
    }
}

async fn save_position(
    client: &impl GenericClient,
    scanner: &str,
    p: ScanPosition,
) -> Result<(), StoreError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO alert_scan (scanner, transaction_id, entry_id, last_at) \
             VALUES ($1, $2::text::xid8, $3, $4) \
             ON CONFLICT (scanner) DO UPDATE SET transaction_id = excluded.transaction_id, \
               entry_id = excluded.entry_id, last_at = excluded.last_at, \
               updated_at = clock_timestamp()",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &scanner,
                &p.transaction_id.to_string(),
                &p.entry_id,
                &p.last_at,
            ],
        )
        .await?;
    Ok(())
}

/// The columns the rules read, in the access log's order (`access_log::entry` reads them): a
/// search's criteria and results (large), the path and who vouched for the caller are not
/// read, so the scanner does not carry them.
const SCAN_COLUMNS: &str = "entry_id, at, actor, actor_name, role, organisation, purpose, action, \
     method, ''::text, plan_id, nhs_number, plan_version, view, section, NULL::jsonb, NULL::jsonb, \
     returned_nhs_numbers, NULL::text, status, detail, NULL::text, NULL::text, NULL::text, \
     on_behalf_of";

fn parse_xid(text: &str) -> Result<u64, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("transaction id {text:?}: {e}")))
}

fn scanned(row: &tokio_postgres::Row) -> Result<ScannedEntry, StoreError> {
    Ok(ScannedEntry {
        entry: crate::access_log::entry(row)?,
        transaction_id: parse_xid(&row.try_get::<_, String>(25)?)?,
    })
}

impl Database {
    /// Where the scanner named has got to; `None` for one that never ran.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn alert_scan_position(
        &self,
        scanner: &str,
    ) -> Result<Option<ScanPosition>, StoreError> {
        let client = self.connection().await?;
        let row = client
            .query_opt(
                "SELECT transaction_id::text, entry_id, last_at FROM alert_scan WHERE scanner = $1",
                &[&scanner],
            )
            .await?;
        row.map(|row| {
            Ok(ScanPosition {
                transaction_id: parse_xid(&row.try_get::<_, String>(0)?)?,
                entry_id: row.try_get(1)?,
                last_at: row.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Entries after `after` in commit order, only of transactions older than every one still
    /// open (as the feed): an entry still being committed may yet appear before one visible now,
    /// and a scanner that moved past it would never see it.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn access_log_after(
        &self,
        after: ScanPosition,
        limit: i64,
    ) -> Result<Vec<ScannedEntry>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {SCAN_COLUMNS}, transaction_id::text FROM access_log \
                 WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                   AND (transaction_id, entry_id) > ($1::text::xid8, $2) \
                 ORDER BY transaction_id, entry_id LIMIT $3"
            ))
            .await?;
        client
            .query(
                &stmt,
                &[
                    &after.transaction_id.to_string(),
                    &after.entry_id,
                    &limit.max(0),
                ],
            )
            .await?
            .iter()
            .map(scanned)
            .collect()
    }

    /// The entries from `since` up to and including `upto`, in commit order: what a new leader
    /// reads again to know the windows open at the position it resumes from.
    ///
    /// # Errors
    /// When the database fails.
    /// Only what the windows hold is read: refusals, and reads by the roles in `counted`.
    pub async fn access_log_leading_to(
        &self,
        since: DateTime<Utc>,
        upto: ScanPosition,
        counted: &[String],
    ) -> Result<Vec<ScannedEntry>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT {SCAN_COLUMNS}, transaction_id::text FROM access_log \
                     WHERE at >= $1 AND (transaction_id, entry_id) <= ($2::text::xid8, $3) \
                       AND (status IN (401, 403, 404, 429) \
                            OR (method = 'GET' AND role = ANY($4))) \
                     ORDER BY transaction_id, entry_id"
                ),
                &[
                    &since,
                    &upto.transaction_id.to_string(),
                    &upto.entry_id,
                    &counted,
                ],
            )
            .await?
            .iter()
            .map(scanned)
            .collect()
    }

    /// Commits what the scanner found in a batch, and where it got to, together: a batch is
    /// either wholly recorded with its position, or read again.
    ///
    /// # Errors
    /// When the database fails; nothing of the batch is then written.
    pub async fn record_detections(
        &self,
        scanner: &str,
        detections: &[Detection],
        from: ScanPosition,
        to: ScanPosition,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let mut alerts: HashMap<Uuid, Alert> = HashMap::new();
        let raised: Vec<Uuid> = detections
            .iter()
            .filter_map(|d| match d {
                Detection::Raise(r) => Some(r.alert_id),
                Detection::Clear(_) => None,
            })
            .collect();
        if !raised.is_empty() {
            for row in tx
                .query(
                    &format!(
                        "SELECT {ALERT_COLUMNS} FROM privacy_alerts WHERE alert_id = ANY($1) \
                         FOR UPDATE"
                    ),
                    &[&raised],
                )
                .await?
            {
                let a = alert(&row)?;
                alerts.insert(a.alert_id, a);
            }
        }
        for d in detections {
            if let Detection::Clear(c) = d {
                for row in tx
                    .query(
                        &format!(
                            "SELECT {ALERT_COLUMNS} FROM privacy_alerts \
                             WHERE kind = $1 AND nhs_number = $2 AND organisation = $3 \
                               AND plan_version = $4 AND cleared_by IS NULL FOR UPDATE"
                        ),
                        &[
                            &SELF_DECLARED,
                            &c.nhs_number,
                            &c.care_home,
                            &c.residence_version,
                        ],
                    )
                    .await?
                {
                    let a = alert(&row)?;
                    alerts.entry(a.alert_id).or_insert(a);
                }
            }
        }
        let touched = apply(&mut alerts, detections);
        let mut changed = Vec::new();
        for id in touched {
            if let Some(a) = alerts.remove(&id) {
                upsert(&tx, &a).await?;
                changed.push(a);
            }
        }
        move_position(&tx, scanner, from, to).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Every alert, by id order, and where the scanner had got to when they were so, read in
    /// one snapshot (the two commit together): for a comparison with a recomputation.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn all_alerts(
        &self,
        scanner: &str,
    ) -> Result<(Vec<Alert>, Option<ScanPosition>), StoreError> {
        let mut client = self.connection().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let position = tx
            .query_opt(
                "SELECT transaction_id::text, entry_id, last_at FROM alert_scan WHERE scanner = $1",
                &[&scanner],
            )
            .await?
            .map(|row| {
                Ok::<_, StoreError>(ScanPosition {
                    transaction_id: parse_xid(&row.try_get::<_, String>(0)?)?,
                    entry_id: row.try_get(1)?,
                    last_at: row.try_get(2)?,
                })
            })
            .transpose()?;
        let alerts = tx
            .query(
                &format!("SELECT {ALERT_COLUMNS} FROM privacy_alerts ORDER BY alert_id"),
                &[],
            )
            .await?
            .iter()
            .map(alert)
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok((alerts, position))
    }

    /// The threshold alerts (bulk reads, bulk refusals) raised since `since`: a new leader
    /// knows which windows have raised their alert already.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn recent_threshold_alerts(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Alert>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM privacy_alerts \
                     WHERE kind IN ('bulk-reads', 'bulk-refusals') AND raised_at > $1 \
                     ORDER BY raised_at"
                ),
                &[&since],
            )
            .await?
            .iter()
            .map(alert)
            .collect()
    }

    /// Replaces what detection recorded with a recomputation from the log, and moves the
    /// scanner to where the recomputation stopped, in one transaction. Outcomes stay: an alert
    /// recomputed keeps the officer's decision (its id is derived from what raised it); one
    /// with an outcome that the recomputation does not find is kept as it was.
    ///
    /// # Errors
    /// When the database fails; nothing is then changed.
    pub async fn replace_detections(
        &self,
        scanner: &str,
        alerts: &[Alert],
        position: ScanPosition,
    ) -> Result<(), StoreError> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        // The scanner's leader holds this lock for its session: a recomputation may not write
        // under a scanner that is writing too.
        let free: bool = tx
            .query_one(
                "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
                &[&scanner],
            )
            .await?
            .try_get(0)?;
        if !free {
            return Err(StoreError::Refused(format!(
                "a server is scanning the access log for alerts ({scanner}): stop the servers, \
                 or compare without writing (--check)"
            )));
        }
        tx.execute(
            "DELETE FROM privacy_alerts WHERE outcome IS NULL AND alert_id <> ALL($1)",
            &[&alerts.iter().map(|a| a.alert_id).collect::<Vec<_>>()],
        )
        .await?;
        for a in alerts {
            upsert(&tx, a).await?;
        }
        save_position(&tx, scanner, position).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Alerts matching the query, newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {ALERT_COLUMNS} FROM privacy_alerts \
                 WHERE ($1::text IS NULL OR {STATE_SQL} = $1) \
                   AND ($2::text IS NULL OR kind = $2) \
                   AND ($3::text IS NULL OR organisation = $3) \
                   AND ($4::text IS NULL OR actor = $4) \
                   AND ($5::text IS NULL OR people @> ARRAY[$5::text]) \
                   AND ($6::timestamptz IS NULL OR (raised_at, alert_id) < ($6, $7::uuid)) \
                 ORDER BY raised_at DESC, alert_id DESC LIMIT $8"
            ))
            .await?;
        let (before_at, before_id) = match q.before {
            Some((at, id)) => (Some(at), Some(id)),
            None => (None, None),
        };
        client
            .query(
                &stmt,
                &[
                    &q.state,
                    &q.kind,
                    &q.organisation,
                    &q.actor,
                    &q.nhs_number,
                    &before_at,
                    &before_id,
                    &q.limit,
                ],
            )
            .await?
            .iter()
            .map(alert)
            .collect()
    }

    /// One alert.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn alert(&self, alert_id: Uuid) -> Result<Option<Alert>, StoreError> {
        let client = self.connection().await?;
        client
            .query_opt(
                &format!("SELECT {ALERT_COLUMNS} FROM privacy_alerts WHERE alert_id = $1"),
                &[&alert_id],
            )
            .await?
            .as_ref()
            .map(alert)
            .transpose()
    }

    /// The outcomes recorded on an alert, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn alert_outcomes(&self, alert_id: Uuid) -> Result<Vec<AlertOutcome>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                "SELECT outcome, note, by_actor, by_name, at FROM privacy_alert_outcomes \
                 WHERE alert_id = $1 ORDER BY revision",
                &[&alert_id],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(AlertOutcome {
                    outcome: row.try_get(0)?,
                    note: row.try_get(1)?,
                    by: row.try_get(2)?,
                    by_name: row.try_get(3)?,
                    at: row.try_get(4)?,
                    evidence_count: 0,
                })
            })
            .collect()
    }

    /// The access-log entries named, in the order named (the evidence of an alert).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn access_entries(&self, ids: &[Uuid]) -> Result<Vec<AccessEntry>, StoreError> {
        let client = self.connection().await?;
        let mut entries: Vec<AccessEntry> = client
            .query(
                &format!("SELECT {COLUMNS} FROM access_log WHERE entry_id = ANY($1)"),
                &[&ids],
            )
            .await?
            .iter()
            .map(crate::access_log::entry)
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| ids.iter().position(|id| *id == e.entry_id));
        Ok(entries)
    }

    /// Records the privacy officer's outcome on an alert at the revision they read, with the
    /// access-log entry of the request that made it, in one transaction: the outcome is
    /// accountable, or it is not made.
    ///
    /// # Errors
    /// [`OutcomeRefused::NotFound`], [`OutcomeRefused::Stale`] when the alert moved on since
    /// `revision`, or the database's failure.
    pub async fn record_alert_outcome(
        &self,
        alert_id: Uuid,
        revision: i32,
        outcome: &AlertOutcome,
        entry: Option<&AccessEntry>,
    ) -> Result<Alert, OutcomeRefused> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let current = tx
            .query_opt(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM privacy_alerts WHERE alert_id = $1 FOR UPDATE"
                ),
                &[&alert_id],
            )
            .await
            .map_err(StoreError::from)?
            .as_ref()
            .map(alert)
            .transpose()?
            .ok_or(OutcomeRefused::NotFound)?;
        if current.revision != revision {
            return Err(OutcomeRefused::Stale(current.revision));
        }
        let row = tx
            .query_one(
                &format!(
                    "UPDATE privacy_alerts SET outcome = $2, outcome_note = $3, outcome_by = $4, \
                       outcome_by_name = $5, outcome_at = $6, \
                       outcome_evidence_count = evidence_count, revision = revision + 1 \
                     WHERE alert_id = $1 RETURNING {ALERT_COLUMNS}"
                ),
                &[
                    &alert_id,
                    &outcome.outcome,
                    &outcome.note,
                    &outcome.by,
                    &outcome.by_name,
                    &outcome.at,
                ],
            )
            .await
            .map_err(StoreError::from)?;
        let updated = alert(&row)?;
        tx.execute(
            "INSERT INTO privacy_alert_outcomes (alert_id, revision, at, outcome, note, by_actor, \
               by_name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &alert_id,
                &updated.revision,
                &outcome.at,
                &outcome.outcome,
                &outcome.note,
                &outcome.by,
                &outcome.by_name,
            ],
        )
        .await
        .map_err(StoreError::from)?;
        if let Some(entry) = entry {
            insert_entries(&tx, std::slice::from_ref(entry))
                .await
                .map_err(|e| StoreError::AccessLog(e.to_string()))?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(updated)
    }

    /// The open alerts by kind (for the metrics).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn open_alert_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let client = self.connection().await?;
        client
            .query(
                &format!(
                    "SELECT kind, count(*) FROM privacy_alerts WHERE {STATE_SQL} = 'open' \
                     GROUP BY kind"
                ),
                &[],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Every sensitivity mark and clearance, in order: (NHS number, plan, when, marked, reason).
    /// A read at time t was of a sensitive record when, for one of the person's plans, the last
    /// mark before t marked it: whatever version the read showed.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn sensitivity_marks(&self) -> Result<Vec<SensitivityMark>, StoreError> {
        // Every mark there is: few (they are set by hand), found by their partial index, so one
        // statement per batch costs less than looking up each person the batch read.
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(
                "SELECT v.nhs_number, e.stream_id, e.recorded_at, \
                   e.event_type = 'SensitivityMarked', e.data ->> 'reason' \
                 FROM events e JOIN care_plan_view v ON v.plan_id = e.stream_id \
                 WHERE e.event_type IN ('SensitivityMarked', 'SensitivityCleared') \
                 ORDER BY e.stream_id, e.stream_version",
            )
            .await?;
        client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(|row| {
                Ok(SensitivityMark {
                    nhs_number: row.try_get(0)?,
                    plan_id: row.try_get(1)?,
                    at: row.try_get(2)?,
                    marked: row.try_get(3)?,
                    reason: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Which of the NHS numbers named have a plan (any status).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn people_with_plans(
        &self,
        nhs_numbers: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if nhs_numbers.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.connection().await?;
        client
            .query(
                "SELECT DISTINCT nhs_number FROM care_plan_view WHERE nhs_number = ANY($1)",
                &[&nhs_numbers],
            )
            .await?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
    }

    /// Each person's family name (folded) and postcode, as their plans record them now.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn family_and_postcode(
        &self,
        nhs_numbers: &[String],
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        if nhs_numbers.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.connection().await?;
        client
            .query(
                "SELECT DISTINCT nhs_number, family_folded, postcode FROM patient_index \
                 WHERE nhs_number = ANY($1)",
                &[&nhs_numbers],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raise(id: u128, evidence: &[u128]) -> Raise {
        Raise {
            alert_id: Uuid::from_u128(id),
            kind: SELF_DECLARED.to_owned(),
            at: DateTime::<Utc>::UNIX_EPOCH,
            nhs_number: Some("9990000018".to_owned()),
            actor: "carer".to_owned(),
            actor_name: None,
            role: "care-home".to_owned(),
            organisation: Some("VM1A2".to_owned()),
            plan_version: Some(3),
            reason: "admitted".to_owned(),
            evidence: evidence.iter().map(|e| Uuid::from_u128(*e)).collect(),
            people: vec!["9990000018".to_owned()],
        }
    }

    #[test]
    fn more_evidence_counts_once_and_reopens_a_decided_alert() {
        let first = merge(None, &raise(1, &[10]));
        let mut decided = first.clone();
        decided.outcome = Some(AlertOutcome {
            outcome: "reviewed-appropriate".into(),
            note: "n".into(),
            by: "po".into(),
            by_name: None,
            at: DateTime::<Utc>::UNIX_EPOCH,
            evidence_count: 1,
        });
        assert_eq!(decided.state(), "reviewed-appropriate");
        // The same entry again (a batch read twice) adds nothing.
        let again = merge(Some(decided.clone()), &raise(1, &[10]));
        assert_eq!(again.evidence_count, 1);
        assert_eq!(again.state(), "reviewed-appropriate");
        let more = merge(Some(decided), &raise(1, &[11]));
        assert_eq!(
            more.evidence,
            vec![Uuid::from_u128(10), Uuid::from_u128(11)]
        );
        assert_eq!(more.state(), "open");
    }

    #[test]
    fn evidence_is_capped_but_counted() {
        let ids: Vec<u128> = (0..150).collect();
        let a = merge(None, &raise(1, &ids));
        assert_eq!(a.evidence.len(), EVIDENCE_KEPT);
        assert_eq!(a.evidence_count, 150);
    }

    #[test]
    fn a_confirmation_clears_only_that_homes_admission() {
        let mut alerts = HashMap::new();
        apply(&mut alerts, &[Detection::Raise(raise(1, &[10]))]);
        let other_home = Clear {
            nhs_number: "9990000018".into(),
            care_home: "VM9Z9".into(),
            residence_version: 3,
            entry_id: Uuid::from_u128(20),
            at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert!(apply(&mut alerts, &[Detection::Clear(other_home)]).is_empty());
        // The same home's later residence (an earlier admission, since ended) clears nothing.
        let later_residence = Clear {
            nhs_number: "9990000018".into(),
            care_home: "VM1A2".into(),
            residence_version: 9,
            entry_id: Uuid::from_u128(22),
            at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert!(apply(&mut alerts, &[Detection::Clear(later_residence)]).is_empty());
        let this_home = Clear {
            nhs_number: "9990000018".into(),
            care_home: "VM1A2".into(),
            residence_version: 3,
            entry_id: Uuid::from_u128(21),
            at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert_eq!(apply(&mut alerts, &[Detection::Clear(this_home)]).len(), 1);
        assert_eq!(alerts[&Uuid::from_u128(1)].state(), "cleared");
    }
}
