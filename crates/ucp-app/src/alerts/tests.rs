//! The rules, entry by entry, without a database.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ucp_store::alerts::Detection;
use ucp_store::AccessEntry;
use uuid::Uuid;

use super::detect::{Detector, Lookups};
use super::{AlertsConfig, StaffDirectory};

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::minutes(minute)
}

fn read(actor: &str, role: &str, person: &str, minute: i64) -> AccessEntry {
    AccessEntry {
        entry_id: Uuid::now_v7(),
        at: at(minute),
        actor: actor.to_owned(),
        actor_name: Some(format!("Dr {actor}")),
        role: role.to_owned(),
        organisation: Some("F84001".to_owned()),
        purpose: Some("direct-care".to_owned()),
        action: "getCarePlan".to_owned(),
        method: "GET".to_owned(),
        path: "/v1/care-plans/x".to_owned(),
        plan_id: Some(Uuid::from_u128(u128::from(
            person.parse::<u64>().unwrap_or(0),
        ))),
        nhs_number: Some(person.to_owned()),
        plan_version: Some(3),
        view: Some("plan".to_owned()),
        section: None,
        search_criteria: None,
        search_results: None,
        returned_nhs_numbers: Vec::new(),
        request_id: None,
        status: 200,
        detail: None,
        issuer: None,
        credential: None,
        proofing_level: None,
        on_behalf_of: None,
    }
}

fn kinds(found: &[Detection]) -> Vec<String> {
    found
        .iter()
        .map(|d| match d {
            Detection::Raise(r) => r.kind.clone(),
            Detection::Clear(_) => "clear".to_owned(),
        })
        .collect()
}

fn run(detector: &mut Detector, entries: &[AccessEntry], lookups: &Lookups) -> Vec<Detection> {
    entries
        .iter()
        .flat_map(|e| detector.observe(e, lookups))
        .collect()
}

#[test]
fn an_ordinary_day_raises_nothing() {
    let mut d = Detector::new(AlertsConfig::default());
    let mut day = Vec::new();
    // A crew reads ten people over a shift, for an emergency; a GP reads twenty, for direct
    // care; dispatch reads hundreds.
    for i in 0..10 {
        let mut e = read("crew-1", "ambulance", &format!("99900000{i:02}"), i * 30);
        e.purpose = Some("emergency".into());
        day.push(e);
    }
    for i in 0..20 {
        day.push(read("gp-1", "clinician", &format!("99900001{i:02}"), i * 5));
    }
    for i in 0..500 {
        day.push(read("cad", "dispatch", &format!("9990{i:06}"), i / 10));
    }
    assert!(run(&mut d, &day, &Lookups::default()).is_empty());
}

#[test]
fn emergency_stated_by_a_clinician_is_one_alert_a_day() {
    let mut d = Detector::new(AlertsConfig::default());
    let mut e1 = read("gp-1", "clinician", "9990000018", 0);
    e1.purpose = Some("emergency".into());
    let mut e2 = read("gp-1", "clinician", "9990000018", 10);
    e2.purpose = Some("emergency".into());
    let found = run(&mut d, &[e1, e2], &Lookups::default());
    assert_eq!(kinds(&found), ["emergency-purpose", "emergency-purpose"]);
    let ids: Vec<Uuid> = found
        .iter()
        .filter_map(|d| match d {
            Detection::Raise(r) => Some(r.alert_id),
            Detection::Clear(_) => None,
        })
        .collect();
    assert_eq!(ids[0], ids[1], "the day's reads join one alert");
}

#[test]
fn more_distinct_people_than_the_roles_threshold_within_an_hour() {
    let mut config = AlertsConfig::default();
    config.bulk_reads.insert("ambulance".into(), 3);
    let mut d = Detector::new(config);
    // The same person again and again is not bulk.
    let same: Vec<_> = (0..10)
        .map(|i| read("crew", "ambulance", "9990000018", i))
        .collect();
    assert!(run(&mut d, &same, &Lookups::default()).is_empty());
    let many: Vec<_> = (0..3)
        .map(|i| read("crew", "ambulance", &format!("999000010{i}"), 20 + i))
        .collect();
    let found = run(&mut d, &many, &Lookups::default());
    assert_eq!(
        kinds(&found),
        ["bulk-reads"],
        "the fourth distinct person crosses 3"
    );
    let Some(Detection::Raise(raised)) = found.first() else {
        panic!("a raise")
    };
    assert_eq!(raised.people.len(), 4);
    // The hour's next read joins that alert.
    let next = run(
        &mut d,
        &[read("crew", "ambulance", "9990000999", 30)],
        &Lookups::default(),
    );
    let Some(Detection::Raise(joined)) = next.first() else {
        panic!("a raise")
    };
    assert_eq!(joined.alert_id, raised.alert_id);
    // Spread over more than an hour, the same number is not bulk.
    let mut d = Detector::new({
        let mut c = AlertsConfig::default();
        c.bulk_reads.insert("ambulance".into(), 3);
        c
    });
    let spread: Vec<_> = (0..6)
        .map(|i| read("crew", "ambulance", &format!("999000020{i}"), i * 25))
        .collect();
    assert!(run(&mut d, &spread, &Lookups::default()).is_empty());
}

#[test]
fn a_family_lookup_needs_both_the_family_name_and_the_postcode() {
    let config = AlertsConfig {
        staff: StaffDirectory::parse("actor,family,postcode\ngp-1,O'Brien,SW1A 1AA\n")
            .unwrap_or_default(),
        ..AlertsConfig::default()
    };
    let mut d = Detector::new(config);
    let mut lookups = Lookups::default();
    lookups.people.insert(
        "9990000018".into(),
        vec![(ucp_domain::fold_name("O'Brien"), "SW1A 1AA".into())],
    );
    lookups.people.insert(
        "9990000026".into(),
        vec![(ucp_domain::fold_name("O'Brien"), "E1 6AN".into())],
    );
    let found = run(
        &mut d,
        &[
            read("gp-1", "clinician", "9990000026", 0),
            read("gp-2", "clinician", "9990000018", 1),
            read("gp-1", "clinician", "9990000018", 2),
        ],
        &lookups,
    );
    // The same family name at another postcode, and another reader, raise nothing.
    assert_eq!(kinds(&found), ["family-lookup"]);
}

#[test]
fn reads_of_a_sensitive_record_only_while_it_is_marked_whatever_version_they_show() {
    let mut d = Detector::new(AlertsConfig::default());
    let mut lookups = Lookups::default();
    let mark = |minute, marked| ucp_store::alerts::SensitivityMark {
        nhs_number: "9990000018".into(),
        plan_id: Uuid::from_u128(1),
        at: at(minute),
        marked,
        reason: marked.then(|| "public-figure".to_owned()),
    };
    lookups
        .sensitivity
        .insert("9990000018".into(), vec![mark(10, true), mark(30, false)]);
    let before = read("gp-1", "clinician", "9990000018", 5);
    // A read while marked, of a version from before the mark: reviewed all the same.
    let mut old_version = read("gp-1", "clinician", "9990000018", 15);
    old_version.plan_version = Some(1);
    let after = read("gp-1", "clinician", "9990000018", 35);
    let found = run(&mut d, &[before, old_version, after], &lookups);
    assert_eq!(kinds(&found), ["sensitive-record"]);
    // A search that found the person while marked is reviewed too.
    let mut search = read("crew", "ambulance", "9990000026", 20);
    search.view = Some("search".into());
    search.nhs_number = None;
    search.returned_nhs_numbers = vec!["9990000018".into(), "9990000026".into()];
    let found = run(&mut d, &[search], &lookups);
    assert_eq!(kinds(&found), ["sensitive-record"]);
}

#[test]
fn refusals_in_bulk_count_the_folded_ones() {
    let mut d = Detector::new(AlertsConfig {
        bulk_refusals: 20,
        ..AlertsConfig::default()
    });
    let mut lookups = Lookups::default();
    lookups.with_plans.insert("9990000018".into());
    let mut first = read("anonymous", "none", "9990000018", 0);
    first.status = 401;
    first.view = None;
    let mut closing = first.clone();
    closing.entry_id = Uuid::now_v7();
    closing.at = at(1);
    closing.detail = Some(serde_json::json!({"refusals": {"count": 20}}));
    // About someone with no plan: nothing to protect, and no alert anyone could raise at will.
    assert!(run(
        &mut d,
        &[first.clone(), closing.clone()],
        &Lookups::default()
    )
    .is_empty());
    let mut d = Detector::new(AlertsConfig {
        bulk_refusals: 20,
        ..AlertsConfig::default()
    });
    assert!(run(&mut d, std::slice::from_ref(&first), &lookups).is_empty());
    let found = run(&mut d, &[closing], &lookups);
    assert_eq!(
        kinds(&found),
        ["bulk-refusals"],
        "the first, and 19 more folded into the closing entry, are 20"
    );
}

#[test]
fn an_admission_raises_and_a_confirmation_of_that_home_clears() {
    let mut d = Detector::new(AlertsConfig::default());
    let mut admit = read("carer", "care-home", "9990000018", 0);
    admit.method = "POST".into();
    admit.action = "admitResident".into();
    admit.organisation = Some("VM1A2".into());
    admit.view = Some("residence".into());
    admit.status = 201;
    let mut confirm = read("gp-1", "clinician", "9990000018", 5);
    confirm.method = "POST".into();
    confirm.action = "confirmResidence".into();
    confirm.view = Some("residence".into());
    confirm.detail = Some(serde_json::json!({"careHome": "VM1A2", "residenceVersion": 3}));
    let found = run(&mut d, &[admit, confirm], &Lookups::default());
    assert_eq!(kinds(&found), ["self-declared-relationship", "clear"]);
}

#[test]
fn staff_directory_lines_are_checked() {
    assert!(StaffDirectory::parse("a,b\n").is_err());
    assert!(StaffDirectory::parse("a,Smith,not a postcode\n").is_err());
    let dir = StaffDirectory::parse("# staff\nactor,family,postcode\n\nu1,Smith,sw1a1aa\n");
    assert!(dir.is_ok_and(|d| d.get("u1").is_some()));
}

#[test]
fn bulk_read_thresholds_parse_and_refuse_unknown_roles() {
    let parsed = AlertsConfig::parse_bulk_reads("ambulance=0, clinician=10");
    assert!(parsed
        .as_ref()
        .is_ok_and(|t| t["ambulance"] == 0 && t["clinician"] == 10));
    assert!(AlertsConfig::parse_bulk_reads("admin=3").is_err());
    assert!(AlertsConfig::parse_bulk_reads("ambulance=many").is_err());
}
