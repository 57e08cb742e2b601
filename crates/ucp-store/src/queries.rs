//! Reads of the care plan read models, each one round trip.

use chrono::{DateTime, NaiveDate, Utc};
use ucp_domain::views::EmergencySummary;
use ucp_domain::{NhsNumber, PlanStatus};
use uuid::Uuid;

use crate::{Database, StoreError};

/// A plan's row in `care_plan_view`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub plan_id: Uuid,
    pub nhs_number: NhsNumber,
    pub status: PlanStatus,
    pub version: i64,
    pub document: serde_json::Value,
}

/// A care home's resident: their plan, who they are and their residence, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentRow {
    pub plan_id: Uuid,
    pub nhs_number: NhsNumber,
    pub version: i64,
    pub personal_information: Option<serde_json::Value>,
    pub residence: Option<serde_json::Value>,
}

/// A plan's row in `emergency_summary`.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub plan_id: Uuid,
    pub status: PlanStatus,
    /// The summary at the plan's current version. A change that does not reach a summary's
    /// content leaves its stored text alone and moves only its row's version and time of
    /// change on; they are set here, so no reader sees the stored ones.
    pub summary: EmergencySummary,
}

/// A plan's row in `emergency_summary` as stored: the summary's text is that of the last
/// change that reached its content, and the row's version and time of change are the plan's.
#[derive(Debug, Clone)]
pub struct StoredSummary {
    pub plan_id: Uuid,
    pub status: PlanStatus,
    /// The plan's version.
    pub version: i64,
    /// When anything in the plan last changed.
    pub changed_at: DateTime<Utc>,
    pub text: Box<serde_json::value::RawValue>,
    /// The transaction that wrote this row as it now is: a row written again at the same
    /// version (a rebuild that mended it) is told apart by it.
    pub written_by: i64,
}

impl StoredSummary {
    /// The summary at the plan's current version, straight from the stored text.
    ///
    /// # Errors
    /// When the stored text is not a summary.
    pub fn decode(&self) -> Result<EmergencySummary, StoreError> {
        decode_summary(&self.text, self.version, self.changed_at)
    }
}

/// A stored summary's text at its row's version and time of change: the one way a summary is
/// read back from `emergency_summary`.
pub(crate) fn decode_summary(
    text: &serde_json::value::RawValue,
    version: i64,
    changed_at: DateTime<Utc>,
) -> Result<EmergencySummary, StoreError> {
    let summary: EmergencySummary = serde_json::from_str(text.get())
        .map_err(|e| StoreError::Corrupt(format!("a stored summary: {e}")))?;
    Ok(summary.at_version(version, changed_at))
}

/// Reads a stored NHS number (the projections write only valid ones).
pub(crate) fn nhs_number(text: &str) -> Result<NhsNumber, StoreError> {
    NhsNumber::parse(text).map_err(|e| StoreError::Corrupt(format!("NHS number {text:?}: {e}")))
}

/// Reads a stored plan status.
pub(crate) fn plan_status(text: &str) -> Result<PlanStatus, StoreError> {
    match text {
        "active" => Ok(PlanStatus::Active),
        "withdrawn" => Ok(PlanStatus::Withdrawn),
        "deceased" => Ok(PlanStatus::Deceased),
        "voided" => Ok(PlanStatus::Voided),
        other => Err(StoreError::Corrupt(format!("plan status {other:?}"))),
    }
}

/// What to search the patient index by; names are matched folded (case and accents ignored)
/// and as prefixes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientSearch {
    pub family_folded: Option<String>,
    pub given_folded: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub postcode: Option<String>,
    pub active_only: bool,
    pub limit: i64,
}

/// One candidate person.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientMatch {
    pub plan_id: Uuid,
    pub nhs_number: NhsNumber,
    pub family_name: String,
    pub given_name: String,
    pub birth_date: NaiveDate,
    pub postcode: String,
    pub status: PlanStatus,
    pub score: i32,
    pub updated_at: DateTime<Utc>,
}

fn plan_row(row: &tokio_postgres::Row) -> Result<PlanRow, StoreError> {
    Ok(PlanRow {
        plan_id: row.try_get(0)?,
        nhs_number: nhs_number(row.try_get(1)?)?,
        status: plan_status(row.try_get(2)?)?,
        version: row.try_get(3)?,
        document: row.try_get(4)?,
    })
}

/// The hot reads' SQL, public so that the benchmark's floor (`benches/read-floor`) runs exactly
/// what the service runs.
pub const PLAN_BY_ID_SQL: &str =
    "SELECT plan_id, nhs_number, status, version, document FROM care_plan_view WHERE plan_id = $1";

/// The person's current summary: the active plan's, else the most recently changed. One table,
/// one index (`emergency_summary_current`) in the order asked for: an index lookup by
/// construction, whatever the planner's statistics.
pub const SUMMARY_BY_NHS_NUMBER_SQL: &str =
    "SELECT plan_id, status, summary, version, plan_updated_at, xmin::text::bigint \
     FROM emergency_summary WHERE nhs_number = $1 \
     ORDER BY (status = 'active') DESC, plan_updated_at DESC LIMIT 1";

/// Ranked candidates of a patient search ($1 family prefix, $2 given prefix, $3 birth date,
/// $4 postcode, $5 active only, $6 limit).
pub const SEARCH_SQL: &str =
    "SELECT plan_id, nhs_number, family_name, given_name, birth_date, postcode, status, \
       (CASE WHEN family_folded = $1 THEN 2 ELSE 0 END \
        + CASE WHEN given_folded = $2 THEN 1 ELSE 0 END)::int AS score, updated_at \
     FROM patient_index \
     WHERE ($1::text IS NULL OR family_folded LIKE $1 || '%') \
       AND ($2::text IS NULL OR given_folded LIKE $2 || '%') \
       AND ($3::date IS NULL OR birth_date = $3) \
       AND ($4::text IS NULL OR postcode = $4) \
       AND status <> 'voided' \
       AND (NOT $5 OR status = 'active') \
     ORDER BY score DESC, (status = 'active') DESC, family_name, given_name, plan_id \
     LIMIT $6";

impl Database {
    /// The current document of a plan.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn plan(&self, plan_id: Uuid) -> Result<Option<PlanRow>, StoreError> {
        let client = self.read_connection().await?;
        let stmt = client.prepare_cached(PLAN_BY_ID_SQL).await?;
        client
            .query_opt(&stmt, &[&plan_id])
            .await?
            .as_ref()
            .map(plan_row)
            .transpose()
    }

    /// The person's current plan: the active one, else the most recently changed.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn plan_for_person(
        &self,
        nhs_number: NhsNumber,
    ) -> Result<Option<PlanRow>, StoreError> {
        let client = self.read_connection().await?;
        let stmt = client
            .prepare_cached(
                "SELECT plan_id, nhs_number, status, version, document FROM care_plan_view \
                 WHERE nhs_number = $1 \
                 ORDER BY (status = 'active') DESC, updated_at DESC LIMIT 1",
            )
            .await?;
        client
            .query_opt(&stmt, &[&nhs_number.to_string()])
            .await?
            .as_ref()
            .map(plan_row)
            .transpose()
    }

    /// The active plans of the people a care home's code is recorded as their residence, by
    /// family name, but for those who withdrew consent to share (shared with no home): each row with the person's Personal Information and the residence only
    /// (what a home's list shows), never the whole document.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn residents(&self, care_home: &str) -> Result<Vec<ResidentRow>, StoreError> {
        let client = self.read_connection().await?;
        let stmt = client
            .prepare_cached(
                "SELECT plan_id, nhs_number, version, \
                        document->'sections'->'personal-information'->'content', \
                        document->'residence' \
                 FROM care_plan_view \
                 WHERE care_home = $1 \
                   AND status = 'active' AND (document->>'consentWithdrawn') IS NULL \
                 ORDER BY document->'sections'->'personal-information'->'content'->>'familyName', \
                          nhs_number",
            )
            .await?;
        client
            .query(&stmt, &[&care_home])
            .await?
            .iter()
            .map(|row| {
                Ok(ResidentRow {
                    plan_id: row.try_get(0)?,
                    nhs_number: nhs_number(row.try_get(1)?)?,
                    version: row.try_get(2)?,
                    personal_information: row.try_get(3)?,
                    residence: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Every plan the person has had, the current one first (active, then most recently
    /// changed): what a FHIR search by patient looks through.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn plans_for_person(
        &self,
        nhs_number: NhsNumber,
    ) -> Result<Vec<PlanRow>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(
                "SELECT plan_id, nhs_number, status, version, document FROM care_plan_view \
                 WHERE nhs_number = $1 \
                 ORDER BY (status = 'active') DESC, updated_at DESC, plan_id",
            )
            .await?;
        client
            .query(&stmt, &[&nhs_number.to_string()])
            .await?
            .iter()
            .map(plan_row)
            .collect()
    }

    /// The emergency summary of the person's current plan (active first, else most recent).
    ///
    /// # Errors
    /// When the database fails, or the stored summary cannot be read.
    pub async fn summary_for_person(
        &self,
        nhs_number: NhsNumber,
    ) -> Result<Option<SummaryRow>, StoreError> {
        self.stored_summary_for_person(nhs_number)
            .await?
            .map(|stored| {
                Ok(SummaryRow {
                    plan_id: stored.plan_id,
                    status: stored.status,
                    summary: stored.decode()?,
                })
            })
            .transpose()
    }

    /// The person's current summary as stored, not yet decoded: a reader that has already
    /// judged this version today need not decode it again.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn stored_summary_for_person(
        &self,
        nhs_number: NhsNumber,
    ) -> Result<Option<StoredSummary>, StoreError> {
        let client = self.read_connection().await?;
        let stmt = client.prepare_cached(SUMMARY_BY_NHS_NUMBER_SQL).await?;
        client
            .query_opt(&stmt, &[&nhs_number.to_string()])
            .await?
            .map(|row| -> Result<StoredSummary, StoreError> {
                let stored: tokio_postgres::types::Json<Box<serde_json::value::RawValue>> =
                    row.try_get(2)?;
                Ok(StoredSummary {
                    plan_id: row.try_get(0)?,
                    status: plan_status(row.try_get(1)?)?,
                    version: row.try_get(3)?,
                    changed_at: row.try_get(4)?,
                    text: stored.0,
                    written_by: row.try_get(5)?,
                })
            })
            .transpose()
    }

    /// Ranked candidates: exact name matches above prefix matches, active plans first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn search_patients(
        &self,
        search: &PatientSearch,
    ) -> Result<Vec<PatientMatch>, StoreError> {
        let client = self.read_connection().await?;
        let stmt = client.prepare_cached(SEARCH_SQL).await?;
        client
            .query(
                &stmt,
                &[
                    &search.family_folded,
                    &search.given_folded,
                    &search.birth_date,
                    &search.postcode,
                    &search.active_only,
                    &search.limit,
                ],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(PatientMatch {
                    plan_id: row.try_get(0)?,
                    nhs_number: nhs_number(row.try_get(1)?)?,
                    family_name: row.try_get(2)?,
                    given_name: row.try_get(3)?,
                    birth_date: row.try_get(4)?,
                    postcode: row.try_get(5)?,
                    status: plan_status(row.try_get(6)?)?,
                    score: row.try_get(7)?,
                    updated_at: row.try_get(8)?,
                })
            })
            .collect()
    }
}
