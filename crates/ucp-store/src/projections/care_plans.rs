//! The care plan read models (`care_plan_view`, `emergency_summary`, `patient_index`): written
//! in the append's transaction, so a saved change is visible to every reader the moment the
//! write returns, and rebuildable from the log.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::error::SqlState;
use ucp_domain::views::{EmergencySummary, PlanView};
use ucp_domain::{fold_name, CarePlan, SectionContent};
use uuid::Uuid;

pub use super::replay::{envelope, fold, fold_from};
use crate::event::EVENT_COLUMNS;
use crate::read_stream::load_stream;
use crate::{Database, InlineProjection, RecordedEvent, StoreError, StreamBound};

/// The stream type of care plans.
pub const STREAM_TYPE: &str = "care_plan";

/// The constraint that keeps one active plan per NHS number.
const ONE_ACTIVE_PLAN: &str = "care_plan_view_one_active_per_nhs_number";

/// The inline projection of care plans.
#[derive(Debug, Default, Clone, Copy)]
pub struct CarePlanProjection;

#[async_trait]
impl InlineProjection for CarePlanProjection {
    fn name(&self) -> &'static str {
        "care_plans"
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[RecordedEvent],
        prior: Option<&CarePlan>,
        reads: &crate::StreamReads,
    ) -> Result<(), StoreError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        if first.stream_type != STREAM_TYPE {
            return Ok(());
        }
        // The writer folded the plan to decide; only a new stream (no prior state, first
        // event at version 1) or a writer that did not pass its state needs the log read.
        let plan = match prior {
            Some(prior) => fold_from(events, Some(prior.clone()))?,
            None if first.stream_version == 1 => fold(events)?,
            None => fold(&load_stream(tx, reads, first.stream_id, StreamBound::All).await?)?,
        };
        if let Some(plan) = plan {
            write_plan(tx, first.stream_id, &plan).await?;
        }
        Ok(())
    }
}

/// Writes the three read models of one plan.
async fn write_plan(
    client: &impl GenericClient,
    plan_id: Uuid,
    plan: &CarePlan,
) -> Result<(), StoreError> {
    let view = serde_json::to_value(PlanView::of(plan_id, plan))?;
    let nhs = plan.nhs_number.to_string();
    let status = plan.status.as_str();
    let stmt = client
        .prepare_cached(
            "INSERT INTO care_plan_view \
             (plan_id, nhs_number, status, version, created_at, updated_at, document) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
               status = excluded.status, version = excluded.version, \
               updated_at = excluded.updated_at, document = excluded.document",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &plan_id,
                &nhs,
                &status,
                &plan.version,
                &plan.created_at,
                &plan.updated_at,
                &view,
            ],
        )
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db)
                if db.code() == &SqlState::UNIQUE_VIOLATION
                    && db.constraint() == Some(ONE_ACTIVE_PLAN) =>
            {
                StoreError::ActivePlanExists(nhs.clone())
            }
            _ => StoreError::Database(e),
        })?;

    // Judged as of the day of the plan's last change, so that a rebuild writes the same
    // document; a read judges it again as of the day it is read.
    if let Some(summary) = EmergencySummary::of(plan_id, plan, plan.updated_at.date_naive()) {
        let summary = serde_json::to_value(summary)?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO emergency_summary \
                 (plan_id, nhs_number, status, version, summary, plan_updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
                   status = excluded.status, version = excluded.version, \
                   summary = excluded.summary, plan_updated_at = excluded.plan_updated_at",
            )
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &plan_id,
                    &nhs,
                    &status,
                    &plan.version,
                    &summary,
                    &plan.updated_at,
                ],
            )
            .await?;
    }

    write_worklist(client, plan_id, plan).await?;

    let pi = plan
        .section(ucp_domain::PlanSection::PersonalInformation)
        .and_then(|s| match &s.content {
            SectionContent::PersonalInformation(pi) => Some(pi),
            _ => None,
        });
    if let Some(pi) = pi {
        let stmt = client
            .prepare_cached(
                "INSERT INTO patient_index (plan_id, nhs_number, family_name, given_name, \
                   family_folded, given_folded, birth_date, postcode, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
                   family_name = excluded.family_name, given_name = excluded.given_name, \
                   family_folded = excluded.family_folded, given_folded = excluded.given_folded, \
                   birth_date = excluded.birth_date, postcode = excluded.postcode, \
                   status = excluded.status, updated_at = excluded.updated_at",
            )
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &plan_id,
                    &nhs,
                    &pi.family_name.as_str(),
                    &pi.given_name.as_str(),
                    &fold_name(pi.family_name.as_str()),
                    &fold_name(pi.given_name.as_str()),
                    &pi.birth_date.date(),
                    &pi.address.postcode.as_str(),
                    &status,
                    &plan.updated_at,
                ],
            )
            .await?;
    }
    Ok(())
}

/// The plan's line on the review worklist, or none when it has no review date.
async fn write_worklist(
    client: &impl GenericClient,
    plan_id: Uuid,
    plan: &CarePlan,
) -> Result<(), StoreError> {
    let pi = plan
        .section(ucp_domain::PlanSection::PersonalInformation)
        .and_then(|s| match &s.content {
            SectionContent::PersonalInformation(pi) => Some(pi),
            _ => None,
        });
    match (ucp_domain::review::ReviewEntry::of(plan), pi) {
        (Some(entry), Some(pi)) => {
            let stmt = client
                .prepare_cached(
                    "INSERT INTO review_worklist (plan_id, nhs_number, family_name, given_name, \
                       status, due_date, last_reviewed_at, last_reviewed_by, responsible_org, \
                       organisations) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
                       family_name = excluded.family_name, given_name = excluded.given_name, \
                       status = excluded.status, due_date = excluded.due_date, \
                       last_reviewed_at = excluded.last_reviewed_at, \
                       last_reviewed_by = excluded.last_reviewed_by, \
                       responsible_org = excluded.responsible_org, \
                       organisations = excluded.organisations",
                )
                .await?;
            client
                .execute(
                    &stmt,
                    &[
                        &plan_id,
                        &plan.nhs_number.to_string(),
                        &pi.family_name.as_str(),
                        &pi.given_name.as_str(),
                        &plan.status.as_str(),
                        &entry.due,
                        &entry.last_reviewed_at,
                        &entry.last_reviewed_by,
                        &entry.responsible,
                        &entry.organisations,
                    ],
                )
                .await?;
            // The plan's lines by organisation: the ones it no longer has go, the others are
            // written anew.
            let gone = client
                .prepare_cached(
                    "DELETE FROM review_worklist_orgs \
                     WHERE plan_id = $1 AND NOT organisation = ANY($2::text[])",
                )
                .await?;
            client
                .execute(&gone, &[&plan_id, &entry.organisations])
                .await?;
            let orgs = client
                .prepare_cached(
                    "INSERT INTO review_worklist_orgs (organisation, plan_id, status, due_date) \
                     SELECT DISTINCT o, $1::uuid, $2::text, $3::date FROM unnest($4::text[]) AS o \
                     ON CONFLICT (organisation, plan_id) DO UPDATE SET status = excluded.status, \
                       due_date = excluded.due_date",
                )
                .await?;
            client
                .execute(
                    &orgs,
                    &[
                        &plan_id,
                        &plan.status.as_str(),
                        &entry.due,
                        &entry.organisations,
                    ],
                )
                .await?;
        }
        _ => {
            let stmt = client
                .prepare_cached("DELETE FROM review_worklist WHERE plan_id = $1")
                .await?;
            client.execute(&stmt, &[&plan_id]).await?;
        }
    }
    Ok(())
}

impl Database {
    /// Rebuilds the care plan read models from the log in one transaction. Appends wait while
    /// it runs (it holds a share lock on `streams`); reads go on and see the old rows until it
    /// commits. Returns how many plans were rebuilt.
    ///
    /// # Errors
    /// When the database fails or a stored event cannot be read.
    pub async fn rebuild_care_plan_projections(&self) -> Result<u64, StoreError> {
        self.rebuild_care_plan_projections_with(&|_, _| {}).await
    }

    /// As [`Database::rebuild_care_plan_projections`], telling `progress` (plans done, plans in
    /// all) as it goes. The log is read in one pass, stream by stream in version order, rather
    /// than one query per plan.
    ///
    /// # Errors
    /// As above.
    pub async fn rebuild_care_plan_projections_with(
        &self,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<u64, StoreError> {
        use futures::TryStreamExt;
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(
            "LOCK TABLE streams IN SHARE MODE; \
             DELETE FROM care_plan_view; DELETE FROM emergency_summary; DELETE FROM patient_index; \
             DELETE FROM review_worklist_orgs; DELETE FROM review_worklist;",
        )
        .await?;
        let total: i64 = tx
            .query_one(
                "SELECT count(*) FROM streams WHERE stream_type = $1",
                &[&STREAM_TYPE],
            )
            .await?
            .try_get(0)?;
        let total = u64::try_from(total).unwrap_or(0);
        // A second connection reads the log while this transaction writes: one transaction
        // cannot read a portal and run statements at once.
        let reader = self.connection().await?;
        let stmt = reader
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.stream_id = e.stream_id \
                 WHERE s.stream_type = $1 ORDER BY e.stream_id, e.stream_version"
            ))
            .await?;
        let rows = reader.query_raw(&stmt, [STREAM_TYPE]).await?;
        futures::pin_mut!(rows);
        let mut rebuilt = 0;
        let mut seen = 0;
        let mut current: Option<(Uuid, Vec<RecordedEvent>)> = None;
        while let Some(row) = rows.try_next().await? {
            let event = RecordedEvent::from_row(&row)?;
            match current.as_mut() {
                Some((id, events)) if *id == event.stream_id => events.push(event),
                _ => {
                    if let Some((id, events)) = current.take() {
                        rebuilt += rebuild_one(&tx, id, &events).await?;
                        seen += 1;
                        progress(seen, total);
                    }
                    current = Some((event.stream_id, vec![event]));
                }
            }
        }
        if let Some((id, events)) = current.take() {
            rebuilt += rebuild_one(&tx, id, &events).await?;
            seen += 1;
            progress(seen, total);
        }
        tx.commit().await?;
        Ok(rebuilt)
    }
}

/// Folds one plan's events and writes its read models; 1 when it folded to a plan.
async fn rebuild_one(
    tx: &Transaction<'_>,
    stream_id: Uuid,
    events: &[RecordedEvent],
) -> Result<u64, StoreError> {
    match fold(events)? {
        Some(plan) => {
            write_plan(tx, stream_id, &plan).await?;
            Ok(1)
        }
        None => Ok(0),
    }
}
