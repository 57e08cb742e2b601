//! The API's resources, one module each.

mod access;
pub mod audit;
pub mod care_plans;
pub mod check;
mod check_page;
pub mod feed;
pub mod fhir;
pub mod health;
pub mod me;
pub mod notifications;
pub mod nrl;
pub mod patients;
pub mod privacy;
pub mod proxies;
pub mod residents;
mod respond;
pub mod subscriptions;
pub mod worklists;
