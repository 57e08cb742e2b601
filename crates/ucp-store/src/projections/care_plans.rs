//! The care plan read models (`care_plan_view`, `emergency_summary`, `patient_index`): written
//! in the append's transaction, so a saved change is visible to every reader the moment the
//! write returns, and rebuildable from the log.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{GenericClient, Transaction};
use serde_json::value::RawValue;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{Json, ToSql};
use ucp_domain::views::{EmergencySummary, PlanView};
use ucp_domain::{fold_name, CarePlan, SectionContent};
use uuid::Uuid;

pub use super::replay::{envelope, fold, fold_from};
use crate::read_stream::load_stream;
use crate::{InlineProjection, RecordedEvent, StoreError, StreamBound};

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
        prior: Option<&crate::State>,
        reads: &crate::StreamReads,
    ) -> Result<Option<crate::State>, StoreError> {
        let Some(first) = events.first() else {
            return Ok(None);
        };
        if first.stream_type != STREAM_TYPE {
            return Ok(None);
        }
        // The writer folded the plan to decide; only a new stream (no prior state, first
        // event at version 1) or a writer that did not pass its state needs the log read.
        let before = prior.and_then(|p| p.downcast_ref::<CarePlan>());
        let plan = match before {
            Some(prior) => fold_from(events, Some(prior.clone()))?,
            None if first.stream_version == 1 => fold(events)?,
            None => fold(&load_stream(tx, reads, first.stream_id, StreamBound::All).await?)?,
        };
        if let Some(plan) = &plan {
            write_change(tx, first.stream_id, before, plan).await?;
        }
        Ok(plan.map(|p| std::sync::Arc::new(p) as crate::State))
    }
}

const VIEW_UPSERT: &str = "INSERT INTO care_plan_view \
     (plan_id, nhs_number, status, version, created_at, updated_at, document, care_home) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
       status = excluded.status, version = excluded.version, \
       updated_at = excluded.updated_at, document = excluded.document, \
       care_home = excluded.care_home";
const SUMMARY_UPSERT: &str = "INSERT INTO emergency_summary \
     (plan_id, nhs_number, status, version, summary, plan_updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
       status = excluded.status, version = excluded.version, \
       summary = excluded.summary, plan_updated_at = excluded.plan_updated_at";
const SUMMARY_MOVE_ON: &str =
    "UPDATE emergency_summary SET version = $2, plan_updated_at = $3 WHERE plan_id = $1";
const PATIENT_UPSERT: &str = "INSERT INTO patient_index (plan_id, nhs_number, family_name, \
       given_name, family_folded, given_folded, birth_date, postcode, status, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
       family_name = excluded.family_name, given_name = excluded.given_name, \
       family_folded = excluded.family_folded, given_folded = excluded.given_folded, \
       birth_date = excluded.birth_date, postcode = excluded.postcode, \
       status = excluded.status, updated_at = excluded.updated_at";
const PATIENT_MOVE_ON: &str = "UPDATE patient_index SET updated_at = $2 WHERE plan_id = $1";
const WORKLIST_DELETE: &str = "DELETE FROM review_worklist WHERE plan_id = $1";
const WORKLIST_UPSERT: &str = "INSERT INTO review_worklist (plan_id, nhs_number, family_name, \
       given_name, status, due_date, last_reviewed_at, last_reviewed_by, responsible_org, \
       organisations, priority, cpr_standing, awaiting_countersignature) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (plan_id) DO UPDATE SET nhs_number = excluded.nhs_number, \
       family_name = excluded.family_name, given_name = excluded.given_name, \
       status = excluded.status, due_date = excluded.due_date, \
       last_reviewed_at = excluded.last_reviewed_at, \
       last_reviewed_by = excluded.last_reviewed_by, \
       responsible_org = excluded.responsible_org, \
       organisations = excluded.organisations, priority = excluded.priority, \
       cpr_standing = excluded.cpr_standing, \
       awaiting_countersignature = excluded.awaiting_countersignature";
const WORKLIST_ORGS_GONE: &str = "DELETE FROM review_worklist_orgs \
     WHERE plan_id = $1 AND NOT organisation = ANY($2::text[])";
const WORKLIST_ORGS_UPSERT: &str = "INSERT INTO review_worklist_orgs \
       (organisation, plan_id, status, due_date, priority) \
     SELECT o, $1::uuid, $2::text, $3::date, $5::smallint FROM unnest($4::text[]) AS o \
     ON CONFLICT (organisation, plan_id) DO UPDATE SET status = excluded.status, \
       due_date = excluded.due_date, priority = excluded.priority";

/// The columns of each read model's row, in the order of [`PlanRows`]' row methods.
pub(crate) const VIEW_COLUMNS: &str =
    "plan_id, nhs_number, status, version, created_at, updated_at, document, care_home";
pub(crate) const SUMMARY_COLUMNS: &str =
    "plan_id, nhs_number, status, version, summary, plan_updated_at";
pub(crate) const PATIENT_COLUMNS: &str = "plan_id, nhs_number, family_name, given_name, \
     family_folded, given_folded, birth_date, postcode, status, updated_at";
pub(crate) const WORKLIST_COLUMNS: &str = "plan_id, nhs_number, family_name, given_name, status, \
     due_date, last_reviewed_at, last_reviewed_by, responsible_org, organisations, priority, \
     cpr_standing, awaiting_countersignature";

/// What the read models hold for one plan, computed once from its state: the live projection
/// upserts it row by row, the rebuild copies it in bulk into fresh tables.
pub(crate) struct PlanRows {
    pub plan_id: Uuid,
    pub nhs_number: String,
    pub status: &'static str,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `care_plan_view.document`, serialised once.
    pub document: Json<Box<RawValue>>,
    /// `care_plan_view.care_home`: the code of the care home where the plan records that the
    /// person lives (its staff's list of residents is found by it).
    pub care_home: Option<String>,
    /// `emergency_summary.summary`, when the plan has one.
    pub summary: Option<Json<Box<RawValue>>>,
    /// The `patient_index` row, when the plan says who the person is.
    pub patient: Option<PatientRow>,
    /// The `review_worklist` row (and its lines by organisation), when a review is due.
    pub worklist: Option<WorklistRow>,
}

/// A `patient_index` row.
#[derive(Debug, PartialEq)]
pub(crate) struct PatientRow {
    pub family_name: String,
    pub given_name: String,
    pub family_folded: String,
    pub given_folded: String,
    pub birth_date: NaiveDate,
    pub postcode: String,
}

/// A `review_worklist` row.
#[derive(PartialEq)]
pub(crate) struct WorklistRow {
    pub family_name: String,
    pub given_name: String,
    pub entry: ucp_domain::review::ReviewEntry,
    pub priority: i16,
    pub standing: &'static str,
}

/// The plan's personal information section, which names the person in the indexes.
fn personal_information(plan: &CarePlan) -> Option<&ucp_domain::PersonalInformation> {
    plan.section(ucp_domain::PlanSection::PersonalInformation)
        .and_then(|s| match &s.content {
            SectionContent::PersonalInformation(pi) => Some(pi),
            _ => None,
        })
}

impl PatientRow {
    pub(crate) fn of(plan: &CarePlan) -> Option<Self> {
        personal_information(plan).map(|pi| Self {
            family_name: pi.family_name.as_str().to_owned(),
            given_name: pi.given_name.as_str().to_owned(),
            family_folded: fold_name(pi.family_name.as_str()),
            given_folded: fold_name(pi.given_name.as_str()),
            birth_date: pi.birth_date.date(),
            postcode: pi.address.postcode.as_str().to_owned(),
        })
    }
}

impl WorklistRow {
    pub(crate) fn of(plan: &CarePlan) -> Option<Self> {
        let pi = personal_information(plan)?;
        let entry = ucp_domain::review::ReviewEntry::of(plan)?;
        Some(Self {
            family_name: pi.family_name.as_str().to_owned(),
            given_name: pi.given_name.as_str().to_owned(),
            priority: entry.priority(),
            standing: entry.standing.as_str(),
            entry,
        })
    }
}

/// Which of a plan's read-model rows a change reached, beyond the plan's document (which
/// carries the plan's version and so changes every time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Touched {
    /// The summary's content: anything in it but the plan's version and time of change, which
    /// its row's columns carry.
    pub summary: bool,
    /// The person's names, birth date, postcode or the plan's status, which searches match.
    pub patient: bool,
    /// The plan's line on the review worklist.
    pub worklist: bool,
}

impl Touched {
    /// Everything: a plan written without its state before the change.
    pub(crate) const ALL: Self = Self {
        summary: true,
        patient: true,
        worklist: true,
    };

    /// What changed from `before` to the plan whose rows are `after` (its summary `summary`,
    /// judged by [`summary_of`]). The summaries are compared as judged on the same day, the
    /// later change's, with the plan's version and time of change set alike: what is left is
    /// what a crew reads. Stored as of an earlier day, a summary is judged again when read, so
    /// the same content judged on the read's day is the same summary.
    #[must_use]
    fn between(before: &CarePlan, after: &PlanRows, summary: Option<&EmergencySummary>) -> Self {
        let day = after.updated_at.date_naive();
        let summary = match (EmergencySummary::of(after.plan_id, before, day), summary) {
            (Some(b), Some(a)) => &b.at_version(a.plan_version, a.plan_last_changed_at) != a,
            (None, None) => false,
            _ => true,
        };
        let status = before.status.as_str() != after.status;
        Self {
            summary,
            patient: status || PatientRow::of(before) != after.patient,
            worklist: status || WorklistRow::of(before) != after.worklist,
        }
    }
}

impl PlanRows {
    /// The rows of one plan.
    ///
    /// # Errors
    /// When a document cannot be serialised.
    pub(crate) fn of(plan_id: Uuid, plan: &CarePlan) -> Result<Self, StoreError> {
        Self::judged(plan_id, plan, summary_of(plan_id, plan).as_ref())
    }

    /// The rows of one plan whose summary was already judged (by [`summary_of`]).
    fn judged(
        plan_id: Uuid,
        plan: &CarePlan,
        summary: Option<&EmergencySummary>,
    ) -> Result<Self, StoreError> {
        let document = Json(serde_json::value::to_raw_value(&PlanView::of(
            plan_id, plan,
        ))?);
        let summary = summary
            .map(|s| serde_json::value::to_raw_value(s).map(Json))
            .transpose()?;
        let patient = PatientRow::of(plan);
        let worklist = WorklistRow::of(plan);
        Ok(Self {
            plan_id,
            nhs_number: plan.nhs_number.to_string(),
            status: plan.status.as_str(),
            version: plan.version,
            created_at: plan.created_at,
            updated_at: plan.updated_at,
            document,
            care_home: plan
                .residence
                .as_ref()
                .map(|r| r.care_home.ods_code.to_string()),
            summary,
            patient,
            worklist,
        })
    }

    /// The `care_plan_view` row, in [`VIEW_COLUMNS`] order (upserted and copied alike).
    pub(crate) fn view_row(&self) -> [&(dyn ToSql + Sync); 8] {
        [
            &self.plan_id,
            &self.nhs_number,
            &self.status,
            &self.version,
            &self.created_at,
            &self.updated_at,
            &self.document,
            &self.care_home,
        ]
    }

    /// The `emergency_summary` row, in [`SUMMARY_COLUMNS`] order.
    pub(crate) fn summary_row(&self) -> Option<[&(dyn ToSql + Sync); 6]> {
        let summary = self.summary.as_ref()?;
        Some([
            &self.plan_id,
            &self.nhs_number,
            &self.status,
            &self.version,
            summary,
            &self.updated_at,
        ])
    }

    /// The `patient_index` row, in [`PATIENT_COLUMNS`] order.
    pub(crate) fn patient_row(&self) -> Option<[&(dyn ToSql + Sync); 10]> {
        let p = self.patient.as_ref()?;
        Some([
            &self.plan_id,
            &self.nhs_number,
            &p.family_name,
            &p.given_name,
            &p.family_folded,
            &p.given_folded,
            &p.birth_date,
            &p.postcode,
            &self.status,
            &self.updated_at,
        ])
    }

    /// The `review_worklist` row, in [`WORKLIST_COLUMNS`] order.
    pub(crate) fn worklist_row(&self) -> Option<[&(dyn ToSql + Sync); 13]> {
        let w = self.worklist.as_ref()?;
        Some([
            &self.plan_id,
            &self.nhs_number,
            &w.family_name,
            &w.given_name,
            &self.status,
            &w.entry.due,
            &w.entry.last_reviewed_at,
            &w.entry.last_reviewed_by,
            &w.entry.responsible,
            &w.entry.organisations,
            &w.priority,
            &w.standing,
            &w.entry.awaiting_countersignature,
        ])
    }

    /// The organisations whose worklists show the plan, each once.
    pub(crate) fn worklist_organisations(&self) -> Vec<&str> {
        let mut orgs: Vec<&str> = self
            .worklist
            .iter()
            .flat_map(|w| w.entry.organisations.iter().map(String::as_str))
            .collect();
        orgs.sort_unstable();
        orgs.dedup();
        orgs
    }
}

/// Writes the read models of one plan whole.
pub(crate) async fn write_plan(
    client: &impl GenericClient,
    plan_id: Uuid,
    plan: &CarePlan,
) -> Result<(), StoreError> {
    upsert_rows(client, &PlanRows::of(plan_id, plan)?, Touched::ALL).await
}

/// Writes what a change reached: the document always, the rest only where the plan
/// `before` it reads otherwise (all of it when the state before is not known).
async fn write_change(
    client: &impl GenericClient,
    plan_id: Uuid,
    before: Option<&CarePlan>,
    plan: &CarePlan,
) -> Result<(), StoreError> {
    let summary = summary_of(plan_id, plan);
    let rows = PlanRows::judged(plan_id, plan, summary.as_ref())?;
    let touched = before.map_or(Touched::ALL, |b| {
        Touched::between(b, &rows, summary.as_ref())
    });
    upsert_rows(client, &rows, touched).await
}

/// The summary the read model stores: judged as of the day of the plan's last change, so that
/// a rebuild writes the same; a read judges it again as of the day it is read.
fn summary_of(plan_id: Uuid, plan: &CarePlan) -> Option<EmergencySummary> {
    EmergencySummary::of(plan_id, plan, plan.updated_at.date_naive())
}

/// Upserts one plan's rows into the read models, the rows `touched` whole and the others'
/// version and time of change only. The statements go out together (pipelined on the one
/// connection) and are answered in order: each is prepared first (once per connection), so
/// they are sent in the order written and the first failure is the one reported.
async fn upsert_rows(
    client: &impl GenericClient,
    rows: &PlanRows,
    touched: Touched,
) -> Result<(), StoreError> {
    // Both forms of the rows that may only move on: a row that is not there is written whole.
    let mut statements = vec![VIEW_UPSERT, SUMMARY_UPSERT, PATIENT_UPSERT];
    if !touched.summary {
        statements.push(SUMMARY_MOVE_ON);
    }
    if !touched.patient {
        statements.push(PATIENT_MOVE_ON);
    }
    if touched.worklist {
        statements.extend([
            WORKLIST_DELETE,
            WORKLIST_UPSERT,
            WORKLIST_ORGS_GONE,
            WORKLIST_ORGS_UPSERT,
        ]);
    }
    for sql in statements {
        client.prepare_cached(sql).await?;
    }
    let (view, summary, worklist, patient) = futures::join!(
        upsert_view(client, rows),
        upsert_summary(client, rows, touched.summary),
        async {
            if touched.worklist {
                upsert_worklist(client, rows).await
            } else {
                Ok(())
            }
        },
        upsert_patient(client, rows, touched.patient),
    );
    // The view's answer first: a second active plan is refused there, and the statements
    // after it in the pipeline then fail only because the transaction has.
    view?;
    summary?;
    worklist?;
    patient
}

async fn upsert_view(client: &impl GenericClient, rows: &PlanRows) -> Result<(), StoreError> {
    let stmt = client.prepare_cached(VIEW_UPSERT).await?;
    client
        .execute(&stmt, &rows.view_row())
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db)
                if db.code() == &SqlState::UNIQUE_VIOLATION
                    && db.constraint() == Some(ONE_ACTIVE_PLAN) =>
            {
                StoreError::ActivePlanExists(rows.nhs_number.clone())
            }
            _ => StoreError::Database(e),
        })?;
    Ok(())
}

/// The summary, rewritten when its content changed; otherwise only its row's version and time
/// of change move on (readers take those from the row: see `StoredSummary::decode`).
async fn upsert_summary(
    client: &impl GenericClient,
    rows: &PlanRows,
    touched: bool,
) -> Result<(), StoreError> {
    let Some(row) = rows.summary_row() else {
        return Ok(());
    };
    let move_on: [&(dyn ToSql + Sync); 3] = [&rows.plan_id, &rows.version, &rows.updated_at];
    move_on_or_write(
        client,
        touched,
        (SUMMARY_MOVE_ON, &move_on),
        (SUMMARY_UPSERT, &row),
    )
    .await
}

/// The person's line in the search index, rewritten when what searches match changed;
/// otherwise only its time of change moves on.
async fn upsert_patient(
    client: &impl GenericClient,
    rows: &PlanRows,
    touched: bool,
) -> Result<(), StoreError> {
    let Some(row) = rows.patient_row() else {
        return Ok(());
    };
    let move_on: [&(dyn ToSql + Sync); 2] = [&rows.plan_id, &rows.updated_at];
    move_on_or_write(
        client,
        touched,
        (PATIENT_MOVE_ON, &move_on),
        (PATIENT_UPSERT, &row),
    )
    .await
}

/// A statement and its parameters.
type Statement<'a> = (&'static str, &'a [&'a (dyn ToSql + Sync)]);

/// The row written whole when the change `touched` it; otherwise only moved on, unless it is
/// not there (lost, or never written): then it is written whole after all.
async fn move_on_or_write(
    client: &impl GenericClient,
    touched: bool,
    (move_sql, move_params): Statement<'_>,
    (upsert_sql, upsert_params): Statement<'_>,
) -> Result<(), StoreError> {
    if !touched {
        let stmt = client.prepare_cached(move_sql).await?;
        if client.execute(&stmt, move_params).await? == 1 {
            return Ok(());
        }
    }
    let stmt = client.prepare_cached(upsert_sql).await?;
    client.execute(&stmt, upsert_params).await?;
    Ok(())
}

/// The plan's line on the review worklist, or none when it has no review date.
async fn upsert_worklist(client: &impl GenericClient, rows: &PlanRows) -> Result<(), StoreError> {
    let (Some(w), Some(row)) = (&rows.worklist, rows.worklist_row()) else {
        let stmt = client.prepare_cached(WORKLIST_DELETE).await?;
        client.execute(&stmt, &[&rows.plan_id]).await?;
        return Ok(());
    };
    let stmt = client.prepare_cached(WORKLIST_UPSERT).await?;
    // The plan's lines by organisation: the ones it no longer has go, the others are written
    // anew. The three statements go out together.
    let orgs = rows.worklist_organisations();
    let gone = client.prepare_cached(WORKLIST_ORGS_GONE).await?;
    let upsert = client.prepare_cached(WORKLIST_ORGS_UPSERT).await?;
    let gone_params: [&(dyn ToSql + Sync); 2] = [&rows.plan_id, &orgs];
    let upsert_params: [&(dyn ToSql + Sync); 5] = [
        &rows.plan_id,
        &rows.status,
        &w.entry.due,
        &orgs,
        &w.priority,
    ];
    let (line, gone, lines) = futures::join!(
        client.execute(&stmt, &row),
        client.execute(&gone, &gone_params),
        client.execute(&upsert, &upsert_params),
    );
    line?;
    gone?;
    lines?;
    Ok(())
}

impl crate::Database {
    /// A plan's current state: the cached state of its last write here, brought up to date with
    /// the events after it, or the whole stream folded. `None` when there is no plan.
    ///
    /// # Errors
    /// When the database fails or an event cannot be read.
    pub async fn plan_state(&self, plan_id: Uuid) -> Result<Option<CarePlan>, StoreError> {
        let client = self.connection().await?;
        let state = match self.write_states().get::<CarePlan>(plan_id) {
            Some(cached) => {
                let bound = StreamBound::AfterVersion(cached.version);
                let newer = load_stream(&client, &self.stream_reads, plan_id, bound).await?;
                fold_from(&newer, Some(cached))?
            }
            None => {
                fold(&load_stream(&client, &self.stream_reads, plan_id, StreamBound::All).await?)?
            }
        };
        Ok(state)
    }
}
