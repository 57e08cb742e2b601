//! `ucp check`: every read model gives what a replay of the log gives (a summary whose content
//! a change did not reach keeps its stored text; its row carries the plan's version). A difference means a projection
//! bug, a hand edit or a half-applied change — something an operator must know before a crew
//! reads the wrong thing.

use ucp_domain::views::{EmergencySummary, PlanView};
use uuid::Uuid;

use super::care_plans::STREAM_TYPE;
use super::replay::fold;
use crate::read_stream::load_stream;
use crate::{Database, StoreError, StreamBound};

/// One read-model row that is not what the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub plan_id: Uuid,
    /// `care_plan_view`, `emergency_summary`, `patient_index` or `review_worklist`.
    pub read_model: &'static str,
    pub what: String,
}

impl Database {
    /// Replays every plan and compares each read model with the replay. Returns how many plans
    /// were checked and every difference.
    ///
    /// # Errors
    /// When the database fails or a stored event cannot be read.
    pub async fn check_care_plan_projections(&self) -> Result<(u64, Vec<Mismatch>), StoreError> {
        let mut client = self.connection().await?;
        // One snapshot: appends may go on, the check sees one consistent state.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let streams = tx
            .query(
                "SELECT stream_id FROM streams WHERE stream_type = $1 ORDER BY stream_id",
                &[&STREAM_TYPE],
            )
            .await?;
        let mut mismatches = Vec::new();
        let mut checked = 0;
        for row in streams {
            let plan_id: Uuid = row.try_get(0)?;
            let history = load_stream(&tx, &self.stream_reads, plan_id, StreamBound::All).await?;
            let Some(plan) = fold(&history)? else {
                continue;
            };
            checked += 1;
            let mut differs = |read_model, what: String| {
                mismatches.push(Mismatch {
                    plan_id,
                    read_model,
                    what,
                });
            };
            let view = serde_json::to_value(PlanView::of(plan_id, &plan))?;
            let stored = tx
                .query_opt(
                    "SELECT document, status, version, care_home FROM care_plan_view \
                     WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?;
            match stored {
                None => differs("care_plan_view", "missing".into()),
                Some(r) => {
                    let (doc, status, version, care_home): (
                        serde_json::Value,
                        String,
                        i64,
                        Option<String>,
                    ) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                    let home = plan
                        .residence
                        .as_ref()
                        .map(|r| r.care_home.ods_code.to_string());
                    if doc != view
                        || status != plan.status.as_str()
                        || version != plan.version
                        || care_home != home
                    {
                        differs("care_plan_view", format!("differs at version {version}"));
                    }
                }
            }
            let day = plan.updated_at.date_naive();
            let summary = EmergencySummary::of(plan_id, &plan, day);
            // As a reader gets it: the row's version and time of change (a change that did not
            // reach the summary's content moves only those), judged on the replay's day.
            let stored = tx
                .query_opt(
                    "SELECT summary, version, plan_updated_at, status, nhs_number \
                     FROM emergency_summary WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(
                    |r| -> Result<Result<EmergencySummary, String>, StoreError> {
                        let stored: serde_json::Value = r.try_get(0)?;
                        let (version, changed_at) = (r.try_get(1)?, r.try_get(2)?);
                        // The columns the person's current plan is chosen and the feed's
                        // snapshot is filtered by.
                        let (status, nhs): (String, String) = (r.try_get(3)?, r.try_get(4)?);
                        if status != plan.status.as_str() || nhs != plan.nhs_number.to_string() {
                            return Ok(Err(format!("its row says {status} for {nhs}")));
                        }
                        // One that cannot be read, or holds what a summary does not, is a
                        // difference to report, not a failed check.
                        Ok(serde_json::from_value::<EmergencySummary>(stored.clone())
                            .map_err(|e| e.to_string())
                            .and_then(|s| match serde_json::to_value(&s) {
                                Ok(again) if again == stored => Ok(s),
                                _ => Err("it holds what a summary does not".to_owned()),
                            })
                            .map(|s| s.at_version(version, changed_at).as_of(day)))
                    },
                )
                .transpose()?;
            if let Some(Err(unreadable)) = &stored {
                differs("emergency_summary", format!("cannot be read: {unreadable}"));
            } else if stored.and_then(Result::ok) != summary {
                differs("emergency_summary", "differs from the replay".into());
            }
            // The search index: who the person is, as searches match them, and the status.
            let indexed = tx
                .query_opt(
                    "SELECT nhs_number, family_name, given_name, family_folded, given_folded, \
                       birth_date, postcode, status FROM patient_index WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(|r| -> Result<_, StoreError> {
                    Ok((
                        r.try_get::<_, String>(0)?,
                        super::care_plans::PatientRow {
                            family_name: r.try_get(1)?,
                            given_name: r.try_get(2)?,
                            family_folded: r.try_get(3)?,
                            given_folded: r.try_get(4)?,
                            birth_date: r.try_get(5)?,
                            postcode: r.try_get(6)?,
                        },
                        r.try_get::<_, String>(7)?,
                    ))
                })
                .transpose()?;
            let expected = super::care_plans::PatientRow::of(&plan).map(|row| {
                (
                    plan.nhs_number.to_string(),
                    row,
                    plan.status.as_str().to_owned(),
                )
            });
            if indexed != expected {
                let as_indexed = indexed.map(|(nhs, _, status)| (nhs, status));
                differs("patient_index", format!("indexed as {as_indexed:?}"));
            }
            // The worklist line, every column of it, and its lines by organisation.
            let line = tx
                .query_opt(
                    "SELECT family_name, given_name, status, due_date, last_reviewed_at, \
                       last_reviewed_by, responsible_org, organisations, priority, \
                       cpr_standing, awaiting_countersignature \
                     FROM review_worklist WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(|r| -> Result<String, StoreError> {
                    Ok(format!(
                        "{:?}",
                        (
                            r.try_get::<_, String>(0)?,
                            r.try_get::<_, String>(1)?,
                            r.try_get::<_, String>(2)?,
                            r.try_get::<_, chrono::NaiveDate>(3)?,
                            r.try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(4)?,
                            r.try_get::<_, Option<String>>(5)?,
                            r.try_get::<_, Option<String>>(6)?,
                            r.try_get::<_, Vec<String>>(7)?,
                            r.try_get::<_, i16>(8)?,
                            r.try_get::<_, String>(9)?,
                            r.try_get::<_, bool>(10)?,
                        )
                    ))
                })
                .transpose()?;
            let row = super::care_plans::WorklistRow::of(&plan);
            let expected = row.as_ref().map(|w| {
                format!(
                    "{:?}",
                    (
                        &w.family_name,
                        &w.given_name,
                        plan.status.as_str(),
                        w.entry.due,
                        w.entry.last_reviewed_at,
                        &w.entry.last_reviewed_by,
                        &w.entry.responsible,
                        &w.entry.organisations,
                        w.priority,
                        w.standing,
                        w.entry.awaiting_countersignature,
                    )
                )
            });
            if line != expected {
                let due = row.as_ref().map(|w| w.entry.due);
                differs("review_worklist", format!("the line differs (due {due:?})"));
            }
            let lines: Vec<String> = tx
                .query(
                    "SELECT organisation || ' ' || status || ' ' || due_date || ' ' || priority \
                     FROM review_worklist_orgs WHERE plan_id = $1 ORDER BY organisation",
                    &[&plan_id],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let mut expected_lines: Vec<String> = row
                .map(|w| {
                    let status = plan.status.as_str();
                    w.entry
                        .organisations
                        .iter()
                        .map(|o| format!("{o} {status} {} {}", w.entry.due, w.priority))
                        .collect()
                })
                .unwrap_or_default();
            expected_lines.sort();
            expected_lines.dedup();
            if lines != expected_lines {
                differs("review_worklist_orgs", format!("{} lines", lines.len()));
            }
        }
        tx.commit().await?;
        Ok((checked, mismatches))
    }
}
