//! The mapping checked on a plan with every section filled in.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use ucp_domain::{
    evolve, Author, CarePlan, CarePlanEvent, Envelope, PlanCreated, PlanSection, SectionContent,
};
use uuid::Uuid;

use crate::extensions::{CANONICAL_BASE, EXTENSIONS};
use crate::{plan_of, plan_resources, pointers, FhirSettings, ResourceType};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, minute, 0)
        .single()
        .unwrap_or_default()
}

fn clinician() -> Author {
    Author {
        actor: "clinician-1".into(),
        name: Some("Dr Ada Clinician".into()),
        role: "clinician".into(),
        organisation: Some("F84001".into()),
        on_behalf_of: None,
    }
}

fn section(name: &str, body: Value) -> SectionContent {
    PlanSection::from_name(name)
        .and_then(|s| s.parse_content(body).ok())
        .unwrap_or_else(|| panic!("fixture section {name} does not parse"))
}

fn apply(plan: Option<CarePlan>, event: CarePlanEvent, version: i64) -> Option<CarePlan> {
    let env = Envelope {
        version,
        at: at(u32::try_from(version).unwrap_or(0)),
        author: clinician(),
    };
    evolve(plan, &event, &env)
}

fn etp(cpr: &str) -> Value {
    json!({
        "sharedUnderstanding": "Advanced COPD; frail.", "otherPlanningDocuments": "ADRT in the kitchen drawer", "legalWelfareProxy": "Sam Nowak (LPA)", "legalProxyParticipation": "Present at the discussion", "clinicalFocus": "symptom-control",
        "interventions": [{"intervention": "Hospital admission", "recommended": false, "reason": "Wishes to stay at home"}],
        "cprRecommendation": cpr, "modifiedCprDetails": if cpr == "modified-cpr" { json!("Chest compressions only; no intubation.") } else { Value::Null },
        "capacity": "has-capacity", "involvement": ["A"],
        "whatMatters": {"priorityScale": 8, "mostValue": "Being at home", "mostFearOrAvoid": "Dying in hospital"},
        "signatures": [{"name": "Dr A", "role": "GP", "registrationNumber": "GMC 1234567", "seniorResponsible": true, "signedAt": "2026-11-01T09:00:00Z"}],
        "emergencyContacts": [{"name": "Sam Nowak", "roleOrRelationship": "Son", "phone": "07700 900001", "primary": true}],
        "review": {"due": "2027-05-01"}
    })
}

/// A plan with every section: what a demo person looks like at its fullest.
fn full_plan(cpr: &str) -> CarePlan {
    let created = CarePlanEvent::Created(PlanCreated {
        personal_information: match section(
            "personal-information",
            json!({
                "nhsNumber": "9434765919", "familyName": "Nowak", "givenName": "Zoë", "preferredName": "Zo",
                "birthDate": "1941-02-03", "gender": "Female",
                "address": {"lines": ["2 Example Road", "London"], "postcode": "se1 7eh"},
                "phone": "020 7946 0000", "mainLanguage": "Polish", "interpreterNeeded": true
            }),
        ) {
            SectionContent::PersonalInformation(p) => p,
            _ => unreachable!(),
        },
        consent_to_share: match section(
            "consent-to-share",
            json!({"basis": "best-interests", "decidedBy": "Dr B", "consulted": ["Sam Nowak"], "date": "2026-11-01"}),
        ) {
            SectionContent::ConsentToShare(c) => c,
            _ => unreachable!(),
        },
    });
    let sections = [
        (
            "contacts",
            json!({
                "personal": [{"name": "Sam Nowak", "relationship": "Son", "nextOfKin": true, "carer": true,
                    "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "unknown", "phone": "07700 900001", "contactFirst": true}],
                "professional": [
                    {"name": "Example Surgery", "role": "GP practice", "odsCode": "F84001", "phone": "020 7946 0001"},
                    {"name": "Jo Key", "role": "Key worker", "phone": "020 7946 0002"}
                ]
            }),
        ),
        (
            "communication-and-accessibility",
            json!({
                "needs": [{"kind": "hearing", "detail": "Deaf in the left ear; speak on the right."}],
                "howBestToCommunicate": "Slowly, face to face.",
                "accessToHome": "Key safe by the door, code 1234.", "keySafe": true,
                "hazards": ["Oxygen in use"]
            }),
        ),
        (
            "what-matters",
            json!({"inTheirOwnWords": "My garden, and my grandchildren — «always»."}),
        ),
        (
            "thinking-ahead",
            json!({
                "preferredPlaceOfCare": "Home", "preferredPlaceOfDeath": "Home",
                "religiousAndCulturalNeeds": "Catholic; would like a priest.",
                "advanceDecisionToRefuseTreatment": {"held": "yes", "location": "Kitchen drawer"},
                "otherPlanningDocuments": [{"name": "Will", "location": "Solicitor"}]
            }),
        ),
        (
            "support-needs",
            json!({"needs": [{"need": "Help washing", "providedBy": "Carers twice a day", "contact": "020 7946 0003"}]}),
        ),
        ("emergency-treatment-plan", etp(cpr)),
        (
            "clinical-background",
            json!({
                "conditions": [{"name": "COPD", "snomedCode": "13645005"}, {"name": "Frailty"}],
                "allergies": ["Penicillin"], "relevantHistory": "Two admissions this year.",
                "prognosis": "months", "deathExpected": true,
                "deathVerifiedBy": "District nurses, 020 7946 0009", "dolsInPlace": "no",
                "safeguardingConcerns": "None known.", "livesAlone": "yes",
                "currentMedicines": [{"name": "Furosemide 40 mg", "doseAndRoute": "once a day by mouth"}],
                "weight": {"kilograms": 61.5, "measuredOn": "2026-11-01"}
            }),
        ),
        (
            "anticipatory-medicines",
            json!({
                "medicines": [{"name": "Morphine sulfate 10 mg/5 ml", "doseAndRoute": "2.5 mg oral", "indication": "Breathlessness"}],
                "location": "Fridge", "symptomManagementPlan": "Morphine first, then call the team."
            }),
        ),
        (
            "sickle-cell-plan",
            json!({"ambulanceGuidance": "Oxygen and analgesia early."}),
        ),
        (
            "mental-health-crisis-plan",
            json!({"whatHelps": "Quiet room.", "crisisContacts": [{"name": "Crisis team", "roleOrRelationship": "Team", "phone": "020 7946 0004"}]}),
        ),
    ];
    let mut plan = apply(None, created, 1);
    for (i, (name, body)) in sections.into_iter().enumerate() {
        plan = apply(
            plan,
            CarePlanEvent::SectionChanged(section(name, body)),
            i64::try_from(i).unwrap_or(0) + 2,
        );
    }
    plan.unwrap_or_else(|| panic!("the plan folds"))
}

fn plan_id() -> Uuid {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001)
}

fn settings() -> FhirSettings {
    FhirSettings {
        public_url: "https://ucp.example.nhs.uk".into(),
        custodian_ods: "RRU".into(),
    }
}

/// Every string value anywhere in a JSON document, with the key it is under.
fn walk<'a>(v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            out.push((k.clone(), v));
            walk(v, out);
        }),
        Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
        _ => {}
    }
}

#[test]
fn every_resource_claims_its_uk_core_profile_and_a_valid_id_of_its_plan() {
    let plan = full_plan("attempts-not-recommended");
    let resources = plan_resources(plan_id(), &plan, &settings());
    let types: std::collections::BTreeSet<_> = resources.iter().map(|r| r.resource_type).collect();
    assert_eq!(
        types.len(),
        ResourceType::ALL.len(),
        "every type appears: {types:?}"
    );
    for r in &resources {
        assert_eq!(r.json["resourceType"], r.resource_type.as_str());
        assert_eq!(r.json["id"], r.id.as_str());
        assert_eq!(
            r.json["meta"]["profile"][0],
            format!(
                "https://fhir.hl7.org.uk/StructureDefinition/UKCore-{}",
                r.resource_type
            )
        );
        assert!(
            r.id.len() <= 64
                && r.id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'),
            "{}",
            r.id
        );
        if r.resource_type != ResourceType::Patient {
            assert_eq!(plan_of(r.resource_type, &r.id), Some(plan_id()), "{}", r.id);
        }
        assert_eq!(
            crate::json::clean(r.json.clone()),
            r.json,
            "{} has empty values",
            r.id
        );
    }
    let ids: std::collections::HashSet<_> = resources.iter().map(|r| r.reference()).collect();
    assert_eq!(ids.len(), resources.len(), "ids are unique");
}

#[test]
fn every_extension_used_is_declared_and_every_declared_one_is_used() {
    let plan = full_plan("modified-cpr");
    let resources = plan_resources(plan_id(), &plan, &settings());
    let mut used = std::collections::BTreeSet::new();
    for r in &resources {
        let mut all = Vec::new();
        walk(&r.json, &mut all);
        for (k, v) in all {
            if let (true, Some(url)) = (k == "url", v.as_str()) {
                if let Some(id) = url.strip_prefix(&format!("{CANONICAL_BASE}/")) {
                    assert!(EXTENSIONS.iter().any(|d| d.id == id), "undeclared {id}");
                    used.insert(id.to_owned());
                }
            }
        }
    }
    let declared: std::collections::BTreeSet<_> =
        EXTENSIONS.iter().map(|d| d.id.to_owned()).collect();
    let unused: Vec<_> = declared.difference(&used).collect();
    // Those that only a plan that left `active`, or a decision under review, carries.
    assert_eq!(
        unused,
        vec![
            "ucp-consent-withdrawn",
            "ucp-decision-standing",
            "ucp-plan-review",
            "ucp-status-reason"
        ]
    );
}

#[test]
fn a_decision_said_no_longer_valid_is_no_coded_cpr_flag_until_a_newer_form() {
    let cpr_flag = |plan: &CarePlan| {
        plan_resources(plan_id(), plan, &settings())
            .into_iter()
            .find(|r| r.id.ends_with("-cpr"))
            .map(|r| r.json)
            .unwrap_or_default()
    };
    let plan = full_plan("attempts-not-recommended");
    let version = plan.version;
    let reviewed = apply(
        Some(plan),
        CarePlanEvent::Reviewed(ucp_domain::PlanReviewed {
            next_review_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default(),
            note: None,
            still_valid: Some(false),
        }),
        version + 1,
    )
    .unwrap_or_else(|| panic!("reviewed"));
    let flag = cpr_flag(&reviewed);
    assert!(flag["code"].get("coding").is_none(), "{flag}");
    let text = flag["code"]["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Decision under review: said no longer valid")
            && text.contains("Not for cardiopulmonary resuscitation"),
        "{text}"
    );
    assert!(flag.to_string().contains("said-no-longer-valid"));
    // A newer form, signed after the review, is coded again (re-saving the form with only its
    // old signature would not be: see `standing::no_longer_valid`).
    let mut newer = etp("attempts-not-recommended");
    newer["signatures"][0]["signedAt"] = serde_json::json!(at(59));
    let renewed = apply(
        Some(reviewed),
        CarePlanEvent::SectionChanged(section("emergency-treatment-plan", newer)),
        version + 2,
    )
    .unwrap_or_else(|| panic!("renewed"));
    let flag = cpr_flag(&renewed);
    assert_eq!(flag["code"]["coding"][0]["code"], "450476008");
    assert!(!flag.to_string().contains("said-no-longer-valid"));
}

#[test]
fn the_cpr_flag_is_coded_exactly_and_never_empty() {
    let flag = |cpr: Option<&str>| {
        let mut plan = full_plan(cpr.unwrap_or("attempts-recommended"));
        if cpr.is_none() {
            plan.sections.remove(&PlanSection::EmergencyTreatmentPlan);
        }
        plan_resources(plan_id(), &plan, &settings())
            .into_iter()
            .find(|r| r.id.ends_with("-cpr"))
            .map(|r| r.json)
            .unwrap_or_default()
    };
    assert_eq!(
        flag(Some("attempts-recommended"))["code"]["coding"][0]["code"],
        "450475007"
    );
    assert_eq!(
        flag(Some("attempts-not-recommended"))["code"]["coding"][0]["code"],
        "450476008"
    );
    let modified = flag(Some("modified-cpr"));
    assert!(
        modified["code"].get("coding").is_none(),
        "no code means modified CPR"
    );
    assert_eq!(
        modified["code"]["text"],
        "Modified cardiopulmonary resuscitation"
    );
    assert_eq!(
        modified["extension"][0]["valueString"],
        "Chest compressions only; no intubation."
    );
    let none = flag(None);
    assert_eq!(none["code"]["coding"][0]["code"], "845151000000104");
    assert_eq!(none["status"], "active");
    let recorded = flag(Some("attempts-not-recommended"));
    assert_eq!(recorded["author"]["display"], "Dr Ada Clinician");
    assert!(
        recorded["period"]["start"].is_string(),
        "when it was recorded"
    );
}

#[test]
fn the_persons_words_arrive_unchanged() {
    let plan = full_plan("attempts-recommended");
    let resources = plan_resources(plan_id(), &plan, &settings());
    let care_plan = resources
        .iter()
        .find(|r| r.resource_type == ResourceType::CarePlan)
        .map(|r| &r.json)
        .cloned()
        .unwrap_or_default();
    let text = care_plan.to_string();
    assert!(text.contains("My garden, and my grandchildren — «always»."));
    assert!(text.contains("Catholic; would like a priest."));
    assert!(text.contains("Help washing"));
    let patient = &resources[0].json;
    assert_eq!(patient["gender"], "female");
    assert_eq!(
        patient["identifier"][0]["system"],
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(patient["identifier"][0]["value"], "9434765919");
    assert_eq!(patient["address"][0]["postalCode"], "SE1 7EH");
}

#[test]
fn status_follows_the_plan_and_pointers_follow_its_life() {
    let plan = full_plan("attempts-recommended");
    let s = settings();
    let care_plan_status =
        |p: &CarePlan| plan_resources(plan_id(), p, &s)[1].json["status"].clone();
    assert_eq!(care_plan_status(&plan), "active");
    let live = pointers(plan_id(), &plan, &s);
    assert_eq!(live.len(), 2);
    assert_eq!(
        live[0].json["type"]["coding"][0]["code"],
        "2181441000000107"
    );
    assert_eq!(
        live[1].json["type"]["coding"][0]["code"],
        "1382601000000107"
    );
    assert_eq!(
        live[0].json["category"][0]["coding"][0]["code"],
        "734163000"
    );
    assert_eq!(live[0].json["custodian"]["identifier"]["value"], "RRU");
    assert_eq!(live[0].json["subject"]["identifier"]["value"], "9434765919");
    assert!(live[0].id.starts_with("RRU-"));
    assert_eq!(
        live[0].json["content"][0]["attachment"]["url"],
        format!("https://ucp.example.nhs.uk/fhir/R4/CarePlan/{}", plan_id())
    );
    assert_eq!(
        live[0].json["content"][1]["attachment"]["url"],
        format!("https://ucp.example.nhs.uk/v1/care-plans/{}", plan_id())
    );

    let mut without_etp = plan.clone();
    without_etp
        .sections
        .remove(&PlanSection::EmergencyTreatmentPlan);
    assert_eq!(pointers(plan_id(), &without_etp, &s).len(), 1);

    for (status, fhir, pointer_count, pointer_status) in [
        (ucp_domain::PlanStatus::Withdrawn, "revoked", 0, None),
        (ucp_domain::PlanStatus::Deceased, "completed", 0, None),
        (
            ucp_domain::PlanStatus::Voided,
            "entered-in-error",
            2,
            Some("entered-in-error"),
        ),
    ] {
        let mut p = plan.clone();
        p.status = status;
        assert_eq!(care_plan_status(&p), fhir);
        let ptrs = pointers(plan_id(), &p, &s);
        assert_eq!(ptrs.len(), pointer_count, "{status}");
        if let Some(expected) = pointer_status {
            assert!(ptrs.iter().all(|r| r.json["status"] == expected));
        }
    }
}

#[test]
fn extension_definitions_are_well_formed() {
    for def in EXTENSIONS {
        let sd = crate::extensions::structure_definition(def);
        assert_eq!(sd["url"], crate::extensions::url(def.id));
        assert_eq!(sd["type"], "Extension");
        assert!(sd["differential"]["element"]
            .as_array()
            .is_some_and(|e| e.len() >= 3));
    }
}

#[test]
fn pointer_changes_follow_the_plans_life() {
    use crate::{pointer_changes, PointerChange};
    let s = settings();
    let methods = |c: Vec<PointerChange>| {
        c.iter()
            .map(|c| (c.method(), c.id().to_owned()))
            .collect::<Vec<_>>()
    };
    let id = |suffix: &str| format!("RRU-{}{suffix}", plan_id());
    let full = full_plan("attempts-recommended");
    let mut bare = full.clone();
    bare.sections.remove(&PlanSection::EmergencyTreatmentPlan);
    // Created without an ETP: one pointer; the ETP recorded: the ReSPECT pointer is added.
    assert_eq!(
        methods(pointer_changes(plan_id(), None, &bare, &s)),
        vec![("POST", id(""))]
    );
    assert_eq!(
        methods(pointer_changes(plan_id(), Some(&bare), &full, &s)),
        vec![("POST", id("-respect"))]
    );
    // A change elsewhere in the plan sends nothing, though the plan's timestamps moved.
    let mut later = full.clone();
    later.version += 1;
    later.updated_at = at(59);
    assert!(pointer_changes(plan_id(), Some(&full), &later, &s).is_empty());
    // The ETP changed: the ReSPECT pointer is updated.
    let mut new_etp = full.clone();
    if let Some(etp) = new_etp
        .sections
        .get_mut(&PlanSection::EmergencyTreatmentPlan)
    {
        etp.changed_at = at(58);
    }
    assert_eq!(
        methods(pointer_changes(plan_id(), Some(&full), &new_etp, &s)),
        vec![("PUT", id("-respect"))]
    );
    // Withdrawn: both go. Voided: both say entered-in-error.
    let mut withdrawn = full.clone();
    withdrawn.status = ucp_domain::PlanStatus::Withdrawn;
    assert_eq!(
        methods(pointer_changes(plan_id(), Some(&full), &withdrawn, &s)),
        vec![("DELETE", id("")), ("DELETE", id("-respect"))]
    );
    let mut voided = full.clone();
    voided.status = ucp_domain::PlanStatus::Voided;
    assert_eq!(
        methods(pointer_changes(plan_id(), Some(&full), &voided, &s)),
        vec![("PUT", id("")), ("PUT", id("-respect"))]
    );
    // A withdrawn plan voided later (wrong person): its pointers come back only as
    // entered-in-error, so any copy a consumer took is marked.
    assert_eq!(
        methods(pointer_changes(plan_id(), Some(&withdrawn), &voided, &s)),
        vec![("POST", id("")), ("POST", id("-respect"))]
    );
}

#[test]
fn a_retracted_emergency_treatment_plan_leaves_its_pointer_entered_in_error() {
    let plan = full_plan("attempts-not-recommended");
    let version = plan.version;
    let retracted = apply(
        Some(plan.clone()),
        CarePlanEvent::SectionRetracted(ucp_domain::SectionRetracted {
            section: PlanSection::EmergencyTreatmentPlan,
            reason: ucp_domain::LongText::parse("Recorded on the wrong person's plan.")
                .unwrap_or_else(|e| panic!("{e}")),
        }),
        version + 1,
    )
    .unwrap_or_else(|| panic!("retracted"));
    let changes = crate::pointer_changes(plan_id(), Some(&plan), &retracted, &settings());
    let respect: Vec<_> = changes
        .iter()
        .filter(|c| c.id().ends_with("-respect"))
        .collect();
    assert_eq!(respect.len(), 1, "{changes:?}");
    match respect[0] {
        crate::PointerChange::Update(r) => assert_eq!(r.json["status"], "entered-in-error"),
        other => panic!("the pointer is marked, not deleted: {other:?}"),
    }
}
