//! The access log: one entry per request that touched plan data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Database, StoreError};

/// One request's entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub entry_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_name: Option<String>,
    pub role: String,
    pub organisation: Option<String>,
    pub purpose: Option<String>,
    /// The OpenAPI operation id.
    pub action: String,
    pub method: String,
    pub path: String,
    pub plan_id: Option<Uuid>,
    pub nhs_number: Option<String>,
    pub plan_version: Option<i64>,
    /// What was served: `plan`, `section`, `summary`, `history`, `search`.
    pub view: Option<String>,
    pub section: Option<String>,
    pub search_criteria: Option<serde_json::Value>,
    pub search_results: Option<serde_json::Value>,
    pub returned_nhs_numbers: Vec<String>,
    pub request_id: Option<String>,
    pub status: i16,
    /// What the entry needs beyond its columns: the subscription a delivery went to, the entry
    /// an admin replayed, where a replay of the feed started.
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
    /// The trusted issuer that vouched for the caller.
    #[serde(default)]
    pub issuer: Option<String>,
    /// What in the credential granted the role (CIS2: the selected access role and mapping line).
    #[serde(default)]
    pub credential: Option<String>,
    /// NHS login: the identity proofing level of the person's sign-in.
    #[serde(default)]
    pub proofing_level: Option<String>,
    /// The NHS number of the person a proxy acted for.
    #[serde(default)]
    pub on_behalf_of: Option<String>,
}

/// A version of a plan that was printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintedVersion {
    pub version: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub copies: i64,
}

/// Which entries to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    pub nhs_number: Option<String>,
    pub actor: Option<String>,
    pub plan_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries strictly older than this (at, entry id): the page cursor.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// Also entries whose search results included `nhs_number` (for the person's own view).
    pub include_searches: bool,
    pub limit: i64,
}

macro_rules! columns {
    () => {
        "entry_id, at, actor, actor_name, role, organisation, purpose, action, \
         method, path, plan_id, nhs_number, plan_version, view, section, search_criteria, \
         search_results, returned_nhs_numbers, request_id, status, detail, issuer, credential, \
         proofing_level, on_behalf_of"
    };
}
pub(crate) const COLUMNS: &str = columns!();

/// A batch of entries, as one JSON array, in one statement.
pub(crate) const INSERT_SQL: &str = concat!(
    "INSERT INTO access_log (",
    columns!(),
    ") SELECT ",
    columns!(),
    " FROM jsonb_populate_recordset(NULL::access_log, $1::jsonb)"
);

pub(crate) fn entry(row: &tokio_postgres::Row) -> Result<AccessEntry, StoreError> {
    Ok(AccessEntry {
        entry_id: row.try_get(0)?,
        at: row.try_get(1)?,
        actor: row.try_get(2)?,
        actor_name: row.try_get(3)?,
        role: row.try_get(4)?,
        organisation: row.try_get(5)?,
        purpose: row.try_get(6)?,
        action: row.try_get(7)?,
        method: row.try_get(8)?,
        path: row.try_get(9)?,
        plan_id: row.try_get(10)?,
        nhs_number: row.try_get(11)?,
        plan_version: row.try_get(12)?,
        view: row.try_get(13)?,
        section: row.try_get(14)?,
        search_criteria: row.try_get(15)?,
        search_results: row.try_get(16)?,
        returned_nhs_numbers: row.try_get(17)?,
        request_id: row.try_get(18)?,
        status: row.try_get(19)?,
        detail: row.try_get(20)?,
        issuer: row.try_get(21)?,
        credential: row.try_get(22)?,
        proofing_level: row.try_get(23)?,
        on_behalf_of: row.try_get(24)?,
    })
}

/// PostgreSQL's text and jsonb cannot hold U+0000, and one entry holding it (a search term, a
/// path, a token's name) would fail the whole batch, and every request in it with 503. It is
/// recorded as U+FFFD, so the entry says that something unprintable was sent.
fn without_nul(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
        Value::Array(items) => items.iter_mut().for_each(without_nul),
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().filter(|k| k.contains('\0')).cloned().collect();
            for key in keys {
                if let Some(v) = map.remove(&key) {
                    map.insert(key.replace('\0', "\u{FFFD}"), v);
                }
            }
            map.values_mut().for_each(without_nul);
        }
        _ => {}
    }
}

/// Inserts entries in one statement, on a connection or inside a transaction (an append's, for
/// the entry of the write it commits).
pub(crate) async fn insert_entries(
    client: &impl deadpool_postgres::GenericClient,
    entries: &[AccessEntry],
) -> Result<(), StoreError> {
    let stmt = client.prepare_cached(INSERT_SQL).await?;
    let mut batch = serde_json::to_value(entries)?;
    without_nul(&mut batch);
    client.execute(&stmt, &[&batch]).await?;
    Ok(())
}

impl Database {
    /// Writes a batch of entries in one statement and one commit: all or none.
    ///
    /// # Errors
    /// When the database refuses or fails; then no entry of the batch is written.
    pub async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        let client = self.connection().await?;
        insert_entries(&client, entries).await
    }

    /// Entries matching the query, newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn access_log(&self, q: &AccessQuery) -> Result<Vec<AccessEntry>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM access_log \
                 WHERE ($1::text IS NULL OR nhs_number = $1 OR on_behalf_of = $1 \
                        OR ($7 AND returned_nhs_numbers @> ARRAY[$1::text])) \
                   AND ($2::text IS NULL OR actor = $2) \
                   AND ($3::uuid IS NULL OR plan_id = $3) \
                   AND ($4::timestamptz IS NULL OR at >= $4) \
                   AND ($5::timestamptz IS NULL OR at < $5) \
                   AND ($6::timestamptz IS NULL OR (at, entry_id) < ($6, $8::uuid)) \
                 ORDER BY at DESC, entry_id DESC LIMIT $9"
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
                    &q.nhs_number,
                    &q.actor,
                    &q.plan_id,
                    &q.from,
                    &q.to,
                    &before_at,
                    &q.include_searches,
                    &before_id,
                    &q.limit,
                ],
            )
            .await?
            .iter()
            .map(entry)
            .collect()
    }

    /// The versions of a plan that were printed (a PDF served), each with when it was first
    /// and last printed, oldest version first: printing is audited, so the service can say which
    /// printed copies a change supersedes.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn printed_versions(
        &self,
        nhs_number: &str,
        plan_id: Uuid,
    ) -> Result<Vec<PrintedVersion>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(
                "SELECT plan_version, min(at), max(at), count(*) FROM access_log \
                 WHERE nhs_number = $1 AND plan_id = $2 AND view IN ('document', 'care-home-document') \
                   AND status BETWEEN 200 AND 299 AND plan_version IS NOT NULL \
                 GROUP BY plan_version ORDER BY plan_version",
            )
            .await?;
        client
            .query(&stmt, &[&nhs_number, &plan_id])
            .await?
            .iter()
            .map(|row| {
                Ok(PrintedVersion {
                    version: row.try_get(0)?,
                    first_at: row.try_get(1)?,
                    last_at: row.try_get(2)?,
                    copies: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// One entry.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn access_entry(&self, entry_id: Uuid) -> Result<Option<AccessEntry>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM access_log WHERE entry_id = $1"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&entry_id])
            .await?
            .as_ref()
            .map(entry)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nul_is_recorded_as_the_replacement_character() {
        let mut value = serde_json::json!({"a\0": ["x\0y", {"b": "ok"}], "n": 1});
        super::without_nul(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"a\u{FFFD}": ["x\u{FFFD}y", {"b": "ok"}], "n": 1})
        );
    }
}
