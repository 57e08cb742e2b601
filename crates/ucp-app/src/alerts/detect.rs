//! What in the access log needs a reason: the rules, as pure code over entries in commit order.
//! The live scanner and `ucp alerts rebuild` feed the same entries through the same rules, so
//! that a recomputation finds the alerts the scanner raised.
//!
//! An alert's id is derived from what raised it: the entry (an admission, a flagged proxy
//! grant), the actor, person and day (an emergency purpose, a family lookup, a sensitive
//! record: one alert a day gathers that day's reads), or the entry that crossed a threshold
//! (bulk reads, bulk refusals: one alert an hour gathers the rest).

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use ucp_store::alerts::{Clear, Detection, Raise, SensitivityMark};
use ucp_store::AccessEntry;
use uuid::Uuid;

use super::{AlertKind, AlertsConfig};

/// What the rules need to know beyond the entries: answered per batch from the database.
#[derive(Debug, Default)]
pub struct Lookups {
    /// Each person's sensitivity marks (on any of their plans), in the order they were made.
    pub sensitivity: HashMap<String, Vec<SensitivityMark>>,
    /// Each person's family name (folded) and postcode.
    pub people: HashMap<String, Vec<(String, String)>>,
    /// The people named by refusals who have a plan: refusals about a made-up NHS number protect
    /// no one, and would let anyone raise alerts at will.
    pub with_plans: HashSet<String>,
}

impl Lookups {
    /// Whether the person's record was marked sensitive when it was read (on any of their
    /// plans, whatever version the read showed), and why.
    #[must_use]
    pub fn sensitive_at(&self, nhs_number: &str, at: DateTime<Utc>) -> Option<&str> {
        let marks = self.sensitivity.get(nhs_number)?;
        let mut plans: Vec<Uuid> = marks.iter().map(|m| m.plan_id).collect();
        plans.dedup();
        plans.into_iter().find_map(|plan| {
            marks
                .iter()
                .rev()
                .find(|m| m.plan_id == plan && m.at <= at)
                .filter(|m| m.marked)
                .map(|m| m.reason.as_deref().unwrap_or("a reason not recorded"))
        })
    }
}

/// The people an entry shows the record of, if it is a served read by a professional or a
/// professional's system: the person read (a plan, a section, a summary, a history, changes, a
/// printed plan, FHIR, and a 304 re-read of one of these), and for a search (or a FHIR search)
/// everyone it returned. The bool says whether it read the record itself (not only found it).
#[must_use]
pub fn people_shown(e: &AccessEntry) -> Vec<(&str, bool)> {
    let served = (200..300).contains(&e.status) || e.status == 304;
    if !served || e.method != "GET" || !READERS.contains(&e.role.as_str()) {
        return Vec::new();
    }
    let Some(view) = e.view.as_deref() else {
        return Vec::new();
    };
    let mut shown: Vec<(&str, bool)> = Vec::new();
    if READ_VIEWS.contains(&view) {
        if let Some(p) = e.nhs_number.as_deref() {
            shown.push((p, true));
        }
    }
    if READ_VIEWS.contains(&view) || view == "search" {
        for p in &e.returned_nhs_numbers {
            if !shown.iter().any(|(q, _)| q == p) {
                shown.push((p.as_str(), false));
            }
        }
    }
    shown
}

/// The views that show someone's record: a read of one is a read of that person's plan.
const READ_VIEWS: &[&str] = &[
    "plan",
    "section",
    "summary",
    "history",
    "changes",
    "document",
    "fhir",
    "care-home-plan",
    "care-home-section",
    "care-home-summary",
    "care-home-document",
];

/// The roles whose reads the rules look at: professionals and the systems that read for them.
/// The person and their proxies read their own record; admins and privacy officers replay
/// entries for audit (their own reads are in the log, for whoever audits them).
const READERS: &[&str] = &[
    "clinician",
    "ambulance",
    "nhs111",
    "ooh",
    "dispatch",
    "care-home",
];

/// The emergency services: the roles that read for an emergency.
const EMERGENCY_SERVICES: &[&str] = &["ambulance", "nhs111", "ooh", "dispatch"];

/// Refusals that name a person: no valid sign-in, not allowed, not found (a home asking for a
/// non-resident), too many.
const REFUSALS: &[i16] = &[401, 403, 404, 429];

const HOUR: i64 = 3600;

/// A threshold window: what happened within the last hour, and the alert it raised.
#[derive(Debug, Default)]
struct Window {
    /// (at, what, entry).
    recent: VecDeque<(DateTime<Utc>, String, Uuid, u64)>,
    /// How many of each `what` are in `recent` (distinct people read).
    counts: HashMap<String, u64>,
    total: u64,
    /// The alert it raised, and until when more evidence joins it.
    raised: Option<(Uuid, DateTime<Utc>)>,
}

impl Window {
    /// Nothing in it within the hour before `now`, and no alert open: it may be forgotten.
    fn idle(&self, now: DateTime<Utc>) -> bool {
        let hour_ago = now - Duration::seconds(HOUR);
        self.recent.back().is_none_or(|(at, ..)| *at <= hour_ago)
            && self.raised.is_none_or(|(_, until)| until <= now)
    }
}

impl Window {
    fn push(&mut self, at: DateTime<Utc>, what: String, entry: Uuid, weight: u64) {
        while let Some((first, ..)) = self.recent.front() {
            if *first > at - Duration::seconds(HOUR) {
                break;
            }
            if let Some((_, old, _, w)) = self.recent.pop_front() {
                self.total = self.total.saturating_sub(w);
                if let Some(n) = self.counts.get_mut(&old) {
                    *n -= 1;
                    if *n == 0 {
                        self.counts.remove(&old);
                    }
                }
            }
        }
        *self.counts.entry(what.clone()).or_default() += 1;
        self.total += weight;
        self.recent.push_back((at, what, entry, weight));
    }

    fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// The alert to add to, or a new one raised by `entry` (open for the hour after it).
    fn alert(&mut self, kind: AlertKind, key: &str, entry: &AccessEntry) -> (Uuid, bool) {
        match self.raised {
            Some((id, until)) if entry.at < until => (id, false),
            _ => {
                let id = alert_id(kind, &[key, &entry.entry_id.to_string()]);
                self.raised = Some((id, entry.at + Duration::seconds(HOUR)));
                (id, true)
            }
        }
    }

    fn evidence(&self) -> Vec<Uuid> {
        self.recent.iter().map(|(_, _, id, _)| *id).collect()
    }

    fn people(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.recent
            .iter()
            .filter(|(_, p, ..)| seen.insert(p.clone()))
            .map(|(_, p, ..)| p.clone())
            .collect()
    }
}

/// The rules' memory between entries: the windows of the thresholds.
#[derive(Debug)]
pub struct Detector {
    config: AlertsConfig,
    reads: HashMap<String, Window>,
    refusals: HashMap<String, Window>,
    /// Entries seen since the idle windows were last forgotten.
    since_sweep: u32,
}

/// How often (in entries) the windows with nothing in the last hour are forgotten.
const SWEEP_EVERY: u32 = 10_000;

/// The id of an alert, from its kind and what raised it: the same inputs, the same alert.
#[must_use]
pub fn alert_id(kind: AlertKind, key: &[&str]) -> Uuid {
    let mut name = kind.as_str().to_owned();
    for part in key {
        name.push('|');
        name.push_str(part);
    }
    Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
}

fn day(at: DateTime<Utc>) -> String {
    at.date_naive().to_string()
}

fn who(e: &AccessEntry) -> String {
    e.actor_name.clone().unwrap_or_else(|| e.actor.clone())
}

/// A mark's reason, as the privacy officer reads it.
fn sensitivity_in_words(reason: &str) -> &str {
    match reason {
        "member-of-staff" => "a member of staff",
        "public-figure" => "a public figure",
        "safeguarding" => "at risk if found: safeguarding",
        other => other,
    }
}

impl Detector {
    #[must_use]
    pub fn new(config: AlertsConfig) -> Self {
        Self {
            config,
            reads: HashMap::new(),
            refusals: HashMap::new(),
            since_sweep: 0,
        }
    }

    /// The roles whose reads the bulk-read windows count.
    #[must_use]
    pub fn counted_roles(&self) -> Vec<String> {
        self.config
            .bulk_reads
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(role, _)| role.clone())
            .collect()
    }

    /// A threshold alert raised before a restart: its window joins more evidence to it until
    /// its hour is out, rather than raise a second one.
    pub fn restore(&mut self, alert: &ucp_store::alerts::Alert) {
        let until = alert.raised_at + Duration::seconds(HOUR);
        let window = match (alert.kind.as_str(), alert.nhs_number.as_ref()) {
            ("bulk-reads", _) => self.reads.entry(alert.actor.clone()).or_default(),
            ("bulk-refusals", Some(person)) => self.refusals.entry(person.clone()).or_default(),
            _ => return,
        };
        if window.raised.is_none_or(|(_, u)| u < until) {
            window.raised = Some((alert.alert_id, until));
        }
    }

    fn sweep(&mut self, now: DateTime<Utc>) {
        self.since_sweep += 1;
        if self.since_sweep < SWEEP_EVERY {
            return;
        }
        self.since_sweep = 0;
        self.reads.retain(|_, w| !w.idle(now));
        self.refusals.retain(|_, w| !w.idle(now));
    }

    fn raise(
        kind: AlertKind,
        alert_id: Uuid,
        e: &AccessEntry,
        person: Option<&str>,
        reason: String,
        evidence: Vec<Uuid>,
        people: Vec<String>,
    ) -> Detection {
        Detection::Raise(Raise {
            alert_id,
            kind: kind.as_str().to_owned(),
            at: e.at,
            nhs_number: person.map(str::to_owned),
            actor: e.actor.clone(),
            actor_name: e.actor_name.clone(),
            role: e.role.clone(),
            organisation: e.organisation.clone(),
            plan_version: e.plan_version,
            reason,
            evidence,
            people,
        })
    }

    /// An alert per actor, person and day: the first read raises it, the rest of the day's join.
    fn daily(kind: AlertKind, e: &AccessEntry, person: &str, reason: String) -> Detection {
        let id = alert_id(kind, &[&e.actor, person, &day(e.at)]);
        Self::raise(
            kind,
            id,
            e,
            Some(person),
            reason,
            vec![e.entry_id],
            vec![person.to_owned()],
        )
    }

    /// What this entry raises or clears, given the entries before it.
    pub fn observe(&mut self, e: &AccessEntry, lookups: &Lookups) -> Vec<Detection> {
        self.sweep(e.at);
        let mut found = Vec::new();
        let served = (200..300).contains(&e.status);
        let person = e.nhs_number.as_deref();

        // A self-declared relationship: a home's own admission; an attorney granted proxy
        // access by the clinician who had just recorded them on the plan.
        if served && e.action == "admitResident" {
            if let Some(p) = person {
                found.push(Self::raise(
                    AlertKind::SelfDeclaredRelationship,
                    alert_id(
                        AlertKind::SelfDeclaredRelationship,
                        &[&e.entry_id.to_string()],
                    ),
                    e,
                    Some(p),
                    format!(
                        "{} of the care home {} admitted the person as a resident: a relationship \
                         the home declared itself, unconfirmed until a clinician confirms it",
                        who(e),
                        e.organisation.as_deref().unwrap_or("(no code)")
                    ),
                    vec![e.entry_id],
                    vec![p.to_owned()],
                ));
            }
        }
        if served && e.action == "grantAttorneyProxy" {
            let flag = e
                .detail
                .as_ref()
                .map(|d| &d["flag"])
                .filter(|f| !f.is_null());
            if let (Some(p), Some(flag)) = (person, flag) {
                let reasons = flag["reasons"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(serde_json::Value::as_str)
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "the grantor had just recorded the attorney".to_owned());
                found.push(Self::raise(
                    AlertKind::SelfDeclaredRelationship,
                    alert_id(
                        AlertKind::SelfDeclaredRelationship,
                        &[&e.entry_id.to_string()],
                    ),
                    e,
                    Some(p),
                    format!(
                        "{} granted an attorney proxy access to the plan after changing it \
                         themselves: {reasons}",
                        who(e)
                    ),
                    vec![e.entry_id],
                    vec![p.to_owned()],
                ));
            }
        }
        // A clinician's confirmation (or record) of the home the person lives at clears that
        // home's admission.
        if served
            && e.role == "clinician"
            && matches!(e.action.as_str(), "confirmResidence" | "recordResidence")
        {
            let detail = e.detail.as_ref();
            let home = detail
                .and_then(|d| d["careHome"].as_str())
                .map(str::to_owned);
            // The residence the clinician confirmed, as recorded (by its plan version): a
            // record by a clinician confirms the one on record only when it names the same home.
            let residence = detail.and_then(|d| d["residenceVersion"].as_i64());
            if let (Some(p), Some(home), Some(residence_version)) = (person, home, residence) {
                found.push(Detection::Clear(Clear {
                    nhs_number: p.to_owned(),
                    care_home: home,
                    residence_version,
                    entry_id: e.entry_id,
                    at: e.at,
                }));
            }
        }

        let shown = people_shown(e);
        for (p, record) in &shown {
            let p = *p;
            if *record
                && e.purpose.as_deref() == Some("emergency")
                && !EMERGENCY_SERVICES.contains(&e.role.as_str())
            {
                found.push(Self::daily(
                    AlertKind::EmergencyPurpose,
                    e,
                    p,
                    format!(
                        "{} ({}) read the record stating an emergency, which only the emergency \
                         services read for",
                        who(e),
                        e.role
                    ),
                ));
            }
            if let Some(staff) = self.config.staff.get(&e.actor) {
                let same = lookups.people.get(p).is_some_and(|names| {
                    names
                        .iter()
                        .any(|(family, postcode)| *family == staff.0 && *postcode == staff.1)
                });
                if same {
                    found.push(Self::daily(
                        AlertKind::FamilyLookup,
                        e,
                        p,
                        format!(
                            "{} {} the record of a person with their own family name and \
                             postcode",
                            who(e),
                            if *record {
                                "read"
                            } else {
                                "found, in a search,"
                            }
                        ),
                    ));
                }
            }
            if let Some(reason) = lookups.sensitive_at(p, e.at) {
                found.push(Self::daily(
                    AlertKind::SensitiveRecord,
                    e,
                    p,
                    format!(
                        "{} ({}) {} a record marked sensitive ({})",
                        who(e),
                        e.role,
                        if *record {
                            "read"
                        } else {
                            "found, in a search,"
                        },
                        sensitivity_in_words(reason)
                    ),
                ));
            }
        }
        let read: Vec<&str> = shown.iter().filter(|(_, r)| *r).map(|(p, _)| *p).collect();
        let threshold = self.config.bulk_reads_for(&e.role);
        if threshold > 0 && !read.is_empty() {
            let window = self.reads.entry(e.actor.clone()).or_default();
            for p in &read {
                window.push(e.at, (*p).to_owned(), e.entry_id, 1);
            }
            let distinct = window.distinct();
            if distinct > threshold as usize {
                let (id, new) = window.alert(AlertKind::BulkReads, &e.actor, e);
                let (evidence, people) = if new {
                    (window.evidence(), window.people())
                } else {
                    (
                        vec![e.entry_id],
                        read.iter().map(|p| (*p).to_owned()).collect(),
                    )
                };
                found.push(Self::raise(
                    AlertKind::BulkReads,
                    id,
                    e,
                    None,
                    format!(
                        "{} ({}) read the records of {distinct} people within an hour (the \
                         threshold for the role is {threshold})",
                        who(e),
                        e.role
                    ),
                    evidence,
                    people,
                ));
            }
        }

        if REFUSALS.contains(&e.status) && self.config.bulk_refusals > 0 {
            if let Some(p) = person.filter(|p| lookups.with_plans.contains(*p)) {
                // A window's closing entry counts the refusals folded into it (its first is an
                // entry of its own, counted already).
                let weight = e
                    .detail
                    .as_ref()
                    .and_then(|d| d["refusals"]["count"].as_u64())
                    .map_or(1, |n| n.saturating_sub(1));
                let window = self.refusals.entry(p.to_owned()).or_default();
                window.push(e.at, e.actor.clone(), e.entry_id, weight);
                if window.total >= u64::from(self.config.bulk_refusals) {
                    let (id, new) = window.alert(AlertKind::BulkRefusals, p, e);
                    found.push(Self::raise(
                        AlertKind::BulkRefusals,
                        id,
                        e,
                        Some(p),
                        format!(
                            "{} requests about the person were refused within an hour (the \
                             threshold is {})",
                            window.total, self.config.bulk_refusals
                        ),
                        if new {
                            window.evidence()
                        } else {
                            vec![e.entry_id]
                        },
                        vec![p.to_owned()],
                    ));
                }
            }
        }
        found
    }
}
