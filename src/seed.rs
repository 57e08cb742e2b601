//! Synthetic demo data: people with NHS numbers from the 999 test range and realistic plans, most
//! active, some withdrawn, deceased or voided, with varied sections filled.

use anyhow::Context;
use serde_json::json;
use ucp_api::auth::{Actor, Role};
use ucp_api::commands::{execute, Precondition};
use ucp_domain::{Command, DeathRecorded, LongText, NhsNumber, PlanVoided, PlanWithdrawn};
use ucp_store::Database;
use uuid::Uuid;

const FAMILY: [&str; 12] = [
    "Okafor",
    "Smith",
    "Nowak",
    "Patel",
    "O'Brien",
    "Zoë-Harris",
    "Khan",
    "Williams",
    "Mensah",
    "García",
    "Jones",
    "Ahmed",
];
const GIVEN: [&str; 10] = [
    "Margaret", "John", "Aisha", "Wojciech", "Siobhán", "Grace", "Imran", "Dorothy", "Kwame",
    "Lucía",
];
const POSTCODES: [&str; 8] = [
    "SE1 7EH", "E1 6AN", "N1 9GU", "SW1A 1AA", "W2 1NY", "NW1 2DB", "E15 4HT", "SE15 5DQ",
];

/// The i-th synthetic NHS number in the 999 range (skipping nine-digit stems with no check digit).
#[must_use]
pub fn demo_nhs_number(i: u32) -> NhsNumber {
    let mut stem = 999_000_000 + i * 13;
    loop {
        if let Some(n) = NhsNumber::from_first_nine(stem) {
            return n;
        }
        stem += 1;
    }
}

fn clinician() -> Actor {
    Actor {
        sub: "demo-clinician".into(),
        role: Role::Clinician,
        org: Some("F84001".into()),
        name: Some("Dr Demo Clinician".into()),
        nhs_number: None,
        expires_at: u64::MAX,
    }
}

/// The create command of the i-th demo person.
fn create_command(i: u32, nhs: NhsNumber) -> anyhow::Result<Command> {
    let idx = i as usize;
    let family = FAMILY[idx % FAMILY.len()];
    let given = GIVEN[(idx / 3) % GIVEN.len()];
    let year = 1925 + (i * 7) % 70;
    let mut body = json!({
        "personalInformation": {
            "nhsNumber": nhs.to_string(), "familyName": family, "givenName": given,
            "birthDate": format!("{year}-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            "address": { "lines": [format!("{} Example Road", 1 + i % 90), "London"], "postcode": POSTCODES[idx % POSTCODES.len()] },
            "phone": "020 7946 0000", "mainLanguage": "English", "interpreterNeeded": i % 9 == 4
        },
        "consentToShare": { "basis": if i % 6 == 5 { "best-interests" } else { "person-agreed" },
                            "decidedBy": "Dr Demo Clinician", "date": "2026-10-01" },
        "whatMatters": { "inTheirOwnWords": "Staying at home with my family around me." },
        "contacts": { "personal": [{ "name": "Sam Example", "relationship": "daughter", "nextOfKin": true,
            "lpaHealthAndWelfare": if i.is_multiple_of(2) { "yes" } else { "unknown" }, "lpaPropertyAndFinancial": "no",
            "phone": "07700 900123", "contactFirst": true }],
            "professional": [{ "name": "Example Medical Practice", "role": "GP practice", "odsCode": "F84001", "phone": "020 7946 0001" }] }
    });
    if i % 3 != 2 {
        body["emergencyTreatmentPlan"] = json!({
            "sharedUnderstanding": "Advanced heart failure; frail; wishes to stay at home.",
            "clinicalFocus": if i.is_multiple_of(2) { "symptom-control" } else { "life-sustaining-treatment" },
            "interventions": [{ "intervention": "Hospital admission", "recommended": i % 2 == 1, "reason": "Discussed with the person and family." }],
            "cprRecommendation": if i.is_multiple_of(2) { "attempts-not-recommended" } else { "attempts-recommended" },
            "capacity": "has-capacity", "involvement": "A",
            "signatures": [{ "name": "Dr Demo Clinician", "role": "GP", "registrationNumber": "GMC 7654321",
                             "seniorResponsible": true, "signedAt": "2026-10-01T10:00:00Z" }],
            "review": { "due": "2027-04-01" }
        });
        body["clinicalBackground"] = json!({ "conditions": [{ "name": "Heart failure", "snomedCode": "84114007" }], "allergies": ["Penicillin"] });
        body["anticipatoryMedicines"] = json!({ "medicines": [{ "name": "Morphine sulfate 10 mg/5 mL" }], "location": "Kitchen cupboard, blue box" });
    }
    if i % 4 == 1 {
        body["communicationAndAccessibility"] = json!({ "needs": [{ "kind": "hearing", "detail": "Hearing aid in the left ear" }],
            "accessToHome": "Key safe by the front door; code held by the daughter", "keySafe": true, "hazards": ["Dog in the house"] });
        body["thinkingAhead"] = json!({ "preferredPlaceOfCare": "Home", "preferredPlaceOfDeath": "Home",
            "advanceDecisionToRefuseTreatment": { "held": "no" } });
    }
    if i % 11 == 3 {
        body["sickleCellPlan"] = json!({ "ambulanceGuidance": "Give analgesia within 30 minutes; oxygen if saturation below 95%." });
    }
    let request: ucp_api::routes::care_plans::CreateCarePlanRequest =
        serde_json::from_value(body).context("demo plan")?;
    Ok(request.into_command())
}

/// Loads `count` demo people; people who already have a plan are skipped, so it is safe to run
/// again. Returns how many plans were created.
///
/// # Errors
/// When the database fails or a demo plan breaks a rule (a bug).
pub async fn seed(db: &Database, count: u32) -> anyhow::Result<u32> {
    let actor = clinician();
    let mut created = 0;
    for i in 0..count {
        let nhs = demo_nhs_number(i);
        if db.plan_for_person(&nhs.to_string()).await?.is_some() {
            continue;
        }
        let plan_id = Uuid::now_v7();
        let (view, _) = execute(
            db,
            plan_id,
            &actor,
            &create_command(i, nhs)?,
            Precondition::None,
            None,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating demo plan {i}: {e}"))?;
        let text = |s: &str| LongText::parse(s).map_err(|e| anyhow::anyhow!("{e}"));
        let closing = match i % 10 {
            7 => Some(Command::WithdrawCarePlan(PlanWithdrawn {
                reason: Some(text("The person no longer wants a plan.")?),
            })),
            8 => Some(Command::RecordDeath(DeathRecorded {
                date_of_death: chrono::Utc::now().date_naive(),
                place_of_death: None,
            })),
            9 => Some(Command::VoidCarePlan(PlanVoided {
                reason: text("Created for the wrong person.")?,
            })),
            _ => None,
        };
        if let Some(command) = closing {
            execute(
                db,
                plan_id,
                &actor,
                &command,
                Precondition::Plan(view.version),
                None,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("closing demo plan {i}: {e}"))?;
        }
        created += 1;
    }
    Ok(created)
}
