//! The scanner: one server at a time (the leadership lock) follows the access log in commit
//! order behind the feed's fence, applies the rules and commits the alerts with its position.
//! A new leader resumes from that position, having read again the hour before it so that the
//! thresholds' windows are as they were.

use std::collections::{HashMap, HashSet};

use tokio::task::JoinHandle;
use ucp_store::alerts::{Detection, ScanPosition, ScannedEntry};

use super::detect::{Detector, Lookups};
use super::{AlertsConfig, SCANNER};
use crate::{leadership, AppError, AppState};

/// Entries read per batch.
const BATCH: i64 = 2000;

/// Runs the scanner while this server leads it.
#[derive(Debug)]
pub struct AlertScanner {
    task: JoinHandle<()>,
}

impl Drop for AlertScanner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AlertScanner {
    /// Starts scanning on the current Tokio runtime.
    #[must_use]
    pub fn start(state: AppState, config: AlertsConfig) -> Self {
        Self {
            task: tokio::spawn(lead(state, config)),
        }
    }
}

async fn lead(state: AppState, config: AlertsConfig) {
    loop {
        let Some(connection) =
            leadership::connect(&state, "privacy alert scanner", config.scan_interval).await
        else {
            return;
        };
        let won = leadership::try_lead(&connection, SCANNER).await;
        if !matches!(won, Ok(true)) {
            drop(connection);
            tokio::time::sleep(config.scan_interval).await;
            continue;
        }
        tracing::info!("leading the privacy alert scanner");
        let mut task = tokio::spawn(follow(state.clone(), config.clone()));
        loop {
            tokio::select! {
                _ = &mut task => {
                    // It ended (a panic): not at once again, in a loop.
                    tokio::time::sleep(config.scan_interval).await;
                    break;
                }
                () = tokio::time::sleep(config.scan_interval) => {
                    if connection.is_closed() {
                        task.abort();
                        break;
                    }
                }
            }
        }
    }
}

async fn follow(state: AppState, config: AlertsConfig) {
    loop {
        if let Err(e) = follow_from_position(&state, &config).await {
            tracing::warn!(error = %e, "privacy alert scanning paused");
            tokio::time::sleep(config.scan_interval).await;
        }
    }
}

async fn follow_from_position(state: &AppState, config: &AlertsConfig) -> Result<(), AppError> {
    let mut position = state
        .db
        .alert_scan_position(SCANNER)
        .await?
        .unwrap_or(ScanPosition::START);
    let mut detector = Detector::new(config.clone());
    if position != ScanPosition::START {
        // The windows as they were: the hour's refusals and counted reads read again (their
        // alerts are recorded already), and the threshold alerts raised within the hour.
        let since = position.last_at - chrono::Duration::hours(1);
        let counted = detector.counted_roles();
        let again = state
            .db
            .access_log_leading_to(since, position, &counted)
            .await?;
        let refused: Vec<String> = again
            .iter()
            .filter_map(|s| s.entry.nhs_number.clone())
            .collect();
        let warm = Lookups {
            with_plans: state
                .db
                .people_with_plans(&refused)
                .await?
                .into_iter()
                .collect(),
            ..Lookups::default()
        };
        for scanned in &again {
            let _ = detector.observe(&scanned.entry, &warm);
        }
        for alert in state.db.recent_threshold_alerts(since).await? {
            detector.restore(&alert);
        }
    }
    refresh_open_counts(state).await;
    loop {
        let batch = state.db.access_log_after(position, BATCH).await?;
        let Some(last) = batch.last() else {
            state.metrics.set_alert_scan_lag(position.last_at);
            tokio::time::sleep(config.scan_interval).await;
            continue;
        };
        let next = last.position();
        let lookups = lookups(&state.db, config, &batch).await?;
        let detections: Vec<Detection> = batch
            .iter()
            .flat_map(|s| detector.observe(&s.entry, &lookups))
            .collect();
        let changed = state
            .db
            .record_detections(SCANNER, &detections, position, next)
            .await?;
        state.metrics.set_alert_scan_lag(next.last_at);
        for alert in &changed {
            tracing::info!(
                alert = %alert.alert_id,
                kind = alert.kind,
                state = alert.state(),
                evidence = alert.evidence_count,
                "privacy alert"
            );
        }
        if !changed.is_empty() {
            refresh_open_counts(state).await;
        }
        position = next;
    }
}

/// What the rules need of the database for a batch: the sensitivity marks of the people
/// shown, the names and postcodes of the people shown to staff in the directory, and which
/// people refused about have a plan.
///
/// # Errors
/// When the database fails.
pub async fn lookups(
    db: &ucp_store::Database,
    config: &AlertsConfig,
    batch: &[ScannedEntry],
) -> Result<Lookups, AppError> {
    let mut shown = HashSet::new();
    let mut to_staff = HashSet::new();
    let mut refused = HashSet::new();
    for e in batch.iter().map(|s| &s.entry) {
        let staff = config.staff.get(&e.actor).is_some();
        for (p, _) in super::detect::people_shown(e) {
            shown.insert(p.to_owned());
            if staff {
                to_staff.insert(p.to_owned());
            }
        }
        if e.status >= 400 {
            if let Some(p) = &e.nhs_number {
                refused.insert(p.clone());
            }
        }
    }
    let mut sensitivity: HashMap<String, Vec<_>> = HashMap::new();
    if !shown.is_empty() {
        for mark in db.sensitivity_marks().await? {
            if shown.contains(&mark.nhs_number) {
                sensitivity
                    .entry(mark.nhs_number.clone())
                    .or_default()
                    .push(mark);
            }
        }
    }
    let to_staff: Vec<String> = to_staff.into_iter().collect();
    let mut names: HashMap<_, Vec<(String, String)>> = HashMap::new();
    for (nhs, family, postcode) in db.family_and_postcode(&to_staff).await? {
        names.entry(nhs).or_default().push((family, postcode));
    }
    let refused: Vec<String> = refused.into_iter().collect();
    Ok(Lookups {
        sensitivity,
        people: names,
        with_plans: db.people_with_plans(&refused).await?.into_iter().collect(),
    })
}

/// Sets the metrics' open alerts by kind from the database.
pub async fn refresh_open_counts(state: &AppState) {
    match state.db.open_alert_counts().await {
        Ok(counts) => {
            for kind in super::AlertKind::ALL {
                let n = counts
                    .iter()
                    .find(|(k, _)| k == kind.as_str())
                    .map_or(0, |(_, n)| *n);
                state.metrics.set_open_alerts(kind.as_str(), n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot count open privacy alerts"),
    }
}
