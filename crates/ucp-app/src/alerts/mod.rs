//! Alerts for the privacy officer, computed from the access log as it is written. Every
//! professional may read any Londoner's plan once they state a purpose: the NHS model of a
//! self-declared legitimate relationship, which holds only if someone looks at the accesses
//! that need a reason. A leader-run scanner follows the log in commit order ([`scanner`]),
//! applies the rules ([`detect`]) and records alerts with their evidence; the privacy officer
//! lists them, reads one with its evidence and records an outcome ([`review`]); `ucp alerts
//! rebuild` recomputes them from the whole log ([`rebuild`]).

pub mod detect;
pub mod rebuild;
pub mod review;
pub mod scanner;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};
pub use ucp_store::alerts::{Alert, AlertOutcome, AlertQuery};

/// The scanner's name in `alert_scan` and its leadership lock.
pub const SCANNER: &str = "privacy-alerts";

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertKind {
    /// A relationship the reader declared themselves: a care home's admission (cleared when a
    /// clinician confirms the residence), or a proxy granted to an attorney by the clinician
    /// who had just recorded them.
    SelfDeclaredRelationship,
    /// `emergency` stated by a role that is not an emergency service.
    EmergencyPurpose,
    /// More distinct people's records read within an hour than the role's threshold.
    BulkReads,
    /// The reader's own family name and postcode are the person's.
    FamilyLookup,
    /// A read of a record a clinician marked sensitive.
    SensitiveRecord,
    /// Many refused requests about one person within an hour.
    BulkRefusals,
}

impl AlertKind {
    pub const ALL: [Self; 6] = [
        Self::SelfDeclaredRelationship,
        Self::EmergencyPurpose,
        Self::BulkReads,
        Self::FamilyLookup,
        Self::SensitiveRecord,
        Self::BulkRefusals,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfDeclaredRelationship => ucp_store::alerts::SELF_DECLARED,
            Self::EmergencyPurpose => "emergency-purpose",
            Self::BulkReads => "bulk-reads",
            Self::FamilyLookup => "family-lookup",
            Self::SensitiveRecord => "sensitive-record",
            Self::BulkRefusals => "bulk-refusals",
        }
    }

    /// The kind named.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Staff whose own family name and postcode are known (from the staff record, e.g. an export
/// of the Electronic Staff Record), by the actor id their sign-in carries: a read of a record
/// with the same family name and postcode is a family lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffDirectory(HashMap<String, (String, String)>);

/// A staff directory line that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("staff directory line {line}: {problem}")]
pub struct StaffDirectoryError {
    pub line: usize,
    pub problem: String,
}

impl StaffDirectory {
    /// Reads `actor,family name,postcode` lines (a first line naming the columns, and blank
    /// lines and `#` comments, are skipped). Names are folded as the patient index folds them;
    /// postcodes are written as the plans write them.
    ///
    /// # Errors
    /// The first line that is not three fields with a valid postcode.
    pub fn parse(text: &str) -> Result<Self, StaffDirectoryError> {
        let mut staff = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("actor,") {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [actor, family, postcode] = fields[..] else {
                return Err(StaffDirectoryError {
                    line: i + 1,
                    problem: "expected actor,family name,postcode".into(),
                });
            };
            let postcode =
                ucp_domain::Postcode::parse(postcode).map_err(|e| StaffDirectoryError {
                    line: i + 1,
                    problem: e.to_string(),
                })?;
            if actor.is_empty() || family.is_empty() {
                return Err(StaffDirectoryError {
                    line: i + 1,
                    problem: "an empty actor or family name".into(),
                });
            }
            staff.insert(
                actor.to_owned(),
                (ucp_domain::fold_name(family), postcode.as_str().to_owned()),
            );
        }
        Ok(Self(staff))
    }

    /// The folded family name and postcode of a member of staff.
    #[must_use]
    pub fn get(&self, actor: &str) -> Option<&(String, String)> {
        self.0.get(actor)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How alerts are detected.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// Whether this server scans the access log (when it leads the scan).
    pub enabled: bool,
    /// How often the scanner looks for new entries when it has caught up.
    pub scan_interval: Duration,
    /// Per role, how many distinct people's records an actor may read within an hour before an
    /// alert (0, or a role not named: not counted).
    pub bulk_reads: BTreeMap<String, u32>,
    /// How many refused requests about one person within an hour raise an alert (0: none).
    pub bulk_refusals: u32,
    pub staff: StaffDirectory,
}

impl AlertsConfig {
    /// The hourly threshold of distinct people read for a role.
    #[must_use]
    pub fn bulk_reads_for(&self, role: &str) -> u32 {
        self.bulk_reads.get(role).copied().unwrap_or(0)
    }

    /// The default thresholds: a crew or an out-of-hours GP sees a handful of people in a
    /// shift, a 111 clinician a few an hour, a care home's staff their residents (at a handover,
    /// all of them); a clinician keeping plans may work through a review list. A dispatch system
    /// reads for every call in London, so its reads are not counted.
    #[must_use]
    pub fn default_bulk_reads() -> BTreeMap<String, u32> {
        [
            ("clinician", 50),
            ("ambulance", 10),
            ("nhs111", 20),
            ("ooh", 10),
            ("care-home", 60),
            ("dispatch", 0),
        ]
        .into_iter()
        .map(|(role, n)| (role.to_owned(), n))
        .collect()
    }

    /// Reads `role=n,role=n` (roles not named keep their default).
    ///
    /// # Errors
    /// A part that is not `role=number`, or a role that does not read plans.
    pub fn parse_bulk_reads(text: &str) -> Result<BTreeMap<String, u32>, String> {
        let mut thresholds = Self::default_bulk_reads();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (role, n) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not role=number"))?;
            let role = role.trim();
            if !thresholds.contains_key(role) {
                return Err(format!(
                    "{role:?} is not a role that reads plans (clinician, ambulance, nhs111, ooh, \
                     care-home, dispatch)"
                ));
            }
            let n: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the threshold is not a whole number"))?;
            thresholds.insert(role.to_owned(), n);
        }
        Ok(thresholds)
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            scan_interval: Duration::from_secs(1),
            bulk_reads: Self::default_bulk_reads(),
            bulk_refusals: 20,
            staff: StaffDirectory::default(),
        }
    }
}

#[cfg(test)]
mod tests;
