//! The OpenAPI document: generated from the handlers and types, checked in under `openapi/`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    audit, care_plans, feed, fhir, health, me, nrl, patients, subscriptions, worklists,
};

/// The API's contract.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Universal Care Plan API",
        description = "London's Universal Care Plan: a person's care wishes and emergency treatment decisions, recorded once and seen at once by ambulance crews, dispatch, NHS 111 and out-of-hours GPs. Every error is application/problem+json (RFC 9457).",
        version = "1.0.0"
    ),
    components(schemas(
        crate::problem::Problem,
        fhir::OperationOutcome,
        fhir::FhirResourceType,
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
    modifiers(&Modules, &BearerAuth, &IdentityHeaders, &ServerErrors, &SectionOperations, &PlanLinks, &ConsistencyHeaders),
    tags(
        (name = "care-plans", description = "Create, read and change care plans"),
        (name = "patients", description = "A person's plan and emergency summary by NHS number; finding people"),
        (name = "notifications", description = "The notifier's dead letters: messages to the person (NHS Notify) and to their GP practice that were not accepted"),
        (name = "privacy", description = "The privacy officer's alerts, raised from the access log by accesses that need a reason; records whose every read is reviewed"),
        (name = "care-homes", description = "Where the person lives, when it is a care home: the home admits and lists its residents; clinicians record, confirm and end residence"),
        (name = "me", description = "The person's own plan, forms and access log (patient tokens)"),
        (name = "feed", description = "Every change in commit order, for dispatch and other followers"),
        (name = "nrl", description = "Publishing pointers to the National Record Locator: the publisher's dead letters (admin)"),
        (name = "fhir", description = "A read-only FHIR R4 (4.0.1) view of every plan as HL7 UK Core resources: application/fhir+json, errors as OperationOutcome"),
        (name = "subscriptions", description = "Webhooks: signed, ordered, at-least-once delivery of changes (admin)"),
        (name = "audit", description = "The access log and replay of what was shown (admin)"),
        (name = "worklists", description = "Plans due or overdue for review, by organisation (clinicians and admins)"),
        (name = "printed-copies", description = "Whether a printed plan is still the plan: the public page its QR code opens (no sign-in, no personal data)"),
        (name = "operations", description = "Health and readiness probes"),
    )
)]
pub struct ApiDoc;

/// Each route module's own part of the document (`routes::*::Api`), merged in first, so that
/// the modifiers after it see every operation.
struct Modules;

impl Modify for Modules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use crate::routes::{check, proxies, residents};
        for part in [
            health::Api::openapi(),
            care_plans::Api::openapi(),
            check::Api::openapi(),
            patients::Api::openapi(),
            worklists::Api::openapi(),
            me::Api::openapi(),
            proxies::Api::openapi(),
            residents::Api::openapi(),
            crate::routes::privacy::Api::openapi(),
            crate::routes::notifications::Api::openapi(),
            feed::Api::openapi(),
            subscriptions::Api::openapi(),
            audit::Api::openapi(),
            nrl::Api::openapi(),
            fhir::Api::openapi(),
        ] {
            openapi.merge(part);
        }
    }
}

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

/// Every status the server can answer is declared, including the ones every operation of a
/// kind shares and which its own attribute does not repeat: 500 and 503 (database unreachable or
/// too slow, with Retry-After) everywhere; 401, 403 and 429 (rate limit, with Retry-After) where a
/// token is needed; 400 where there are parameters; 400, 408 (body read timeout), 413, 415 and 422
/// where there is a body; 400, 412 and 428 where there is an `If-Match`.
struct ServerErrors;

impl Modify for ServerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Object, Ref, RefOr, ResponseBuilder, Type};
        // Under /fhir/R4 every error is an OperationOutcome (see routes::fhir::format).
        let problem = |description: &str, retry_after: bool, fhir: bool| {
            let content = if fhir {
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("OperationOutcome")))
                    .build()
            } else {
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build()
            };
            let media_type = if fhir {
                crate::routes::fhir::FHIR_JSON
            } else {
                crate::problem::PROBLEM_JSON
            };
            let mut response = ResponseBuilder::new()
                .description(description)
                .content(media_type, content);
            if retry_after {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(Object::with_type(Type::Integer)))
                        .description(Some("Seconds to wait before trying again"))
                        .build(),
                );
            }
            response.build()
        };
        for (path, item) in &mut openapi.paths.paths {
            let fhir = path.starts_with("/fhir/");
            for op in operations_mut(item) {
                let params = op.parameters.as_deref().unwrap_or_default();
                let has_params = !params.is_empty();
                let has_if_match = params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Header && p.name == "If-Match"));
                let has_body = op.request_body.is_some();
                let needs_token = op.security.as_ref().is_some_and(|reqs| {
                    serde_json::to_string(reqs).is_ok_and(|json| json.contains("bearer"))
                });
                let mut declared: Vec<(&str, &str, bool)> = vec![
                    ("500", "A fault on our side; quote X-Request-Id", false),
                    (
                        "503",
                        "The database is unreachable or did not answer in time; nothing was done",
                        true,
                    ),
                ];
                if needs_token {
                    // Who may do it is the use case's declaration; so is what its refusal says.
                    let refused = op
                        .operation_id
                        .as_deref()
                        .and_then(ucp_app::use_cases::of_operation)
                        .map_or("The token's role may not do this", |u| u.refused);
                    declared.extend([
                        ("401", "No valid token", false),
                        ("403", refused, false),
                        ("429", "This token's subject sent too many requests", true),
                    ]);
                }
                if has_params || has_body || has_if_match {
                    declared.push(("400", "A malformed parameter, header or body", false));
                }
                if has_body {
                    declared.extend([
                        (
                            "408",
                            "The body did not arrive within the body read timeout",
                            false,
                        ),
                        ("413", "The body is larger than the limit", false),
                        ("415", "The body is not application/json", false),
                        (
                            "422",
                            "The body is well-formed but breaks a rule or a limit",
                            false,
                        ),
                    ]);
                }
                if has_if_match {
                    declared.extend([
                        ("412", "The If-Match ETag is not the current one", false),
                        ("428", "No If-Match", false),
                    ]);
                }
                if fhir {
                    declared.push((
                        "406",
                        "_format or Accept asks for something other than JSON",
                        false,
                    ));
                }
                for (status, description, retry_after) in declared {
                    op.responses
                        .responses
                        .entry(status.into())
                        .or_insert_with(|| problem(description, retry_after, fhir).into());
                }
            }
        }
    }
}

/// A section's body depends on the section the path names, which JSON Schema cannot tie
/// together; so each section is its own path (`…/sections/what-matters`) with its own operations
/// (`getSectionWhatMatters`, `putSectionWhatMatters` with that section's schema as its body,
/// `retractSectionWhatMatters`), and a generated client knows which body it holds. The server
/// has one route per method; the access log names the operation by the most specific documented
/// path (see `OperationIds::get`). Every `If-Match` gets the pattern of the tags this service
/// issues (`"plan.N"` or `"<section>.N"`; an alert's `"alert-rN"`), and every cursor the
/// pattern of base64url.
struct SectionOperations;

const SECTION_ROUTES: [(&str, bool); 2] = [
    ("/v1/care-plans/{id}/sections/{section}", false),
    ("/v1/me/care-plan/sections/{section}", true),
];

impl Modify for SectionOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use ucp_domain::PlanSection;
        use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
        use utoipa::openapi::{ContentBuilder, Object, Ref, RefOr, Type};

        let names: Vec<&str> = PlanSection::ALL.iter().map(|s| s.name()).collect();
        let etag_pattern = format!(r#"^"(plan|{})\.[0-9]{{1,18}}"$"#, names.join("|"));
        // A section's content is told apart by the `section` beside it, not by its shape: forms
        // whose fields are all optional match each other's schemas, so it is `anyOf`.
        if let Some(components) = openapi.components.as_mut() {
            if let Some(RefOr::T(utoipa::openapi::schema::Schema::OneOf(one_of))) =
                components.schemas.get("SectionContent")
            {
                let mut any_of = utoipa::openapi::schema::AnyOf::new();
                any_of.items.clone_from(&one_of.items);
                any_of.description.clone_from(&one_of.description);
                components.schemas.insert(
                    "SectionContent".into(),
                    RefOr::T(utoipa::openapi::schema::Schema::AnyOf(any_of)),
                );
            }
        }
        for (template, person_only) in SECTION_ROUTES {
            let Some(generic) = openapi.paths.paths.remove(template) else {
                continue;
            };
            for section in PlanSection::ALL {
                if person_only && !section.is_person_centred() {
                    continue;
                }
                let schema = section.type_name();
                let specific = |op: &Option<Operation>, verb: &str| {
                    op.clone().map(|mut op| {
                        let base = op.operation_id.clone().unwrap_or_default();
                        op.operation_id = Some(format!("{base}{schema}"));
                        op.summary = Some(format!("{verb} {}.", section.name()));
                        if let Some(params) = op.parameters.as_mut() {
                            params.retain(|p| {
                                !matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path && p.name == "section")
                            });
                        }
                        op
                    })
                };
                let mut item = PathItem::default();
                item.get = specific(&generic.get, "Read");
                item.delete = specific(&generic.delete, "Retract");
                item.put = specific(&generic.put, "Replace").map(|mut op| {
                    if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                        body.content.insert(
                            "application/json".into(),
                            RefOr::T(
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name(schema)))
                                    .build(),
                            ),
                        );
                        body.description =
                            Some(format!("The whole new content of {}", section.name()));
                    }
                    op
                });
                let path = template.replace("{section}", section.name());
                openapi.paths.paths.insert(path, item);
            }
        }
        for (path, item) in &mut openapi.paths.paths {
            // An alert's tag is its revision (`"alert-r3"`), not a plan's or a section's.
            let tags = if path.starts_with("/v1/privacy/alerts") {
                r#"^"alert-r[0-9]{1,9}"$"#
            } else if path == "/v1/me/notifications" {
                r#"^"notifications\.[0-9]{1,18}"$"#
            } else {
                etag_pattern.as_str()
            };
            for op in operations_mut(item) {
                for param in op.parameters.iter_mut().flatten() {
                    let RefOr::T(param) = param else { continue };
                    // A parameter that states its own pattern keeps it.
                    if matches!(&param.schema, Some(RefOr::T(utoipa::openapi::Schema::Object(o))) if o.pattern.is_some())
                    {
                        continue;
                    }
                    let pattern = match (&param.parameter_in, param.name.as_str()) {
                        (ParameterIn::Header, "If-Match") => tags,
                        // Cursors and page tokens are base64url of what the service issued.
                        (ParameterIn::Query, "after" | "before") => "^[A-Za-z0-9_-]*$",
                        _ => continue,
                    };
                    let mut schema = Object::with_type(Type::String);
                    schema.pattern = Some(pattern.to_owned());
                    param.schema = Some(RefOr::T(schema.into()));
                }
            }
        }
    }
}

/// Links for stateful clients and testers: from a created or read plan to reading it, its
/// history, and changing it (each section's `PUT`, a review) with the `ETag` just received as
/// `If-Match`.
struct PlanLinks;

impl Modify for PlanLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use ucp_domain::PlanSection;
        use utoipa::openapi::link::{Link, LinkBuilder};
        use utoipa::openapi::RefOr;

        let link = |op: &str, id: bool, if_match: bool, description: &str| {
            let mut builder = LinkBuilder::new().operation_id(op).description(description);
            if id {
                builder = builder.parameter("id", "$response.body#/id");
            }
            if if_match {
                builder = builder.parameter("If-Match", "$response.header.ETag");
            }
            (op.to_owned(), builder.build())
        };
        let change = "Change the plan, based on the version just received";
        let mut plan_links: Vec<(String, Link)> = vec![
            link("getCarePlan", true, false, "Read the plan"),
            link(
                "getCarePlanHistory",
                true,
                false,
                "Every change to the plan",
            ),
            link("reviewCarePlan", true, true, change),
        ];
        plan_links.extend(
            PlanSection::ALL
                .iter()
                .map(|s| link(&format!("putSection{}", s.type_name()), true, true, change)),
        );
        // The person's own plan: from reading it to writing their forms with its ETag.
        let my_links: Vec<(String, Link)> = PlanSection::ALL
            .iter()
            .filter(|s| s.is_person_centred())
            .map(|s| {
                let op = format!("putMySection{}", s.type_name());
                link(
                    &op,
                    false,
                    true,
                    "Change a form, based on the version just received",
                )
            })
            .collect();
        // A resident just admitted: from the admission to their plan, as the home reads it.
        let resident_links: Vec<(String, Link)> = vec![(
            "getCarePlan".to_owned(),
            LinkBuilder::new()
                .operation_id("getCarePlan")
                .description("Read the resident's plan")
                .parameter("id", "$response.body#/planId")
                .build(),
        )];
        let paths = &mut openapi.paths.paths;
        let targets = [
            ("/v1/care-plans", "201", &plan_links),
            ("/v1/care-home/residents", "201", &resident_links),
            ("/v1/care-plans/{id}", "200", &plan_links),
            ("/v1/me/care-plan", "200", &my_links),
        ];
        for (path, status, links) in targets {
            let response = paths.get_mut(path).and_then(|item| {
                let op = if status == "201" {
                    item.post.as_mut()
                } else {
                    item.get.as_mut()
                };
                op.and_then(|op| op.responses.responses.get_mut(status))
            });
            if let Some(RefOr::T(response)) = response {
                for (name, link) in links {
                    response.links.insert(name.clone(), RefOr::T(link.clone()));
                }
            }
        }
    }
}

/// The operations of a path item that this API uses.
/// Read-your-writes across a replica (see `consistency`): every successful write under `/v1`
/// answers with `UCP-Consistency`; the reads that may use the replica take it back and say in
/// `UCP-Read-From` which server answered.
struct ConsistencyHeaders;

impl Modify for ConsistencyHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, RefOr, Required, Type};
        let lsn = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$"))
                .build()
        };
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/v1/") {
                continue;
            }
            for (is_get, op) in [
                (true, &mut item.get),
                (false, &mut item.put),
                (false, &mut item.post),
                (false, &mut item.delete),
            ] {
                let Some(op) = op else { continue };
                // The reads whose use case lets a replica serve them (`ucp_app::use_cases`).
                let reads_replica = op
                    .operation_id
                    .as_deref()
                    .is_some_and(ucp_app::use_cases::replica_may_serve);
                if is_get && reads_replica {
                    op.parameters.get_or_insert_with(Vec::new).push(
                        ParameterBuilder::new()
                            .name("UCP-Consistency")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some(
                                "The UCP-Consistency of your last write: a replica serves this \
                                 read only once it has replayed past it (else the primary does)",
                            ))
                            .schema(Some(lsn()))
                            .build()
                            .into(),
                    );
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if !status.starts_with('2') {
                        continue;
                    }
                    if !is_get {
                        response.headers.insert(
                            "UCP-Consistency".into(),
                            HeaderBuilder::new()
                                .schema(Some(lsn()))
                                .description(Some(
                                    "The primary's WAL position after this write: send it with a \
                                     later read to read your own write from a replica",
                                ))
                                .build()
                                .into(),
                        );
                    } else if reads_replica {
                        response.headers.insert(
                            "UCP-Read-From".into(),
                            HeaderBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .schema_type(Type::String)
                                        .enum_values(Some(["primary", "replica"]))
                                        .build(),
                                ))
                                .description(Some("Which server served this read"))
                                .build()
                                .into(),
                        );
                    }
                }
            }
        }
    }
}

/// The purpose of use every professional's read states, and the person a proxy acts for.
struct IdentityHeaders;

/// Who must say why, from the roles' own rules (`ucp_app::Role`): "Required on every read by
/// clinician, … and admin callers …; dispatch's purpose is always emergency; …".
fn purpose_of_use_description() -> String {
    let stating: Vec<&str> = crate::Role::ALL
        .into_iter()
        .filter(|r| r.states_purpose())
        .map(crate::Role::as_str)
        .collect();
    let stating = match stating.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let fixed: Vec<String> = crate::Role::ALL
        .into_iter()
        .filter_map(|r| {
            r.fixed_purpose()
                .map(|p| format!("{}'s purpose is always {}", r.as_str(), p.as_str()))
        })
        .collect();
    format!(
        "Why you are accessing the record. Required on every read by {stating} callers (400 \
         purpose_of_use_required without it); {}; the person need not say. Recorded in the \
         access log.",
        fixed.join("; ")
    )
}

impl Modify for IdentityHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        let purpose = purpose_of_use_description();
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                // Public operations (the FHIR metadata, health, the check of a printed copy)
                // are no one's use case.
                let Some(use_case) = op
                    .operation_id
                    .as_deref()
                    .and_then(ucp_app::use_cases::of_operation)
                else {
                    continue;
                };
                let proxy_op = use_case.proxy;
                let params = op.parameters.get_or_insert_with(Vec::new);
                params.push(
                    ParameterBuilder::new()
                        .name("X-Purpose-Of-Use")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some(purpose.clone()))
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .enum_values(Some(["direct-care", "emergency", "audit"]))
                                .build(),
                        ))
                        .build()
                        .into(),
                );
                if proxy_op {
                    params.push(
                        ParameterBuilder::new()
                            .name("UCP-On-Behalf-Of")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some(
                                "A proxy (NHS login) acting for the person: their NHS number. \
                                 Needs an active proxy grant; every use is recorded.",
                            ))
                            .schema(Some(
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .pattern(Some(r"^[0-9]{10}$"))
                                    .build(),
                            ))
                            .build()
                            .into(),
                    );
                }
            }
        }
    }
}

fn operations_mut(
    item: &mut utoipa::openapi::path::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
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

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::ApiDoc;

    /// Every documented operation that takes a token is a use case, whose declaration says who
    /// may do it (`ucp_app::use_cases`); those without one are public.
    #[test]
    fn routes_declare_their_use_cases() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut public = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(id) = op.get("operationId").and_then(|v| v.as_str()) else {
                    continue;
                };
                let bearer = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                if bearer {
                    assert!(
                        ucp_app::use_cases::of_operation(id).is_some(),
                        "{method} {path} ({id}) takes a token but declares no use case"
                    );
                } else {
                    public.push(id.to_owned());
                }
            }
        }
        public.sort();
        assert_eq!(
            public,
            [
                "checkPrintedCopy",
                "fhirCapabilities",
                "fhirListStructureDefinitions",
                "fhirReadStructureDefinition",
                "healthz",
                "metrics",
                "readyz"
            ]
        );
    }
}
