//! A demo day of accesses, for the privacy officer's walkthrough: the access-log entries of
//! what the demo people's crews, GPs, 111, dispatch and care homes did in a day — ordinary
//! reads, and among them one access of each kind that needs a reason. They are written as the
//! API writes entries (the same columns and views), marked `demo-day-…` in `request_id`, so that
//! the scanner raises one open alert of each kind from them (and a cleared one: a home's
//! admission a clinician confirmed). Every entry is at the time of seeding: a day compressed
//! into a few milliseconds.

use chrono::{DateTime, Duration, Utc};
use ucp_app::commands::{execute, Precondition};
use ucp_app::{Actor, Role};
use ucp_domain::sensitivity::{SensitivityMarked, SensitivityReason};
use ucp_domain::{Command, PlanStatus};
use ucp_store::{AccessEntry, AccessQuery, Database, PlanRow};
use uuid::Uuid;

use crate::seed::demo_nhs_number;

/// The staff member whose own family name and postcode are those of 9990000263 (index 2 of the
/// demo: Nowak, N1 9GU), as `config/staff-directory.example.csv` records them.
pub const FAMILY_READER: &str = "demo-gp-nowak";

struct Who {
    actor: &'static str,
    name: &'static str,
    role: &'static str,
    org: &'static str,
}

const CREW: Who = Who {
    actor: "demo-crew-1",
    name: "Crew Demo One",
    role: "ambulance",
    org: "RRU",
};
const BUSY_CREW: Who = Who {
    actor: "demo-crew-2",
    name: "Crew Demo Two",
    role: "ambulance",
    org: "RRU",
};
const NHS111: Who = Who {
    actor: "demo-111",
    name: "111 Clinician Demo",
    role: "nhs111",
    org: "NLO11",
};
const GP: Who = Who {
    actor: "demo-gp",
    name: "Dr Demo Clinician",
    role: "clinician",
    org: "F84001",
};
const LOCUM: Who = Who {
    actor: "demo-gp-locum",
    name: "Dr Demo Locum",
    role: "clinician",
    org: "F84001",
};
const NOWAK: Who = Who {
    actor: FAMILY_READER,
    name: "Dr Ewa Nowak",
    role: "clinician",
    org: "F84002",
};
const DISPATCH: Who = Who {
    actor: "demo-cad",
    name: "London Ambulance Service CAD",
    role: "dispatch",
    org: "RRU",
};
const HOME: Who = Who {
    actor: "demo-carer-VM1A2",
    name: "Demo Carer",
    role: "care-home",
    org: "VM1A2",
};

struct Day {
    at: DateTime<Utc>,
    n: u32,
    entries: Vec<AccessEntry>,
}

impl Day {
    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        who: &Who,
        purpose: Option<&str>,
        (method, action, path): (&str, &str, String),
        plan: Option<&PlanRow>,
        nhs_number: Option<String>,
        view: Option<&str>,
        status: i16,
        detail: Option<serde_json::Value>,
    ) {
        self.n += 1;
        self.entries.push(AccessEntry {
            entry_id: Uuid::now_v7(),
            at: self.at + Duration::milliseconds(i64::from(self.n)),
            actor: who.actor.to_owned(),
            actor_name: (who.role != "none").then(|| who.name.to_owned()),
            role: who.role.to_owned(),
            organisation: (who.role != "none").then(|| who.org.to_owned()),
            purpose: purpose.map(str::to_owned),
            action: action.to_owned(),
            method: method.to_owned(),
            path,
            plan_id: plan.map(|p| p.plan_id),
            nhs_number: nhs_number.or_else(|| plan.map(|p| p.nhs_number.to_string())),
            plan_version: plan.map(|p| p.version),
            view: view.map(str::to_owned),
            section: None,
            search_criteria: None,
            search_results: None,
            returned_nhs_numbers: Vec::new(),
            request_id: Some(format!("demo-day-{}", self.n)),
            status,
            detail,
            issuer: (who.role != "none").then(|| "development".to_owned()),
            credential: None,
            proofing_level: None,
            on_behalf_of: None,
        });
    }

    fn summary(&mut self, who: &Who, purpose: &str, plan: &PlanRow) {
        let view = if who.role == "care-home" {
            "care-home-summary"
        } else {
            "summary"
        };
        self.entry(
            who,
            Some(purpose),
            (
                "GET",
                "getEmergencySummary",
                format!("/v1/patients/{}/emergency-summary", plan.nhs_number),
            ),
            Some(plan),
            None,
            Some(view),
            200,
            None,
        );
    }

    fn plan(&mut self, who: &Who, purpose: &str, plan: &PlanRow) {
        self.entry(
            who,
            Some(purpose),
            (
                "GET",
                "getCarePlan",
                format!("/v1/care-plans/{}", plan.plan_id),
            ),
            Some(plan),
            None,
            Some("plan"),
            200,
            None,
        );
    }
}

/// Writes the demo day unless it was written already; marks demo person 6's record sensitive
/// first (a clinician's act, through the write path). Returns how many entries were written.
///
/// # Errors
/// When the database fails, or a demo person is missing (seed at least 20 first).
pub async fn write(db: &Database) -> anyhow::Result<usize> {
    let done = db
        .access_log(&AccessQuery {
            actor: Some(CREW.actor.to_owned()),
            limit: 1,
            ..AccessQuery::default()
        })
        .await?;
    if !done.is_empty() {
        return Ok(0);
    }
    let mut people = Vec::new();
    for i in 0..20 {
        let row = db
            .plan_for_person(demo_nhs_number(i))
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo person {i} has no plan: seed 20 first"))?;
        people.push(row);
    }
    // A clinician marks person 6's record sensitive (a member of staff).
    let marker = Actor {
        org: Some(GP.org.into()),
        name: Some(GP.name.into()),
        ..Actor::new(GP.actor, Role::Clinician)
    };
    if people[6].document.get("sensitivity").is_none() {
        let command = Command::MarkSensitive(SensitivityMarked {
            reason: SensitivityReason::MemberOfStaff,
        });
        let plan = execute(
            db,
            ucp_app::commands::Order {
                plan_id: people[6].plan_id,
                actor: &marker,
                command: &command,
                precondition: Precondition::Plan(people[6].version),
                idempotency: None,
                request_id: Some("demo-day-mark".into()),
                signing: ucp_domain::signing::SigningPolicy::default_ref(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("marking demo person 6 sensitive: {e}"))?
        .plan;
        people[6].version = plan.version;
    }
    // The ordinary reads are of active plans, never of the record marked sensitive (any read of
    // which raises an alert: that is its one planned read, below).
    let active: Vec<&PlanRow> = people
        .iter()
        .enumerate()
        .filter(|(i, p)| *i != 6 && p.status == PlanStatus::Active)
        .map(|(_, p)| p)
        .collect();
    let mut day = Day {
        at: Utc::now(),
        n: 0,
        entries: Vec::new(),
    };

    // The ordinary day.
    for p in active.iter().take(3) {
        day.summary(&CREW, "emergency", p);
    }
    for p in active.iter().skip(3).take(2) {
        day.summary(&NHS111, "emergency", p);
    }
    for p in active.iter().take(5) {
        day.plan(&GP, "direct-care", p);
    }
    for p in &active {
        day.summary(&DISPATCH, "emergency", p);
    }
    day.summary(&HOME, "direct-care", &people[15]);
    day.plan(&NOWAK, "direct-care", &people[0]);

    // 1. A care home's own admissions (each entry at the plan version its admission made);
    //    a clinician confirms the second, naming that version.
    let residence_version = |p: &PlanRow| p.document["residence"]["version"].as_i64();
    for i in [14, 15] {
        let admitted = PlanRow {
            version: residence_version(&people[i])
                .ok_or_else(|| anyhow::anyhow!("demo person {i} has no residence"))?,
            ..people[i].clone()
        };
        day.entry(
            &HOME,
            None,
            ("POST", "admitResident", "/v1/care-home/residents".into()),
            Some(&admitted),
            None,
            Some("residence"),
            201,
            Some(serde_json::json!({ "careHome": HOME.org })),
        );
    }
    day.entry(
        &GP,
        None,
        (
            "POST",
            "confirmResidence",
            format!("/v1/care-plans/{}/residence/confirm", people[15].plan_id),
        ),
        Some(&people[15]),
        None,
        Some("residence"),
        200,
        Some(serde_json::json!({
            "careHome": HOME.org,
            "residenceVersion": residence_version(&people[15]),
        })),
    );
    // 2. A GP states an emergency.
    day.plan(&LOCUM, "emergency", &people[3]);
    // 3. A crew reads eleven people within the hour (more than ambulance=10).
    anyhow::ensure!(
        active.len() >= 11,
        "the demo has fewer than 11 active plans"
    );
    for p in active.iter().take(11) {
        day.summary(&BUSY_CREW, "emergency", p);
    }
    // 4. Dr Nowak reads the record of a Nowak at her own postcode (person 2).
    day.plan(&NOWAK, "direct-care", &people[2]);
    // 5. A crew reads the record marked sensitive.
    day.summary(&CREW, "emergency", &people[6]);
    // 6. Thirty refused requests about person 9 from someone without a valid sign-in: the
    //    first written as it happened, the rest counted into the window's closing entry.
    let nobody = Who {
        actor: "anonymous",
        name: "",
        role: "none",
        org: "",
    };
    let path = format!("/v1/patients/{}/emergency-summary", people[9].nhs_number);
    let from = day.at;
    for closing in [false, true] {
        day.entry(
            &nobody,
            None,
            ("GET", "getEmergencySummary", path.clone()),
            None,
            Some(people[9].nhs_number.to_string()),
            None,
            401,
            closing.then(|| {
                serde_json::json!({ "refusals": {
                    "count": 30, "from": from, "to": from + Duration::seconds(50) } })
            }),
        );
    }
    db.record_access(&day.entries).await?;
    Ok(day.entries.len())
}
