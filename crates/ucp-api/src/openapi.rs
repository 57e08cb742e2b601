//! The OpenAPI document: generated from the handlers and types, checked in under `openapi/`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{audit, care_plans, feed, health, me, patients, subscriptions, worklists};

/// The API's contract.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Universal Care Plan API",
        description = "London's Universal Care Plan: a person's care wishes and emergency treatment decisions, recorded once and seen at once by ambulance crews, dispatch, NHS 111 and out-of-hours GPs. Every error is application/problem+json (RFC 9457).",
        version = "1.0.0"
    ),
    paths(
        health::healthz,
        health::readyz,
        crate::metrics::serve_metrics,
        care_plans::create_care_plan,
        care_plans::get_care_plan,
        care_plans::get_section,
        care_plans::put_section,
        care_plans::review_care_plan,
        care_plans::withdraw_care_plan,
        care_plans::void_care_plan,
        care_plans::record_death,
        care_plans::retract_death,
        care_plans::retract_section,
        care_plans::get_history,
        care_plans::get_changes,
        care_plans::get_document,
        patients::get_person_plan,
        patients::get_emergency_summary,
        patients::get_summary_changes,
        worklists::get_review_worklist,
        worklists::get_review_worklist_summary,
        patients::search_patients,
        me::get_my_plan,
        me::start_my_plan,
        me::put_my_section,
        me::withdraw_my_plan,
        me::withdraw_my_consent,
        me::get_my_access_log,
        feed::read_feed,
        feed::stream_feed,
        feed::read_snapshot,
        subscriptions::create_subscription,
        subscriptions::list_subscriptions,
        subscriptions::delete_subscription,
        subscriptions::list_dead_letters,
        subscriptions::redeliver,
        audit::search_audit,
        audit::get_shown,
    ),
    components(schemas(
        crate::problem::Problem,
        ucp_domain::FieldError,
        ucp_domain::PlanSection,
        ucp_domain::PersonalInformation,
        ucp_domain::Contacts,
        ucp_domain::CommunicationAndAccessibility,
        ucp_domain::WhatMatters,
        ucp_domain::ThinkingAhead,
        ucp_domain::SupportNeeds,
        ucp_domain::EmergencyTreatmentPlan,
        ucp_domain::ClinicalBackground,
        ucp_domain::AnticipatoryMedicines,
        ucp_domain::ConsentToShare,
        ucp_domain::SickleCellPlan,
        ucp_domain::MentalHealthCrisisPlan,
    )),
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth, &ServerErrors),
    tags(
        (name = "care-plans", description = "Create, read and change care plans"),
        (name = "patients", description = "A person's plan and emergency summary by NHS number; finding people"),
        (name = "me", description = "The person's own plan, forms and access log (patient tokens)"),
        (name = "feed", description = "Every change in commit order, for dispatch and other followers"),
        (name = "subscriptions", description = "Webhooks: signed, ordered, at-least-once delivery of changes (admin)"),
        (name = "audit", description = "The access log and replay of what was shown (admin)"),
        (name = "worklists", description = "Plans due or overdue for review, by organisation (clinicians and admins)"),
        (name = "operations", description = "Health and readiness probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every operation touches the database, so every one can answer 503 (database unreachable,
/// with Retry-After) and, for a bug, 500 — both as problem+json.
struct ServerErrors;

impl Modify for ServerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::problem::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("503".into())
                    .or_insert_with(|| problem("The database is unreachable; retry later").into());
                op.responses
                    .responses
                    .entry("500".into())
                    .or_insert_with(|| problem("A fault on our side; quote X-Request-Id").into());
            }
        }
    }
}

/// The document as checked in: pretty JSON with a final newline.
///
/// # Errors
/// Never in practice; serialisation of the document cannot fail.
pub fn openapi_document() -> Result<String, serde_json::Error> {
    let mut text = ApiDoc::openapi().to_pretty_json()?;
    text.push('\n');
    Ok(text)
}
