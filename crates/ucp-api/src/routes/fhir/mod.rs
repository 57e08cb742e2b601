//! `/fhir/R4`: a read-only FHIR R4 view of the plans, as HL7 UK Core resources. The same
//! tokens, roles, visibility and access log as `/v1` (the audit middleware wraps this scope
//! too); what differs is the dialect, which [`format`] applies to every answer.

pub mod format;
mod params;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{json, Value};
use ucp_app::fhir::FhirDocument;
use ucp_app::AppState;
use ucp_fhir::extensions::{structure_definition, EXTENSIONS};
use ucp_fhir::{capability_statement, FhirSettings, ResourceType};
use utoipa::ToSchema;
use uuid::Uuid;

pub use format::{fhir_format, FHIR_JSON};

use super::respond::audited;
use crate::auth::Caller;
use crate::problem::ApiError;

/// The resource types served by read and search (documentation of the path parameter; the
/// handler parses the name with `ucp_fhir::ResourceType`).
#[derive(Debug, Serialize, ToSchema)]
pub enum FhirResourceType {
    Patient,
    CarePlan,
    Flag,
    Consent,
    Condition,
    AllergyIntolerance,
    MedicationStatement,
    RelatedPerson,
    PractitionerRole,
    Organization,
    DocumentReference,
}

/// A FHIR error: one or more issues, each with a severity, a code and what to do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: String,
    pub issue: Vec<OutcomeIssue>,
}

/// One issue of an [`OperationOutcome`].
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeIssue {
    /// `error`.
    pub severity: String,
    /// FHIR's issue type: `invalid`, `login`, `forbidden`, `not-found`, `not-supported`,
    /// `throttled`, `transient`, `exception`.
    pub code: String,
    /// What went wrong, for a person.
    pub diagnostics: String,
}

fn document(doc: FhirDocument) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(version) = doc.version {
        if let Ok(tag) = HeaderValue::from_str(&format!("W/\"{version}\"")) {
            res.insert_header((header::ETAG, tag));
        }
    }
    res.content_type(FHIR_JSON).json(doc.body)
}

fn resource_type(name: &str) -> Result<ResourceType, ApiError> {
    ResourceType::parse(name).ok_or_else(|| {
        let served: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        ApiError::NotFound(format!(
            "{name} is not served here; the resource types are {} (and StructureDefinition).",
            served.join(", ")
        ))
    })
}

/// The search as asked, for the bundle's self link.
fn self_link(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    }
}

/// What this server supports: every resource type, interaction, search parameter and profile.
#[utoipa::path(
    get, path = "/fhir/R4/metadata", operation_id = "fhirCapabilities", tag = "fhir",
    params(("_format" = Option<String>, Query, description = "json, application/fhir+json or application/json, in lower case, with any parameters such as ;fhirVersion=4.0 (XML and Turtle: 406)", pattern = r"^(|(json|application/fhir\+json|application/json\+fhir|application/json)(;[ -~]*)?)$")),
    responses((status = 200, description = "The CapabilityStatement", body = Object, content_type = "application/fhir+json")),
    security(()),
)]
#[get("/metadata")]
pub async fn capabilities(settings: web::Data<FhirSettings>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(FHIR_JSON)
        .json(capability_statement(&settings, env!("CARGO_PKG_VERSION")))
}

/// Every extension this service defines, as StructureDefinitions in a Bundle.
#[utoipa::path(
    get, path = "/fhir/R4/StructureDefinition", operation_id = "fhirListStructureDefinitions", tag = "fhir",
    params(("_format" = Option<String>, Query, description = "json, application/fhir+json or application/json, in lower case, with any parameters such as ;fhirVersion=4.0 (XML and Turtle: 406)", pattern = r"^(|(json|application/fhir\+json|application/json\+fhir|application/json)(;[ -~]*)?)$")),
    responses((status = 200, description = "A searchset Bundle of StructureDefinitions", body = Object, content_type = "application/fhir+json")),
    security(()),
)]
#[get("/StructureDefinition")]
pub async fn list_structure_definitions(
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
    settings: web::Data<FhirSettings>,
) -> Result<HttpResponse, ApiError> {
    params::nothing_to_search_by(
        &query,
        "StructureDefinitions are listed whole; there is nothing to search by",
    )?;
    let base = settings.base();
    let entries: Vec<Value> = EXTENSIONS
        .iter()
        .map(|d| {
            json!({
                "fullUrl": format!("{base}/StructureDefinition/{}", d.id),
                "resource": structure_definition(d),
                "search": {"mode": "match"},
            })
        })
        .collect();
    Ok(HttpResponse::Ok().content_type(FHIR_JSON).json(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": format!("{}{}", settings.public_url.trim_end_matches('/'), self_link(&req))}],
        "entry": entries,
    })))
}

/// One of this service's extensions, as a StructureDefinition.
#[utoipa::path(
    get, path = "/fhir/R4/StructureDefinition/{id}", operation_id = "fhirReadStructureDefinition", tag = "fhir",
    params(("id" = String, Path, description = "The extension's id, e.g. ucp-what-matters")),
    responses(
        (status = 200, description = "The StructureDefinition", body = Object, content_type = "application/fhir+json"),
        (status = 404, description = "No such extension", body = OperationOutcome, content_type = "application/fhir+json"),
    ),
    security(()),
)]
#[get("/StructureDefinition/{id}")]
pub async fn get_structure_definition(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let def = ucp_fhir::extensions::definition(&path).ok_or_else(|| {
        ApiError::NotFound(format!("There is no extension {} here.", path.as_str()))
    })?;
    Ok(HttpResponse::Ok()
        .content_type(FHIR_JSON)
        .json(structure_definition(def)))
}

/// Search one resource type: Patient by NHS number or demographics; everything else by the
/// person (`patient`, `patient.identifier`; for DocumentReference `subject`), CarePlan also
/// by `status`. A parameter not listed in the CapabilityStatement is refused.
#[utoipa::path(
    get, path = "/fhir/R4/{resourceType}", operation_id = "fhirSearch", tag = "fhir",
    params(
        ("resourceType" = FhirResourceType, Path, description = "The resource type"),
        ("identifier" = Option<String>, Query, description = "Patient: https://fhir.nhs.uk/Id/nhs-number|{NHS number}"),
        ("family" = Option<String>, Query, description = "Patient: family name"),
        ("given" = Option<String>, Query, description = "Patient: given name"),
        ("birthdate" = Option<String>, Query, description = "Patient: date of birth, YYYY-MM-DD"),
        ("address-postalcode" = Option<String>, Query, description = "Patient: postcode"),
        ("patient" = Option<String>, Query, description = "Patient/{NHS number}"),
        ("patient.identifier" = Option<String>, Query, description = "https://fhir.nhs.uk/Id/nhs-number|{NHS number}"),
        ("subject" = Option<String>, Query, description = "DocumentReference: Patient/{NHS number}"),
        ("subject.identifier" = Option<String>, Query, description = "DocumentReference: https://fhir.nhs.uk/Id/nhs-number|{NHS number}"),
        ("subject:identifier" = Option<String>, Query, description = "DocumentReference: the same, with FHIR's :identifier modifier (as the NRL's consumer API writes it)"),
        ("patient:identifier" = Option<String>, Query, description = "The same as patient.identifier, with FHIR's :identifier modifier"),
        ("status" = Option<String>, Query, description = "CarePlan: active, revoked, completed or entered-in-error"),
        ("_format" = Option<String>, Query, description = "json, application/fhir+json or application/json, in lower case, with any parameters such as ;fhirVersion=4.0 (XML and Turtle: 406)", pattern = r"^(|(json|application/fhir\+json|application/json\+fhir|application/json)(;[ -~]*)?)$"),
    ),
    responses(
        (status = 200, description = "A searchset Bundle", body = Object, content_type = "application/fhir+json"),
        (status = 404, description = "Not a resource type served here", body = OperationOutcome, content_type = "application/fhir+json"),
    ),
    security(("bearer" = []))
)]
#[get("/{resourceType}")]
pub async fn search_resources(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    settings: web::Data<FhirSettings>,
) -> Result<HttpResponse, ApiError> {
    let rt = resource_type(&path)?;
    let link = self_link(&req);
    let shown = match params::parse(rt, &query)? {
        params::Search::ByPatient(criteria) => {
            ucp_app::fhir::search_by_patient(&state.db, &actor, &settings, rt, &criteria, &link)
                .await?
        }
        params::Search::Demographic(search) => {
            ucp_app::fhir::search_patients(&state.db, &actor, &settings, search, &link).await?
        }
    };
    Ok(audited(document(shown.value), shown.access))
}

/// Read one resource by id. A Patient's id is their NHS number; the CarePlan's is the plan's
/// id; a part's is the plan's id and the part (e.g. `{plan}-cpr`).
#[utoipa::path(
    get, path = "/fhir/R4/{resourceType}/{id}", operation_id = "fhirRead", tag = "fhir",
    params(
        ("resourceType" = FhirResourceType, Path, description = "The resource type"),
        ("id" = String, Path, description = "The resource's id"),
        ("_format" = Option<String>, Query, description = "json, application/fhir+json or application/json, in lower case, with any parameters such as ;fhirVersion=4.0 (XML and Turtle: 406)", pattern = r"^(|(json|application/fhir\+json|application/json\+fhir|application/json)(;[ -~]*)?)$"),
    ),
    responses(
        (status = 200, description = "The resource (a CarePlan with ETag W/\"{version}\")", body = Object, content_type = "application/fhir+json"),
        (status = 404, description = "No such resource that you may see", body = OperationOutcome, content_type = "application/fhir+json"),
    ),
    security(("bearer" = []))
)]
#[get("/{resourceType}/{id}")]
pub async fn read_resource(
    path: web::Path<(String, String)>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    settings: web::Data<FhirSettings>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let rt = resource_type(&name)?;
    let shown = ucp_app::fhir::read(&state.db, &actor, &settings, rt, &id).await?;
    Ok(audited(document(shown.value), shown.access))
}

/// A CarePlan as it was at one of its versions.
#[utoipa::path(
    get, path = "/fhir/R4/CarePlan/{id}/_history/{version}", operation_id = "fhirReadCarePlanVersion", tag = "fhir",
    params(
        ("id" = Uuid, Path, description = "The plan's id"),
        ("version" = i64, Path, description = "The plan version (meta.versionId)", minimum = 1),
        ("_format" = Option<String>, Query, description = "json, application/fhir+json or application/json, in lower case, with any parameters such as ;fhirVersion=4.0 (XML and Turtle: 406)", pattern = r"^(|(json|application/fhir\+json|application/json\+fhir|application/json)(;[ -~]*)?)$"),
    ),
    responses(
        (status = 200, description = "The CarePlan at that version", body = Object, content_type = "application/fhir+json", headers(("ETag" = String))),
        (status = 404, description = "No such plan or version", body = OperationOutcome, content_type = "application/fhir+json"),
    ),
    security(("bearer" = []))
)]
#[get("/CarePlan/{id}/_history/{version}")]
pub async fn read_care_plan_version(
    path: web::Path<(String, String)>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    settings: web::Data<FhirSettings>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let not_found = || ApiError::NotFound(format!("There is no CarePlan {id} version {version}."));
    let plan_id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let version: i64 = version.parse().map_err(|_| not_found())?;
    let shown =
        ucp_app::fhir::care_plan_version(&state.db, &actor, &settings, plan_id, version).await?;
    Ok(audited(document(shown.value), shown.access))
}

/// Everything of a person's plans in one searchset Bundle: the Patient, each CarePlan and all
/// its parts.
#[utoipa::path(
    get, path = "/fhir/R4/Patient/{id}/$everything", operation_id = "fhirPatientEverything", tag = "fhir",
    params(
        ("id" = String, Path, description = "The Patient's id: the NHS number"),
        ("_format" = Option<String>, Query, description = "json, application/fhir+json or application/json, in lower case, with any parameters such as ;fhirVersion=4.0 (XML and Turtle: 406)", pattern = r"^(|(json|application/fhir\+json|application/json\+fhir|application/json)(;[ -~]*)?)$"),
    ),
    responses(
        (status = 200, description = "A searchset Bundle", body = Object, content_type = "application/fhir+json"),
        (status = 404, description = "No plan of this person that you may see", body = OperationOutcome, content_type = "application/fhir+json"),
    ),
    security(("bearer" = []))
)]
#[get("/Patient/{id}/$everything")]
pub async fn patient_everything(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    settings: web::Data<FhirSettings>,
) -> Result<HttpResponse, ApiError> {
    params::nothing_to_search_by(
        &query,
        "$everything takes no parameters here: it returns the whole of the person's plans",
    )?;
    let nhs = ucp_domain::NhsNumber::parse(&path)
        .map_err(|_| ApiError::NotFound(format!("There is no Patient {} here.", path.as_str())))?;
    let shown =
        ucp_app::fhir::everything(&state.db, &actor, &settings, nhs, &self_link(&req)).await?;
    Ok(audited(document(shown.value), shown.access))
}

/// This module's routes, in the order they must match.
/// Specific paths before the generic `/{resourceType}/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(capabilities)
        .service(list_structure_definitions)
        .service(get_structure_definition)
        .service(patient_everything)
        .service(read_care_plan_version)
        .service(search_resources)
        .service(read_resource);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    capabilities,
    list_structure_definitions,
    get_structure_definition,
    search_resources,
    read_resource,
    read_care_plan_version,
    patient_everything
))]
pub struct Api;

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn the_documented_resource_types_are_the_served_ones() {
        let doc = serde_json::to_value(crate::ApiDoc::openapi()).unwrap_or_default();
        let documented = &doc["components"]["schemas"]["FhirResourceType"]["enum"];
        let served: Vec<&str> = ucp_fhir::ResourceType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        assert_eq!(documented, &serde_json::json!(served));
    }

    #[test]
    fn every_documented_format_is_served_and_no_other() {
        let doc = serde_json::to_value(crate::ApiDoc::openapi()).unwrap_or_default();
        let pattern = doc["paths"]["/fhir/R4/metadata"]["get"]["parameters"][0]["schema"]
            ["pattern"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // ^(|(json|…)(;[ -~]*)?)$: empty, or one of the names with any parameters.
        let names = pattern
            .strip_prefix("^(|(")
            .and_then(|p| p.split_once(")(;"))
            .map(|(names, _)| names.replace('\\', ""))
            .unwrap_or_default();
        assert!(!names.is_empty(), "{pattern}");
        for f in names.split('|') {
            for value in [f.to_owned(), format!("{f};fhirVersion=4.0")] {
                assert!(
                    super::format::negotiate(
                        &format!("_format={}", value.replace('+', "%2B")),
                        None
                    )
                    .is_ok(),
                    "{value}"
                );
            }
        }
        for f in ["xml", "application/fhir+xml", "*/*", "turtle"] {
            assert!(
                super::format::negotiate(&format!("_format={}", f.replace('+', "%2B")), None)
                    .is_err(),
                "{f}"
            );
        }
    }
}
