//! Reads of the review worklist.

use chrono::{DateTime, NaiveDate, Utc};
use ucp_domain::{NhsNumber, PlanStatus};
use uuid::Uuid;

use crate::queries::{nhs_number, plan_status};
use crate::{Database, StoreError};

/// Which plans to list, ordered by due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistQuery {
    /// Plans this organisation (ODS code) answers for.
    pub organisation: Option<String>,
    /// Due strictly before this date (a decision said to be no longer valid is listed
    /// whatever its date: it needs review now).
    pub due_before: Option<NaiveDate>,
    pub status: PlanStatus,
    /// After this (priority, due date, plan id): the page cursor.
    pub after: Option<(i16, NaiveDate, Uuid)>,
    pub limit: i64,
}

/// One plan on the worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistRow {
    pub plan_id: Uuid,
    pub nhs_number: NhsNumber,
    pub family_name: String,
    pub given_name: String,
    pub status: PlanStatus,
    pub due_date: NaiveDate,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub last_reviewed_by: Option<String>,
    pub responsible_org: Option<String>,
    /// 0 for a decision said to be no longer valid (listed first), 1 otherwise.
    pub priority: i16,
    /// The standing that does not depend on the day.
    pub cpr_standing: ucp_domain::standing::Standing,
    pub awaiting_countersignature: bool,
}

/// Counts for one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistCounts {
    pub organisation: String,
    pub due_this_month: i64,
    pub overdue: i64,
}

impl Database {
    /// A page of the worklist, by due date.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn worklist(&self, q: &WorklistQuery) -> Result<Vec<WorklistRow>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(
                // With an organisation: its lines, in index order; without: every plan.
                "SELECT w.plan_id, w.nhs_number, w.family_name, w.given_name, w.status, \
                   w.due_date, w.last_reviewed_at, w.last_reviewed_by, w.responsible_org, \
                   w.priority, w.cpr_standing, w.awaiting_countersignature \
                 FROM review_worklist w \
                 WHERE $2::text IS NULL AND w.status = $1 \
                   AND ($3::date IS NULL OR w.due_date < $3 OR w.priority = 0) \
                   AND ($4::date IS NULL \
                        OR (w.priority, w.due_date, w.plan_id) > ($7::smallint, $4, $5::uuid)) \
                 UNION ALL \
                 SELECT w.plan_id, w.nhs_number, w.family_name, w.given_name, w.status, \
                   w.due_date, w.last_reviewed_at, w.last_reviewed_by, w.responsible_org, \
                   w.priority, w.cpr_standing, w.awaiting_countersignature \
                 FROM (SELECT plan_id FROM review_worklist_orgs \
                       WHERE organisation = $2 AND status = $1 \
                         AND ($3::date IS NULL OR due_date < $3 OR priority = 0) \
                         AND ($4::date IS NULL \
                              OR (priority, due_date, plan_id) > ($7::smallint, $4, $5::uuid)) \
                       ORDER BY priority, due_date, plan_id LIMIT $6) o \
                 JOIN review_worklist w ON w.plan_id = o.plan_id \
                 ORDER BY priority, due_date, plan_id LIMIT $6",
            )
            .await?;
        let (after_priority, after_due, after_id) = match q.after {
            Some((p, d, id)) => (Some(p), Some(d), Some(id)),
            None => (None, None, None),
        };
        client
            .query(
                &stmt,
                &[
                    &q.status.as_str(),
                    &q.organisation,
                    &q.due_before,
                    &after_due,
                    &after_id,
                    &q.limit,
                    &after_priority,
                ],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(WorklistRow {
                    plan_id: r.try_get(0)?,
                    nhs_number: nhs_number(r.try_get(1)?)?,
                    family_name: r.try_get(2)?,
                    given_name: r.try_get(3)?,
                    status: plan_status(r.try_get(4)?)?,
                    due_date: r.try_get(5)?,
                    last_reviewed_at: r.try_get(6)?,
                    last_reviewed_by: r.try_get(7)?,
                    responsible_org: r.try_get(8)?,
                    priority: r.try_get(9)?,
                    cpr_standing: {
                        let text: &str = r.try_get(10)?;
                        ucp_domain::standing::Standing::parse(text).ok_or_else(|| {
                            StoreError::Corrupt(format!("worklist standing {text:?}"))
                        })?
                    },
                    awaiting_countersignature: r.try_get(11)?,
                })
            })
            .collect()
    }

    /// Per organisation: active plans due from `today` to the end of its month, and overdue.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn worklist_counts(
        &self,
        today: NaiveDate,
        organisation: Option<&str>,
    ) -> Result<Vec<WorklistCounts>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(
                "SELECT organisation, \
                   count(*) FILTER (WHERE due_date >= $1 \
                     AND due_date < date_trunc('month', $1::date) + interval '1 month'), \
                   count(*) FILTER (WHERE due_date < $1) \
                 FROM review_worklist_orgs \
                 WHERE status = 'active' AND ($2::text IS NULL OR organisation = $2) \
                 GROUP BY organisation ORDER BY organisation",
            )
            .await?;
        client
            .query(&stmt, &[&today, &organisation])
            .await?
            .iter()
            .map(|r| {
                Ok(WorklistCounts {
                    organisation: r.try_get(0)?,
                    due_this_month: r.try_get(1)?,
                    overdue: r.try_get(2)?,
                })
            })
            .collect()
    }
}
