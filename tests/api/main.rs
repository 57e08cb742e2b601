//! End-to-end tests: the real server over real HTTP, the real store on real PostgreSQL. One
//! binary with modules, so the suite links once.
// Test code throughout: a failed unwrap is a failed test with its error printed. (clippy.toml
// allows unwrap and expect in `#[test]` functions; this extends that to the helpers they share.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod helpers;

mod audit;
mod care_homes;
mod care_plans;
mod check;
mod consistency;
mod contract;
mod currency;
mod demo;
mod dispatch_example;
mod document;
mod me;
mod notifications;
mod nrl;
mod privacy;
mod rebuild;
mod roles;
mod security;
mod signing;
mod trust;
mod use_cases;
mod webhooks;
mod what_a_crew_reads;
mod write_path;

mod body_limits;
mod event_store;
mod feed;
mod feed_api;
mod fhir;
mod health;
mod identity;
mod justified;
mod jwks;
mod limits;
mod migrations;
