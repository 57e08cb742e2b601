//! Request bodies of realistic plans.

use serde_json::{json, Value};

/// A valid NHS number from the 999 test range, different for each `i`.
pub fn nhs(i: u32) -> String {
    let mut stem = 999_100_000 + i * 17;
    loop {
        if let Some(n) = ucp_domain_nhs(stem) {
            return n;
        }
        stem += 1;
    }
}

fn ucp_domain_nhs(stem: u32) -> Option<String> {
    let digits: Vec<u32> = format!("{stem:09}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        c => c,
    };
    Some(format!("{stem:09}{check}"))
}

pub fn personal_information(nhs_number: &str) -> Value {
    json!({
        "nhsNumber": nhs_number, "familyName": "Nowak", "givenName": "Zoë",
        "birthDate": "1941-02-03",
        "address": { "lines": ["2 Example Road", "London"], "postcode": "se1 7eh" },
        "phone": "020 7946 0000"
    })
}

pub fn consent() -> Value {
    json!({ "basis": "person-agreed", "date": "2026-11-01" })
}

pub fn etp() -> Value {
    json!({
        "sharedUnderstanding": "Advanced COPD.", "clinicalFocus": "symptom-control",
        "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity", "involvement": ["A"],
        "signAs": { "role": "GP", "registrationNumber": "GMC 1234567", "seniorResponsible": true }
    })
}

/// A plan with the two required sections and an Emergency Treatment Plan.
pub fn plan_body(nhs_number: &str) -> Value {
    json!({
        "personalInformation": personal_information(nhs_number),
        "consentToShare": consent(),
        "emergencyTreatmentPlan": etp(),
        "whatMatters": { "inTheirOwnWords": "My garden and my grandchildren." }
    })
}
