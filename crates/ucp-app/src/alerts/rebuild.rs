//! `ucp alerts rebuild`: the alerts recomputed from the whole access log by the rules the
//! scanner applies, compared with those the scanner recorded, and (unless only checking)
//! written in their place. Outcomes stay with the alerts they were made on.

use std::collections::HashMap;

use ucp_store::alerts::{apply, Alert, ScanPosition};
use ucp_store::Database;
use uuid::Uuid;

use super::detect::Detector;
use super::scanner::lookups;
use super::{AlertsConfig, SCANNER};
use crate::AppError;

/// Entries read per page of the recomputation.
const PAGE: i64 = 2000;

/// What a recomputation found.
#[derive(Debug, Clone)]
pub struct Recomputed {
    /// The alerts, by id.
    pub alerts: Vec<Alert>,
    /// The last entry read.
    pub position: ScanPosition,
    /// How many entries were read.
    pub entries: u64,
}

/// How a recomputation differs from what is recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Differences {
    /// Recomputed, not recorded.
    pub missing: Vec<Uuid>,
    /// Recorded, not recomputed.
    pub extra: Vec<Uuid>,
    /// Both, with different evidence, people, state or reason.
    pub differing: Vec<Uuid>,
}

impl Differences {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.differing.is_empty()
    }
}

/// Recomputes the alerts from the start of the log up to `upto` (all of it behind the fence
/// when `None`).
///
/// # Errors
/// When the store fails.
pub async fn recompute(
    db: &Database,
    config: &AlertsConfig,
    upto: Option<ScanPosition>,
) -> Result<Recomputed, AppError> {
    let mut detector = Detector::new(config.clone());
    let mut alerts: HashMap<Uuid, Alert> = HashMap::new();
    let mut position = ScanPosition::START;
    let mut entries = 0u64;
    let before_end = |p: &ScanPosition| {
        upto.is_none_or(|u| (p.transaction_id, p.entry_id) <= (u.transaction_id, u.entry_id))
    };
    loop {
        let page = db.access_log_after(position, PAGE).await?;
        let page: Vec<_> = page
            .into_iter()
            .take_while(|s| before_end(&s.position()))
            .collect();
        let Some(last) = page.last() else { break };
        position = last.position();
        let lookups = lookups(db, config, &page).await?;
        for scanned in &page {
            let found = detector.observe(&scanned.entry, &lookups);
            apply(&mut alerts, &found);
        }
        entries += page.len() as u64;
    }
    let mut alerts: Vec<Alert> = alerts.into_values().collect();
    alerts.sort_by_key(|a| a.alert_id);
    Ok(Recomputed {
        alerts,
        position,
        entries,
    })
}

/// Compares a recomputation with what the scanner recorded (detection only: not outcomes).
#[must_use]
pub fn compare(recomputed: &[Alert], recorded: &[Alert]) -> Differences {
    let recorded: HashMap<Uuid, &Alert> = recorded.iter().map(|a| (a.alert_id, a)).collect();
    let recomputed_ids: HashMap<Uuid, &Alert> =
        recomputed.iter().map(|a| (a.alert_id, a)).collect();
    let mut d = Differences::default();
    for a in recomputed {
        match recorded.get(&a.alert_id) {
            None => d.missing.push(a.alert_id),
            Some(r) if r.detected() != a.detected() => d.differing.push(a.alert_id),
            Some(_) => {}
        }
    }
    for id in recorded.keys() {
        if !recomputed_ids.contains_key(id) {
            d.extra.push(*id);
        }
    }
    d.extra.sort();
    d
}

/// Recomputes up to where the live scanner has got, and compares: a check that can run while
/// the servers do.
///
/// # Errors
/// When the store fails.
pub async fn check(
    db: &Database,
    config: &AlertsConfig,
) -> Result<(Recomputed, Differences), AppError> {
    // The alerts and the position they were recorded up to, as they committed together.
    let (recorded, upto) = db.all_alerts(SCANNER).await?;
    let upto = upto.unwrap_or(ScanPosition::START);
    let recomputed = recompute(db, config, Some(upto)).await?;
    let differences = compare(&recomputed.alerts, &recorded);
    Ok((recomputed, differences))
}

/// Recomputes from the whole log and writes the result in place of what was recorded, moving
/// the scanner to where it stopped.
///
/// # Errors
/// Refused while a server scans; when the store fails.
pub async fn rebuild(
    db: &Database,
    config: &AlertsConfig,
) -> Result<(Recomputed, Differences), AppError> {
    let recomputed = recompute(db, config, None).await?;
    let (recorded, _) = db.all_alerts(SCANNER).await?;
    let differences = compare(&recomputed.alerts, &recorded);
    db.replace_detections(SCANNER, &recomputed.alerts, recomputed.position)
        .await
        .map_err(|e| match e {
            ucp_store::StoreError::Refused(why) => AppError::Conflict {
                kind: crate::Conflict::ConcurrentChange,
                detail: why,
                location: None,
            },
            other => other.into(),
        })?;
    Ok((recomputed, differences))
}
