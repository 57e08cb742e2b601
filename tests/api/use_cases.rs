//! The application enforces each use case's declaration itself, without the HTTP layer in
//! front: each use case's function, called directly against a real (empty) store by a caller
//! its declaration does not allow, refuses before it reads anything (a read that went ahead
//! would answer "not found", or an empty page). The HTTP layer asks the same declarations
//! sooner (`roles.rs`); this is what holds for every other way in (the CLI, the seed, a job).

use std::time::Duration;

use chrono::Utc;
use ucp_app::reads::{self, AsOf, PatientSearch};
use ucp_app::{
    feed, fhir, proxies, replay, since, subscriptions, worklist, Actor, AppError, Proofing,
    ProofingLevel, Role,
};
use ucp_domain::{NhsNumber, PlanSection, PlanStatus};
use ucp_store::{AccessQuery, FeedCursor, FeedSignal};
use uuid::Uuid;

use crate::helpers::{nhs, TestDb};

fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, AppError>) {
    assert!(
        matches!(result, Err(AppError::Forbidden(_))),
        "{what}: {result:?}"
    );
}

fn person(proofing: ProofingLevel) -> Actor {
    Actor {
        nhs_number: NhsNumber::parse(&nhs(70)).ok(),
        proofing: Some(Proofing {
            level: proofing,
            required: ProofingLevel::P9,
        }),
        ..Actor::new("a-person", Role::Patient)
    }
}

#[tokio::test]
async fn each_use_case_refuses_who_its_declaration_does_not_allow_before_it_reads() {
    let test_db = TestDb::migrated().await;
    let db = test_db.store(4);
    let id = Uuid::now_v7();
    let someone = NhsNumber::parse(&nhs(71)).unwrap();
    let today = Utc::now().date_naive();
    let dispatch = Actor::new("a-dispatcher", Role::Dispatch);
    let admin = Actor::new("an-admin", Role::Admin);
    let crew = Actor::new("a-crew", Role::Ambulance);
    let clinician = Actor::new("a-clinician", Role::Clinician);
    let unproofed = person(ProofingLevel::P5);
    let mut proxy = person(ProofingLevel::P9);
    proxy.on_behalf_of = Some(someone);

    forbidden("plan", reads::plan(&db, &dispatch, id, AsOf::Now).await);
    forbidden(
        "plan, unproofed",
        reads::plan(&db, &unproofed, id, AsOf::Now).await,
    );
    forbidden(
        "section",
        reads::section(&db, &admin, id, PlanSection::WhatMatters).await,
    );
    forbidden("history", reads::history(&db, &dispatch, id).await);
    forbidden(
        "person's plan",
        reads::person_plan(&db, &admin, someone).await,
    );
    forbidden(
        "summary",
        reads::summary(&db, &Default::default(), &admin, someone, today).await,
    );
    forbidden(
        "summary, by a proxy",
        reads::summary(&db, &Default::default(), &proxy, someone, today).await,
    );
    forbidden(
        "search",
        reads::search(
            &db,
            &dispatch,
            PatientSearch::default(),
            serde_json::json!({}),
        )
        .await,
    );
    forbidden("my plan", reads::my_plan(&db, &clinician, None).await);
    forbidden(
        "access log",
        reads::access_log(&db, &clinician, AccessQuery::default()).await,
    );
    forbidden(
        "my access log",
        reads::my_access_log(&db, &clinician, None, 10).await,
    );
    forbidden(
        "printed plan",
        reads::document(
            &db,
            &crew,
            id,
            AsOf::Now,
            Utc::now(),
            &ucp_app::print::PrintSettings::default(),
        )
        .await,
    );
    let range = since::Range {
        since: 1,
        until: None,
    };
    forbidden(
        "changes",
        since::plan_changes(&db, &dispatch, id, range).await,
    );
    forbidden(
        "summary changes",
        since::summary_changes(&db, &admin, someone, range, today).await,
    );
    forbidden(
        "feed",
        feed::read_page(
            &db,
            &FeedSignal::silent(),
            &clinician,
            FeedCursor::START,
            10,
            Duration::ZERO,
            Duration::ZERO,
        )
        .await,
    );
    forbidden("snapshot", feed::snapshot(&db, &clinician, None, 10).await);
    forbidden("stream", feed::open_stream(&crew));
    forbidden(
        "worklist",
        worklist::list(
            &db,
            &crew,
            worklist::Filter {
                organisation: None,
                due_before: None,
                overdue_only: false,
                status: PlanStatus::Active,
                after: None,
                limit: 10,
            },
            today,
        )
        .await,
    );
    forbidden("subscriptions", subscriptions::list(&db, &clinician).await);
    forbidden("replay", replay::replay_entry(&db, &clinician, id).await);
    forbidden("my proxies", proxies::list_mine(&db, &clinician).await);
    forbidden("acting for", proxies::held_by_me(&db, &clinician).await);
    forbidden(
        "FHIR read",
        fhir::read(
            &db,
            &dispatch,
            &ucp_fhir::FhirSettings::default(),
            ucp_fhir::ResourceType::CarePlan,
            "x",
        )
        .await,
    );
    // Nothing was read as anyone, nothing written.
    assert_eq!(test_db.event_count().await, 0);
}
