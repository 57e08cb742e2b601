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
            let summary = EmergencySummary::of(plan_id, &plan, plan.updated_at.date_naive())
                .map(serde_json::to_value)
                .transpose()?;
            let stored: Option<serde_json::Value> = tx
                .query_opt(
                    "SELECT summary FROM emergency_summary WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            if stored != summary {
                differs("emergency_summary", "differs from the replay".into());
            }
            let indexed: Option<String> = tx
                .query_opt(
                    "SELECT nhs_number FROM patient_index WHERE plan_id = $1",
                    &[&plan_id],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            if indexed.as_deref() != Some(plan.nhs_number.to_string().as_str()) {
                differs("patient_index", format!("indexed as {indexed:?}"));
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
