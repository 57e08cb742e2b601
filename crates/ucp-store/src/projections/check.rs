//! `ucp check`: every read model equals a replay of the log. A difference means a projection
//! bug, a hand edit or a half-applied change — something an operator must know before a crew
//! reads the wrong thing.

use ucp_domain::review::ReviewEntry;
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
                    "SELECT document, status, version FROM care_plan_view WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?;
            match stored {
                None => differs("care_plan_view", "missing".into()),
                Some(r) => {
                    let (doc, status, version): (serde_json::Value, String, i64) =
                        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    if doc != view || status != plan.status.as_str() || version != plan.version {
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
                    "SELECT summary, version, plan_updated_at FROM emergency_summary \
                     WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(
                    |r| -> Result<Result<EmergencySummary, String>, StoreError> {
                        let stored: serde_json::Value = r.try_get(0)?;
                        let (version, changed_at) = (r.try_get(1)?, r.try_get(2)?);
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
            let due: Option<chrono::NaiveDate> = tx
                .query_opt(
                    "SELECT due_date FROM review_worklist WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            if due != ReviewEntry::of(&plan).map(|e| e.due) {
                differs("review_worklist", format!("due {due:?}"));
            }
        }
        tx.commit().await?;
        Ok((checked, mismatches))
    }
}
