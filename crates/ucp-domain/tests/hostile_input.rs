//! Hostile input, as property tests on stable Rust: the parsers of NHS numbers, postcodes and
//! dates, and the decoding of every command body, meet arbitrary and near-valid input. None may
//! panic; what they accept must be what they say (a normal form that parses to itself), and a
//! decoded command must survive decide and evolve without a panic.
//!
//! `cargo test` runs a few hundred cases of each; `make fuzz` runs `FUZZ_CASES` (default
//! 20,000). A failing case is shrunk and saved by proptest in
//! `tests/hostile_input.proptest-regressions`, which is checked in: every found case is replayed
//! first on every later run.

use chrono::Utc;
use proptest::prelude::*;
use serde_json::{json, Value};
use ucp_domain::{
    decide, evolve, Author, AuthorKind, BirthDate, Command, CreateCarePlanRequest, DeathRecorded,
    DeathRetracted, Envelope, NhsNumber, PlanReviewed, PlanSection, PlanVoided, PlanWithdrawn,
    Postcode,
};

static CLINICIAN: std::sync::LazyLock<Author> = std::sync::LazyLock::new(|| Author {
    actor: "fuzz".into(),
    name: Some("Dr Fuzz".into()),
    role: "clinician".into(),
    organisation: None,
    on_behalf_of: None,
});

fn ctx(kind: AuthorKind, now: chrono::DateTime<Utc>) -> ucp_domain::Context<'static> {
    ucp_domain::Context::new(kind, &CLINICIAN, now)
}

fn config() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Strings a hostile or careless client sends: any text, and text made of the characters these
/// parsers care about (digits, letters, spaces, hyphens, signs), including non-ASCII digits.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9 \\-]{0,16}",
        "[A-Za-z0-9 ]{0,10}",
        "[0-9٠-٩０-９ \t\u{a0}+\\-]{0,14}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "[+\\-]?[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}",
    ]
}

/// Valid NHS numbers and postcodes, then edited: characters inserted, removed or replaced at
/// random places — the near misses a keyboard makes.
fn near_valid_identifier() -> impl Strategy<Value = String> {
    let nhs = (0u32..999_999_999)
        .prop_filter_map("no check digit", NhsNumber::from_first_nine)
        .prop_map(|n| n.to_string());
    let postcode = "[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}";
    let edit = (any::<prop::sample::Index>(), 0u8..3, prop::char::any());
    (
        prop_oneof![nhs, postcode.prop_map(String::from)],
        prop::collection::vec(edit, 0..3),
    )
        .prop_map(|(text, edits)| {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, kind, c) in edits {
                let i = at.index(chars.len() + 1);
                let c = if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    ['0', '7', ' ', '-', 'A'][usize::from(kind)]
                };
                match kind {
                    0 => chars.insert(i, c),
                    1 if i < chars.len() => {
                        chars.remove(i);
                    }
                    _ if i < chars.len() => chars[i] = c,
                    _ => chars.push(c),
                }
            }
            chars.into_iter().collect()
        })
}

/// Any JSON value, with strings from [`texty`].
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        texty().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A full, valid create body: the starting point of near-valid mutations.
fn valid_plan() -> Value {
    json!({
        "personalInformation": {
            "nhsNumber": "943 476 5919", "familyName": "Example", "givenName": "Ada",
            "birthDate": "1940-05-06", "gender": "female", "phone": "020 7946 0000",
            "address": {"lines": ["1 Test Street"], "postcode": "se1 7eh"}
        },
        "consentToShare": {"basis": "person-agreed", "date": "2026-11-01"},
        "whatMatters": {"inTheirOwnWords": "My garden."},
        "contacts": {"personal": [{"name": "Sam", "relationship": "daughter", "phone": "07700 900123",
            "nextOfKin": true, "carer": false, "lpaHealthAndWelfare": "no",
            "lpaPropertyAndFinancial": "no", "contactFirst": true}],
            "professional": [{"name": "Practice", "role": "GP", "odsCode": "F84001", "phone": "020 7946 0001"}]},
        "clinicalBackground": {"conditions": [{"name": "Heart failure", "snomedCode": "84114007"}],
            "allergies": ["Penicillin"], "noKnownAllergies": false},
        "emergencyTreatmentPlan": {
            "sharedUnderstanding": "Heart failure.", "cprRecommendation": "attempts-recommended",
            "clinicalFocus": "balanced", "capacity": "has-capacity",
            "involvement": ["A"], "interventions": [{"intervention": "Hospital admission", "recommended": true}],
            "signatures": [{"name": "Dr A", "role": "GP", "method": "transcribed-from-paper", "registrationNumber": "GMC 1234567",
                "seniorResponsible": true, "signedAt": "2026-10-01T10:00:00Z"}],
            "review": {"due": "2027-04-01"}
        }
    })
}

/// Every leaf's JSON pointer in a value.
fn leaves(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| leaves(v, &format!("{at}/{k}"), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaves(v, &format!("{at}/{i}"), out)),
        _ => out.push(at.to_owned()),
    }
}

/// A valid body with one to three leaves replaced by hostile values.
fn near_valid_plan() -> impl Strategy<Value = Value> {
    let base = valid_plan();
    let mut pointers = Vec::new();
    leaves(&base, "", &mut pointers);
    prop::collection::vec((prop::sample::select(pointers), any_json()), 1..4).prop_map(
        move |edits| {
            let mut body = base.clone();
            for (pointer, value) in edits {
                if let Some(slot) = body.pointer_mut(&pointer) {
                    *slot = value;
                }
            }
            body
        },
    )
}

fn author() -> Envelope {
    Envelope {
        version: 1,
        at: Utc::now(),
        author: Author {
            actor: "fuzz".into(),
            name: None,
            role: "clinician".into(),
            organisation: None,
            on_behalf_of: None,
        },
    }
}

/// Decodes a create body, and when it decodes, decides and evolves it: nothing may panic, and
/// an accepted body's sections survive a round trip through JSON.
fn create_from(body: Value) {
    let Ok(request) = serde_json::from_value::<CreateCarePlanRequest>(body) else {
        return;
    };
    let contents = request.into_contents();
    for content in &contents {
        let json = serde_json::to_value(content).unwrap_or(Value::Null);
        let again = content.section().parse_content(json);
        assert_eq!(
            again.as_ref(),
            Ok(content),
            "a section that does not round-trip"
        );
    }
    let Ok(command) = Command::create_plan(contents) else {
        return;
    };
    if let Ok(events) = decide(None, command, &ctx(AuthorKind::Professional, Utc::now())) {
        let mut state = None;
        let env = author();
        for event in &events {
            state = evolve(state, event, &env);
        }
        assert!(state.is_some(), "an accepted create folds to a plan");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn nhs_numbers_parse_to_their_normal_form_or_are_refused(
        text in prop_oneof![texty(), near_valid_identifier()]
    ) {
        if let Ok(n) = NhsNumber::parse(&text) {
            let normal = n.to_string();
            prop_assert_eq!(normal.len(), 10);
            prop_assert!(normal.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(NhsNumber::parse(&normal), Ok(n));
            // Only spaces and hyphens were dropped: the digits are the text's ASCII digits.
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            prop_assert_eq!(digits, normal);
        }
    }

    #[test]
    fn postcodes_parse_to_their_normal_form_or_are_refused(
        text in prop_oneof![texty(), near_valid_identifier()]
    ) {
        if let Ok(p) = Postcode::parse(&text) {
            let normal = p.as_str().to_owned();
            let again = Postcode::parse(&normal);
            prop_assert_eq!(again, Ok(p));
            prop_assert!(normal.is_ascii() && normal.len() <= 8);
            prop_assert_eq!(normal.matches(' ').count(), 1);
            prop_assert_eq!(normal.to_ascii_uppercase(), normal.clone());
        }
    }

    #[test]
    fn dates_of_birth_are_calendar_dates_from_1900_to_today_or_refused(text in texty()) {
        if let Ok(date) = serde_json::from_value::<BirthDate>(Value::String(text)) {
            let d = date.date();
            prop_assert!(d >= chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default());
            prop_assert!(d <= Utc::now().date_naive());
        }
    }

    #[test]
    fn every_section_body_decodes_or_is_refused_without_panicking(value in any_json()) {
        for section in PlanSection::ALL {
            if let Ok(content) = section.parse_content(value.clone()) {
                let json = serde_json::to_value(&content).unwrap_or(Value::Null);
                let again = section.parse_content(json);
                prop_assert_eq!(again, Ok(content));
            }
        }
    }

    #[test]
    fn lifecycle_bodies_decode_or_are_refused_without_panicking(value in any_json()) {
        let _ = serde_json::from_value::<PlanReviewed>(value.clone());
        let _ = serde_json::from_value::<PlanWithdrawn>(value.clone());
        let _ = serde_json::from_value::<PlanVoided>(value.clone());
        let _ = serde_json::from_value::<DeathRecorded>(value.clone());
        let _ = serde_json::from_value::<DeathRetracted>(value);
    }

    #[test]
    fn arbitrary_create_bodies_are_decided_or_refused_without_panicking(value in any_json()) {
        create_from(value);
    }

    #[test]
    fn near_valid_create_bodies_are_decided_or_refused_without_panicking(body in near_valid_plan()) {
        create_from(body);
    }

    #[test]
    fn arbitrary_bytes_are_refused_as_json_or_decoded(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            create_from(value);
        }
    }
}

#[test]
fn the_valid_plan_is_valid() {
    let request: CreateCarePlanRequest =
        serde_json::from_value(valid_plan()).unwrap_or_else(|e| panic!("{e}"));
    let command = Command::create_plan(request.into_contents()).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(decide(None, command, &ctx(AuthorKind::Professional, Utc::now())).is_ok());
}
