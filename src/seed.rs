//! Synthetic demo data: people with NHS numbers from the 999 test range and realistic plans, most
//! active, some withdrawn, deceased or voided, with varied sections filled.

use anyhow::Context;
use serde_json::json;
use ucp_app::commands::{execute, Order, Precondition};
use ucp_app::{Actor, Role};
use ucp_domain::{
    Command, DeathRecorded, DeathRetracted, LongText, NhsNumber, PlanReviewed, PlanVoided,
    PlanWithdrawn, SectionRetracted,
};
use ucp_store::bulk_load::{BulkLoader, BulkStream};
use ucp_store::{Database, DatabaseTls};
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

/// The i-th synthetic NHS number (skipping nine-digit stems with no check digit). The first
/// 70,000 are in the 999 test range, 13 stems apart; beyond that (the benchmark's scale run of a
/// million) they come from 990 000 000 up, 3 stems apart, never reaching the 999 range. Numbers
/// starting with 9 are not issued to people.
#[must_use]
pub fn demo_nhs_number(i: u32) -> NhsNumber {
    let mut stem = if i < 70_000 {
        999_000_000 + i * 13
    } else {
        990_000_000 + (i - 70_000) * 3
    };
    // Every window of 3 stems holds a valid number (the test below checks the whole range), so
    // the i-th never takes the (i+1)-th's number.
    loop {
        if let Some(n) = NhsNumber::from_first_nine(stem) {
            return n;
        }
        stem += 1;
    }
}

/// The daughter every demo person names; where she holds their LPA for health and welfare,
/// with her own NHS number (from the 999 range, above every demo person's) and the LPA's
/// registration reference, so that a clinician can grant her proxy access in the demo.
fn sam_example(i: u32, lpa: bool, contact_first: bool) -> serde_json::Value {
    let mut sam = json!({ "name": "Sam Example", "relationship": "daughter", "nextOfKin": true,
        "lpaHealthAndWelfare": if lpa { "yes" } else { "unknown" }, "lpaPropertyAndFinancial": "no",
        "phone": "07700 900123", "contactFirst": contact_first });
    if lpa {
        let mut stem = 999_920_000 + (i % 6_000) * 13;
        let attorney = loop {
            if let Some(n) = NhsNumber::from_first_nine(stem) {
                break n;
            }
            stem += 1;
        };
        sam["nhsNumber"] = json!(attorney.to_string());
        sam["lpaRegistrationReference"] =
            json!(format!("7000-{:04}-{:04}", i / 10_000 % 10_000, i % 10_000));
        sam["lpaCoversLifeSustainingTreatment"] = json!("yes");
    }
    if scenario(i) == 12 {
        // The demo child: Sam is their mother, with parental responsibility.
        sam["relationship"] = json!("mother");
        sam["parentalResponsibility"] = json!(true);
    }
    sam
}

fn clinician() -> Actor {
    Actor {
        org: Some("F84001".into()),
        name: Some("Dr Demo Clinician".into()),
        ..Actor::new("demo-clinician", Role::Clinician)
    }
}

/// The demo people the README and its walkthrough name: their details never change.
const DOCUMENTED_PEOPLE: u32 = 20;

/// Which shape the i-th demo person shows; the first 20 show every one.
fn scenario(i: u32) -> u32 {
    i % 20
}

/// The create command of the i-th demo person.
#[allow(clippy::too_many_lines)] // one demo person after another
fn create_command(i: u32, nhs: NhsNumber) -> anyhow::Result<Command> {
    let idx = i as usize;
    let family = FAMILY[idx % FAMILY.len()];
    let given = GIVEN[(idx / 3) % GIVEN.len()];
    let shape = scenario(i);
    let birth = if shape == 12 {
        // A child: modified CPR, involvement C1 with C3.
        format!("2016-{:02}-{:02}", 1 + i % 12, 1 + i % 28)
    } else if i < DOCUMENTED_PEOPLE {
        format!(
            "{}-{:02}-{:02}",
            1925 + (i * 7) % 70,
            1 + i % 12,
            1 + i % 28
        )
    } else {
        // Spread over 70 years as a real population is, so that a search by birth date at a
        // million plans finds tens of people, not thousands.
        let day = chrono::NaiveDate::from_ymd_opt(1925, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from((i * 7_919) % 25_550))))
            .unwrap_or_default();
        day.format("%Y-%m-%d").to_string()
    };
    let postcode = if i < DOCUMENTED_PEOPLE {
        POSTCODES[idx % POSTCODES.len()].to_owned()
    } else {
        // Thousands of postcodes: the outward codes above, an inward code from i.
        let letters = b"ABDEFGHJLNPQRSTUWXYZ";
        let n = (i / 8) as usize;
        let outward = POSTCODES[idx % POSTCODES.len()]
            .split(' ')
            .next()
            .unwrap_or("SE1");
        format!(
            "{outward} {}{}{}",
            n % 10,
            letters[(n / 10) % letters.len()] as char,
            letters[(n / 200) % letters.len()] as char
        )
    };
    let lpa = shape == 1 || shape == 13;
    let mut body = json!({
        "personalInformation": {
            "nhsNumber": nhs.to_string(), "familyName": family, "givenName": given,
            "birthDate": birth,
            "address": { "lines": [format!("{} Example Road", 1 + i % 90), "London"], "postcode": postcode },
            "phone": "020 7946 0000", "mainLanguage": "English", "interpreterNeeded": i % 9 == 4
        },
        "consentToShare": { "basis": if i % 6 == 5 { "best-interests" } else { "person-agreed" },
                            "decidedBy": "Dr Demo Clinician", "date": "2026-10-01" },
        "whatMatters": { "inTheirOwnWords": "Staying at home with my family around me." },
        "contacts": { "personal": [sam_example(i, lpa, shape != 14)],
            "professional": [
                { "name": "Example Medical Practice", "role": "GP practice", "odsCode": "F84001", "phone": "020 7946 0001" },
                { "name": "Community palliative care team", "role": "Palliative care line (24 h)", "phone": "020 7946 0002" }
            ] }
    });
    let (cpr, details) = match shape {
        0 | 5 | 11 | 15 => ("attempts-recommended", None),
        // Modified CPR is a child's (ReSPECT v3): the demo child.
        12 => (
            "modified-cpr",
            Some("Chest compressions and defibrillation only; no intubation."),
        ),
        _ => ("attempts-not-recommended", None),
    };
    if shape != 3 && shape != 16 {
        // Signed a while ago; the overdue one (5) was due for review in the past.
        let (signed, due) = if shape == 5 {
            ("2025-03-01T10:00:00Z", "2025-09-01")
        } else {
            ("2026-10-01T10:00:00Z", "2027-04-01")
        };
        let involvement = if shape == 12 {
            json!(["C1", "C3"])
        } else {
            json!(["A"])
        };
        body["emergencyTreatmentPlan"] = json!({
            "sharedUnderstanding": "Advanced heart failure; frail; wishes to stay at home.",
            "clinicalFocus": if cpr == "attempts-recommended" { "life-sustaining-treatment" } else { "symptom-control" },
            "interventions": [{ "intervention": "Hospital admission", "recommended": cpr != "attempts-not-recommended", "reason": "Discussed with the person and family." }],
            "cprRecommendation": cpr, "modifiedCprDetails": details,
            "capacity": "has-capacity", "involvement": involvement,
            "involvementDetail": "Discussed at home with the person and their daughter.",
            "emergencyContacts": [{ "name": "Sam Example", "roleOrRelationship": "daughter", "phone": "07700 900123", "primary": true }],
            "review": { "due": due }
        });
        if shape == 5 {
            // A paper form signed long ago, typed in afterwards: its signature is transcribed.
            body["emergencyTreatmentPlan"]["signatures"] = json!([{ "name": "Dr Paper Signer", "role": "GP",
                "registrationNumber": "GMC 7654322", "seniorResponsible": true, "signedAt": signed,
                "method": "transcribed-from-paper" }]);
        } else if shape == 19 {
            // Signed by a doctor who is not a senior responsible clinician: it awaits one.
            body["emergencyTreatmentPlan"]["signAs"] = json!({ "role": "Specialty doctor",
                "registrationNumber": "GMC 7654321", "seniorResponsible": false });
        } else {
            // The saving GP signs it, by their own request.
            body["emergencyTreatmentPlan"]["signAs"] = json!({ "role": "GP",
                "registrationNumber": "GMC 7654321", "seniorResponsible": true });
        }
        body["emergencyTreatmentPlan"]["whatMatters"] = json!({
            "priorityScale": 7, "mostValue": "Being comfortable at home.", "mostFearOrAvoid": "Dying in hospital."
        });
        if shape == 13 {
            // An adult who lacks capacity, the plan made with their attorney, whose LPA
            // covers life-sustaining treatment (involvement B).
            body["emergencyTreatmentPlan"]["legalWelfareProxy"] =
                json!("Sam Example (LPA for health and welfare)");
            body["emergencyTreatmentPlan"]["legalProxyParticipation"] =
                json!("Took part in the discussion and agreed the plan.");
            body["emergencyTreatmentPlan"]["capacity"] = json!("lacks-capacity");
            body["emergencyTreatmentPlan"]["involvement"] = json!(["B"]);
            body["emergencyTreatmentPlan"]["involvementDetail"] =
                json!("Made with Sam Example, attorney for health and welfare.");
        }
        body["clinicalBackground"] = json!({ "conditions": [{ "name": "Heart failure", "snomedCode": "84114007" }],
            "allergies": if shape.is_multiple_of(2) { json!(["Penicillin"]) } else { json!([]) },
            "noKnownAllergies": shape % 2 == 1,
            "currentMedicines": [{ "name": "Furosemide 40 mg", "doseAndRoute": "once a day by mouth" }] });
        // London UCP's items beside the ReSPECT form.
        match shape {
            1 => {
                body["clinicalBackground"]["prognosis"] = json!("weeks");
                body["clinicalBackground"]["deathExpected"] = json!(true);
                body["clinicalBackground"]["deathVerifiedBy"] =
                    json!("District nurses, 020 7946 0009");
                body["clinicalBackground"]["livesAlone"] = json!("yes");
            }
            12 => {
                body["clinicalBackground"]["weight"] =
                    json!({ "kilograms": 24.5, "measuredOn": "2026-10-01" });
            }
            13 => {
                body["clinicalBackground"]["dolsInPlace"] = json!("yes");
                body["clinicalBackground"]["prognosis"] = json!("months");
            }
            _ => {}
        }
        body["anticipatoryMedicines"] = json!({ "medicines": [{ "name": "Morphine sulfate 10 mg/5 mL",
            "doseAndRoute": "2.5–5 mg subcutaneously", "indication": "Pain or breathlessness" }],
            "location": "Kitchen cupboard, blue box" });
    }
    if i % 4 == 1 || shape == 1 {
        body["communicationAndAccessibility"] = json!({ "needs": [{ "kind": "hearing", "detail": "Hearing aid in the left ear" }],
            "accessToHome": "Key safe by the front door; code held by the daughter", "keySafe": true, "hazards": ["Dog in the house"] });
        body["thinkingAhead"] = json!({ "preferredPlaceOfCare": "Home", "preferredPlaceOfDeath": "Home",
            "religiousAndCulturalNeeds": "Catholic; would like a priest called.",
            "advanceDecisionToRefuseTreatment": if shape == 1 {
                json!({ "held": "yes", "location": "In the red folder by the bed",
                        "refuses": "Mechanical ventilation and tube feeding",
                        "circumstances": "If I can no longer recognise my family" })
            } else {
                json!({ "held": "no" })
            } });
    }
    if i % 11 == 3 {
        body["sickleCellPlan"] = json!({ "ambulanceGuidance": "Give analgesia within 30 minutes; oxygen if saturation below 95%." });
    }
    let request: ucp_domain::CreateCarePlanRequest =
        serde_json::from_value(body).context("demo plan")?;
    Command::create_plan(request.into_contents())
        .map_err(|e| anyhow::anyhow!("demo plan {i}: {e:?}"))
}

/// What happens to the i-th demo plan after it is made, in order.
fn afterwards(i: u32, nhs: NhsNumber) -> anyhow::Result<Vec<(Actor, Command)>> {
    let text = |s: &str| LongText::parse(s).map_err(|e| anyhow::anyhow!("{e}"));
    let by = clinician();
    Ok(match scenario(i) {
        4 => {
            // The person writes their own What Matters form.
            let words = ucp_domain::PlanSection::WhatMatters
                .parse_content(
                    json!({ "inTheirOwnWords": "My cat Biscuit, my garden, and being at home." }),
                )
                .map_err(|e| anyhow::anyhow!("{}: {}", e.pointer, e.detail))?;
            vec![(person(nhs), Command::UpdateSection(words))]
        }
        6 => vec![(
            by,
            Command::RetractSection(SectionRetracted {
                section: ucp_domain::PlanSection::ClinicalBackground,
                reason: text("Entered on the wrong person's plan.")?,
            }),
        )],
        7 => vec![(
            by,
            Command::WithdrawCarePlan(PlanWithdrawn {
                reason: Some(text("The person no longer wants a plan.")?),
                consent_withdrawn: false,
            }),
        )],
        8 => vec![(
            by,
            Command::RecordDeath(DeathRecorded {
                date_of_death: chrono::Utc::now().date_naive(),
                place_of_death: None,
            }),
        )],
        9 => vec![(
            by,
            Command::VoidCarePlan(PlanVoided {
                reason: text("Created for the wrong person.")?,
            }),
        )],
        10 => vec![
            (
                by.clone(),
                Command::RecordDeath(DeathRecorded {
                    date_of_death: chrono::Utc::now().date_naive(),
                    place_of_death: None,
                }),
            ),
            (
                by,
                Command::RetractDeath(DeathRetracted {
                    reason: text("Recorded on the wrong person: their namesake died.")?,
                }),
            ),
        ],
        11 => vec![(
            by,
            Command::ReviewCarePlan(PlanReviewed {
                next_review_date: chrono::Utc::now().date_naive() + chrono::Days::new(90),
                note: Some(text("Condition has changed; the plan needs redoing.")?),
                still_valid: Some(false),
            }),
        )],
        18 => {
            // An out-of-hours GP changes the decision and does not sign it: "changed after
            // signing" until someone does.
            let Some(mut etp) = demo_etp(i, nhs)? else {
                return Ok(Vec::new());
            };
            etp.sign_as = None;
            etp.cpr_recommendation = ucp_domain::CprRecommendation::AttemptsRecommended;
            etp.clinical_focus = ucp_domain::ClinicalFocus::LifeSustainingTreatment;
            vec![(
                out_of_hours(),
                Command::UpdateSection(ucp_domain::SectionContent::EmergencyTreatmentPlan(etp)),
            )]
        }
        14 | 15 => {
            // A care home admits the person (its own declaration); for the second, a clinician
            // has confirmed it since.
            let (home, name) = care_home(i);
            let admission = ucp_domain::residence::ResidenceRecorded {
                care_home: ucp_domain::residence::CareHome {
                    ods_code: ucp_domain::OdsCode::parse(home)
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                    name: ucp_domain::ShortText::parse(name).map_err(|e| anyhow::anyhow!("{e}"))?,
                },
                since: chrono::Utc::now().date_naive() - chrono::Days::new(30),
            };
            let admitted = (care_home_staff(i), Command::AdmitResident(admission));
            if scenario(i) == 14 {
                vec![admitted]
            } else {
                let confirmation =
                    Command::ConfirmResidence(ucp_domain::residence::ResidenceConfirmed {
                        ods_code: ucp_domain::OdsCode::parse(home)
                            .map_err(|e| anyhow::anyhow!("{e}"))?,
                    });
                vec![admitted, (by, confirmation)]
            }
        }
        17 => vec![(
            // The person withdraws their consent to share (not the clinical decision).
            person(nhs),
            Command::WithdrawConsentToShare(ucp_domain::ConsentWithdrawn {
                reason: Some(text("I do not want my plan shared any more.")?),
            }),
        )],
        _ => Vec::new(),
    })
}

fn order<'a>(
    plan_id: Uuid,
    actor: &'a Actor,
    command: &'a Command,
    precondition: Precondition,
) -> Order<'a> {
    Order {
        plan_id,
        actor,
        command,
        precondition,
        idempotency: None,
        request_id: None,
        signing: ucp_domain::signing::SigningPolicy::default_ref(),
    }
}

/// The Emergency Treatment Plan the i-th demo person's plan is created with, as sent.
fn demo_etp(i: u32, nhs: NhsNumber) -> anyhow::Result<Option<ucp_domain::EmergencyTreatmentPlan>> {
    let Command::CreateCarePlan { other_sections, .. } = create_command(i, nhs)? else {
        return Ok(None);
    };
    Ok(other_sections.into_iter().find_map(|s| match s {
        ucp_domain::SectionContent::EmergencyTreatmentPlan(etp) => Some(etp),
        _ => None,
    }))
}

/// The demo care homes: the documented people's is Rosewood Care Home (`VM1A2`).
const CARE_HOMES: [(&str, &str); 4] = [
    ("VM1A2", "Rosewood Care Home"),
    ("VM2B3", "Oak Lodge"),
    ("VM3C4", "The Willows Nursing Home"),
    ("VM4D5", "St Anne's House"),
];

/// The care home of the i-th demo person, if they live in one (scenarios 14 and 15).
fn care_home(i: u32) -> (&'static str, &'static str) {
    CARE_HOMES[(i / 20) as usize % CARE_HOMES.len()]
}

/// A member of staff of the i-th demo person's care home.
fn care_home_staff(i: u32) -> Actor {
    let (home, name) = care_home(i);
    Actor {
        org: Some(home.into()),
        org_name: Some(name.into()),
        name: Some("Demo Carer".into()),
        ..Actor::new(format!("demo-carer-{home}"), Role::CareHome)
    }
}

fn out_of_hours() -> Actor {
    Actor {
        org: Some("NLO12".into()),
        name: Some("Dr Demo Out-of-hours".into()),
        ..Actor::new("demo-ooh-gp", Role::Ooh)
    }
}

fn person(nhs: NhsNumber) -> Actor {
    Actor {
        nhs_number: Some(nhs),
        proofing: Some(ucp_app::Proofing {
            level: ucp_app::ProofingLevel::P9,
            required: ucp_app::ProofingLevel::P9,
        }),
        ..Actor::new(format!("nhs-login-{nhs}"), Role::Patient)
    }
}

/// Loads `count` demo people; people who already have a plan are skipped, so it is safe to run
/// again. Returns how many plans were created.
///
/// # Errors
/// When the database fails or a demo plan breaks a rule (a bug).
pub async fn seed(db: &Database, count: u32, jobs: u32) -> anyhow::Result<u32> {
    let progress = indicatif::ProgressBar::new(u64::from(count));
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {pos}/{len} plans, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    progress.set_message("seed");
    let jobs = jobs.max(1);
    let mut tasks = Vec::new();
    for job in 0..jobs {
        let db = db.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut created = 0u32;
            // Person i goes to job i mod jobs: every job has a share of every shape.
            for i in (job..count).step_by(usize::try_from(jobs).unwrap_or(1)) {
                if seed_one(&db, i).await? {
                    created += 1;
                }
                progress.inc(1);
            }
            anyhow::Ok(created)
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await.context("a seeding task failed")??;
    }
    progress.finish_and_clear();
    Ok(created)
}

/// The i-th demo person's plan and its later changes, unless they have a plan already.
async fn seed_one(db: &Database, i: u32) -> anyhow::Result<bool> {
    let actor = clinician();
    let nhs = demo_nhs_number(i);
    if db.plan_for_person(nhs).await?.is_some() {
        return Ok(false);
    }
    let plan_id = Uuid::now_v7();
    let create = create_command(i, nhs)?;
    let mut view = execute(db, order(plan_id, &actor, &create, Precondition::None))
        .await
        .map_err(|e| anyhow::anyhow!("creating demo plan {i}: {e}"))?
        .plan;
    for (by, command) in afterwards(i, nhs)? {
        let precondition = Precondition::Plan(view.version);
        view = execute(db, order(plan_id, &by, &command, precondition))
            .await
            .map_err(|e| anyhow::anyhow!("changing demo plan {i}: {e}"))?
            .plan;
    }
    Ok(true)
}

/// The i-th demo person's plan as the events `seed_one` would append, decided and folded here
/// by the domain without the store, each recorded at the time it was decided.
///
/// # Errors
/// When a demo plan breaks a rule (a bug).
fn demo_stream(i: u32) -> anyhow::Result<BulkStream> {
    let nhs = demo_nhs_number(i);
    let mut commands = vec![(clinician(), create_command(i, nhs)?)];
    commands.extend(afterwards(i, nhs)?);
    let mut state: Option<ucp_domain::CarePlan> = None;
    let mut events = Vec::new();
    for (by, command) in commands {
        let now = chrono::Utc::now();
        let author = by.author();
        let ctx = ucp_domain::Context::new(by.kind(), &author, now);
        let decided = ucp_domain::decide(state.as_ref(), command, &ctx)
            .map_err(|e| anyhow::anyhow!("demo plan {i}: {e}"))?;
        for event in decided {
            let stored = ucp_app::commands::new_event(&event, &by, None)
                .map_err(|e| anyhow::anyhow!("demo plan {i}: {e}"))?;
            let envelope = ucp_domain::Envelope {
                version: i64::try_from(events.len())? + 1,
                at: now,
                author: ucp_domain::Author {
                    actor: by.sub.clone(),
                    name: by.name.clone(),
                    role: by.role.as_str().to_owned(),
                    organisation: by.org.clone(),
                    on_behalf_of: None,
                },
            };
            state = ucp_domain::evolve(state.take(), &event, &envelope);
            events.push((stored, now));
        }
    }
    Ok(BulkStream {
        stream_id: Uuid::now_v7(),
        stream_type: ucp_store::projections::care_plans::STREAM_TYPE.to_owned(),
        events,
    })
}

/// How many demo plans are copied per transaction by the bulk loader.
const BULK_CHUNK: usize = 2_000;

/// Loads `count` demo people in bulk: their events decided here and copied into the log a chunk
/// at a time, then the read models rebuilt from the log (`projections rebuild`). The same plans
/// and events as [`seed`], about four times faster (a million plans in minutes); people who
/// already have a plan are skipped.
/// As the database owner, and not while others write the same people.
///
/// # Errors
/// When the database fails or a demo plan breaks a rule (a bug).
pub async fn seed_bulk(owner_url: &str, tls: &DatabaseTls, count: u32) -> anyhow::Result<u32> {
    let existing = existing_people(owner_url, tls).await?;
    let progress = indicatif::ProgressBar::new(u64::from(count));
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {pos}/{len} plans, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    progress.set_message("load");
    let mut loader = BulkLoader::connect(owner_url, tls).await?;
    // Deciding here, copying there: the two overlap.
    let (chunks, mut received) = tokio::sync::mpsc::channel::<Vec<BulkStream>>(2);
    let decider = tokio::spawn(async move {
        let mut chunk = Vec::with_capacity(BULK_CHUNK);
        for i in 0..count {
            if existing.contains(&demo_nhs_number(i).to_string()) {
                continue;
            }
            chunk.push(demo_stream(i)?);
            if chunk.len() == BULK_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(BULK_CHUNK));
                if chunks.send(full).await.is_err() {
                    return anyhow::Ok(());
                }
            }
        }
        if !chunk.is_empty() {
            let _ = chunks.send(chunk).await;
        }
        anyhow::Ok(())
    });
    let mut created = 0u32;
    while let Some(chunk) = received.recv().await {
        loader.load(&chunk).await?;
        created += u32::try_from(chunk.len())?;
        progress.inc(u64::try_from(chunk.len())?);
    }
    decider.await.context("the deciding task failed")??;
    progress.finish_and_clear();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "read models {wide_bar} {pos}/{len} plans, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    ucp_store::projections::rebuild::rebuild_care_plan_read_models(
        owner_url,
        tls,
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await?;
    bar.finish_and_clear();
    Ok(created)
}

/// The NHS numbers that have a plan already.
async fn existing_people(
    owner_url: &str,
    tls: &DatabaseTls,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let (client, connection) = ucp_store::tls::parse_url(owner_url)?
        .connect(tls.connector()?)
        .await?;
    let driver = tokio::spawn(connection);
    let rows = client
        .query("SELECT DISTINCT nhs_number FROM care_plan_view", &[])
        .await?;
    drop(client);
    let _ = driver.await;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

#[cfg(test)]
mod tests {
    use super::demo_nhs_number;

    #[test]
    fn demo_nhs_numbers_are_distinct_for_the_scale_run() {
        let mut seen = std::collections::HashSet::new();
        let people: std::collections::BTreeSet<u32> =
            (0..1_100_000).step_by(7).chain(69_990..70_010).collect();
        for i in people {
            assert!(
                seen.insert(demo_nhs_number(i)),
                "person {i} shares a number"
            );
        }
        for i in 0..1_100_000u32 {
            let (start, step) = if i < 70_000 {
                (999_000_000 + i * 13, 13)
            } else {
                (990_000_000 + (i - 70_000) * 3, 3)
            };
            assert!(
                (start..start + step).any(|s| ucp_domain::NhsNumber::from_first_nine(s).is_some()),
                "no valid number in person {i}'s window"
            );
        }
    }
}
