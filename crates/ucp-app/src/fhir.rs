//! The FHIR R4 facade's reads: the same plans, roles and visibility as `/v1`, shown as UK Core
//! resources. Every read returns what it showed — which plans at which versions, and which
//! resources of them — so the access log can replay it exactly: each resource is a pure
//! function of a plan at a version (see `ucp_fhir`).

use std::collections::HashMap;

use serde_json::{json, Value};
use ucp_domain::{CarePlan, NhsNumber};
use ucp_fhir::{
    plan_resources, searchset, BundleEntry, FhirSettings, Resource, ResourceType, SearchMode,
};
use ucp_store::projections::replay::fold;
use ucp_store::{Database, PatientSearch, PlanRow, StreamBound};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::reads::AsOf;
use crate::use_cases;
use crate::visibility::{ensure_visible, may_see, may_see_row};
use crate::{Actor, AppError};

/// A FHIR response body and, for a CarePlan, its version (the `ETag`).
#[derive(Debug, Clone)]
pub struct FhirDocument {
    pub body: Value,
    pub version: Option<i64>,
}

/// What a search by patient asks for.
#[derive(Debug, Clone)]
pub struct PatientCriteria {
    pub nhs_number: NhsNumber,
    /// CarePlan only: FHIR statuses to keep.
    pub status: Option<String>,
}

/// One plan at one version, and which of its resources were shown.
#[derive(Debug, Clone)]
struct ShownPlan {
    plan_id: Uuid,
    version: i64,
    plan: CarePlan,
}

/// The plan as it stood at `as_of`.
async fn plan_state(
    db: &Database,
    plan_id: Uuid,
    as_of: AsOf,
    current: i64,
) -> Result<CarePlan, AppError> {
    let history = db.read_stream(plan_id, as_of.bound(current)?).await?;
    fold(&history)?.ok_or_else(|| AppError::NotFound("The plan had no such version.".into()))
}

async fn shown_plan(db: &Database, row: &PlanRow) -> Result<ShownPlan, AppError> {
    let plan = plan_state(db, row.plan_id, AsOf::Now, row.version).await?;
    Ok(ShownPlan {
        plan_id: row.plan_id,
        version: plan.version,
        plan,
    })
}

fn not_found(resource_type: ResourceType, id: &str) -> AppError {
    AppError::NotFound(format!(
        "There is no {resource_type} with id {id} that you may see."
    ))
}

/// The access-log note of a FHIR response: each shown resource by plan and version, and the
/// settings it was made with, so a replay rebuilds the same document.
fn access(
    settings: &FhirSettings,
    entries: &[(Uuid, i64, String, SearchMode)],
    bundle_link: Option<&str>,
    nhs_numbers: Vec<String>,
) -> Access {
    let single_plan = {
        let mut plans: Vec<(Uuid, i64)> = entries.iter().map(|(p, v, _, _)| (*p, *v)).collect();
        plans.dedup();
        (plans.len() == 1).then(|| plans[0])
    };
    let mut unique = nhs_numbers.clone();
    unique.sort();
    unique.dedup();
    Access {
        plan_id: single_plan.map(|p| p.0),
        plan_version: single_plan.map(|p| p.1),
        nhs_number: (unique.len() == 1).then(|| unique[0].clone()),
        view: Some(View::Fhir),
        returned_nhs_numbers: unique,
        detail: Some(json!({
            "fhir": {
                "publicUrl": settings.public_url,
                "custodianOds": settings.custodian_ods,
                "bundle": bundle_link,
                "entries": entries.iter().map(|(plan, version, reference, mode)| json!({
                    "planId": plan, "version": version, "reference": reference,
                    "mode": if *mode == SearchMode::Match { "match" } else { "include" },
                })).collect::<Vec<_>>(),
            }
        })),
        ..Access::default()
    }
}

/// One resource by type and id, as it stands now.
///
/// # Errors
/// Forbidden for roles that do not read plans; not found for a resource the caller may not see
/// or that does not exist.
pub async fn read(
    db: &Database,
    actor: &Actor,
    settings: &FhirSettings,
    resource_type: ResourceType,
    id: &str,
) -> Result<Shown<FhirDocument>, AppError> {
    use_cases::FHIR_READ.authorize(actor)?;
    let row = if resource_type == ResourceType::Patient {
        let nhs = NhsNumber::parse(id).map_err(|_| not_found(resource_type, id))?;
        db.plan_for_person(nhs).await?
    } else {
        let plan_id =
            ucp_fhir::plan_of(resource_type, id).ok_or_else(|| not_found(resource_type, id))?;
        db.plan(plan_id).await?
    };
    let row = ensure_visible(actor, row).map_err(|e| match e {
        AppError::NotFound(_) => not_found(resource_type, id),
        other => other,
    })?;
    let shown = shown_plan(db, &row).await?;
    let resource = plan_resources(shown.plan_id, &shown.plan, settings)
        .into_iter()
        .find(|r| r.resource_type == resource_type && r.id == id)
        .ok_or_else(|| not_found(resource_type, id))?;
    let version = (resource_type == ResourceType::CarePlan).then_some(shown.version);
    let access = access(
        settings,
        &[(
            shown.plan_id,
            shown.version,
            resource.reference(),
            SearchMode::Match,
        )],
        None,
        vec![shown.plan.nhs_number.to_string()],
    );
    Ok(Shown::new(
        FhirDocument {
            body: resource.json,
            version,
        },
        access,
    ))
}

/// A CarePlan as it was at one of its versions.
///
/// # Errors
/// As [`read`]; not found for a version the plan never had.
pub async fn care_plan_version(
    db: &Database,
    actor: &Actor,
    settings: &FhirSettings,
    plan_id: Uuid,
    version: i64,
) -> Result<Shown<FhirDocument>, AppError> {
    use_cases::FHIR_READ_VERSION.authorize(actor)?;
    let row = ensure_visible(actor, db.plan(plan_id).await?)?;
    let plan = plan_state(db, plan_id, AsOf::Version(version), row.version).await?;
    let resource = plan_resources(plan_id, &plan, settings)
        .into_iter()
        .find(|r| r.resource_type == ResourceType::CarePlan)
        .ok_or_else(|| not_found(ResourceType::CarePlan, &plan_id.to_string()))?;
    let access = access(
        settings,
        &[(
            plan_id,
            plan.version,
            resource.reference(),
            SearchMode::Match,
        )],
        None,
        vec![plan.nhs_number.to_string()],
    );
    Ok(Shown::new(
        FhirDocument {
            body: resource.json,
            version: Some(plan.version),
        },
        access,
    ))
}

/// The person's plans the caller may see, current first.
async fn visible_plans(
    db: &Database,
    actor: &Actor,
    nhs: NhsNumber,
) -> Result<Vec<ShownPlan>, AppError> {
    let mut out = Vec::new();
    for row in db.plans_for_person(nhs).await? {
        if may_see_row(actor, &row) {
            out.push(shown_plan(db, &row).await?);
        }
    }
    Ok(out)
}

fn bundle(
    settings: &FhirSettings,
    self_link: &str,
    picked: Vec<(&ShownPlan, Resource, SearchMode)>,
) -> Shown<FhirDocument> {
    let notes: Vec<(Uuid, i64, String, SearchMode)> = picked
        .iter()
        .map(|(p, r, m)| (p.plan_id, p.version, r.reference(), *m))
        .collect();
    let nhs_numbers = picked
        .iter()
        .map(|(p, _, _)| p.plan.nhs_number.to_string())
        .collect();
    let entries: Vec<BundleEntry> = picked
        .into_iter()
        .map(|(_, resource, mode)| BundleEntry { resource, mode })
        .collect();
    let body = searchset(settings, self_link, &entries);
    Shown::new(
        FhirDocument {
            body,
            version: None,
        },
        access(settings, &notes, Some(self_link), nhs_numbers),
    )
}

/// Resources of one type in a person's plans, current plan first.
///
/// # Errors
/// Forbidden for roles that do not read plans.
pub async fn search_by_patient(
    db: &Database,
    actor: &Actor,
    settings: &FhirSettings,
    resource_type: ResourceType,
    criteria: &PatientCriteria,
    self_link: &str,
) -> Result<Shown<FhirDocument>, AppError> {
    use_cases::FHIR_SEARCH.authorize(actor)?;
    let plans = visible_plans(db, actor, criteria.nhs_number).await?;
    let mut picked = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        for r in plan_resources(plan.plan_id, &plan.plan, settings) {
            // The person is one Patient, from their current plan.
            if r.resource_type != resource_type || (resource_type == ResourceType::Patient && i > 0)
            {
                continue;
            }
            if let Some(wanted) = &criteria.status {
                if r.json.get("status").and_then(Value::as_str) != Some(wanted.as_str()) {
                    continue;
                }
            }
            picked.push((plan, r, SearchMode::Match));
        }
    }
    Ok(bundle(settings, self_link, picked))
}

/// Patients found by name, date of birth and postcode, as `/v1/patients` finds them.
///
/// # Errors
/// Forbidden for roles that do not search.
pub async fn search_patients(
    db: &Database,
    actor: &Actor,
    settings: &FhirSettings,
    mut search: PatientSearch,
    self_link: &str,
) -> Result<Shown<FhirDocument>, AppError> {
    use_cases::FHIR_SEARCH_PATIENTS.authorize(actor)?;
    search.active_only = !actor.role.keeps_plans();
    let mut seen = HashMap::new();
    let mut plans = Vec::new();
    for m in db.search_patients(&search).await? {
        if seen.insert(m.nhs_number, ()).is_some() || !may_see(actor, m.nhs_number, m.status) {
            continue;
        }
        // The person as their current plan shows them.
        if let Some(row) = db.plan_for_person(m.nhs_number).await? {
            if may_see_row(actor, &row) {
                plans.push(shown_plan(db, &row).await?);
            }
        }
    }
    let picked = plans
        .iter()
        .filter_map(|p| {
            plan_resources(p.plan_id, &p.plan, settings)
                .into_iter()
                .find(|r| r.resource_type == ResourceType::Patient)
                .map(|r| (p, r, SearchMode::Match))
        })
        .collect();
    Ok(bundle(settings, self_link, picked))
}

/// Everything of a person's plans in one Bundle: the Patient, then each plan and its parts.
///
/// # Errors
/// As [`read`]; not found when the caller may see no plan of the person.
pub async fn everything(
    db: &Database,
    actor: &Actor,
    settings: &FhirSettings,
    nhs: NhsNumber,
    self_link: &str,
) -> Result<Shown<FhirDocument>, AppError> {
    use_cases::FHIR_EVERYTHING.authorize(actor)?;
    let plans = visible_plans(db, actor, nhs).await?;
    if plans.is_empty() {
        return Err(not_found(ResourceType::Patient, &nhs.to_string()));
    }
    let mut picked = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        for r in plan_resources(plan.plan_id, &plan.plan, settings) {
            if r.resource_type == ResourceType::Patient && i > 0 {
                continue;
            }
            picked.push((plan, r, SearchMode::Match));
        }
    }
    Ok(bundle(settings, self_link, picked))
}

/// Exactly the FHIR document an access-log entry showed, rebuilt from the log with the
/// settings it was made with.
///
/// # Errors
/// Not found when the entry's note cannot be read; when the store fails.
pub async fn replay(db: &Database, detail: &Value) -> Result<Value, AppError> {
    let nothing = || AppError::NotFound("This access showed no FHIR resource.".into());
    let fhir = detail.get("fhir").ok_or_else(nothing)?;
    let text = |k: &str| fhir.get(k).and_then(Value::as_str).map(str::to_owned);
    let settings = FhirSettings {
        public_url: text("publicUrl").ok_or_else(nothing)?,
        custodian_ods: text("custodianOds").ok_or_else(nothing)?,
    };
    let mut states: HashMap<(Uuid, i64), Vec<Resource>> = HashMap::new();
    let mut entries = Vec::new();
    for e in fhir
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(nothing)?
    {
        let plan_id = e
            .get("planId")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(nothing)?;
        let version = e
            .get("version")
            .and_then(Value::as_i64)
            .ok_or_else(nothing)?;
        let reference = e
            .get("reference")
            .and_then(Value::as_str)
            .ok_or_else(nothing)?;
        let mode = if e.get("mode").and_then(Value::as_str) == Some("include") {
            SearchMode::Include
        } else {
            SearchMode::Match
        };
        let resources = match states.entry((plan_id, version)) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let history = db
                    .read_stream(plan_id, StreamBound::UpToVersion(version))
                    .await?;
                let plan = fold(&history)?.ok_or_else(nothing)?;
                v.insert(plan_resources(plan_id, &plan, &settings))
            }
        };
        let resource = resources
            .iter()
            .find(|r| r.reference() == reference)
            .cloned()
            .ok_or_else(nothing)?;
        entries.push(BundleEntry { resource, mode });
    }
    match fhir.get("bundle").and_then(Value::as_str) {
        Some(link) => Ok(searchset(&settings, link, &entries)),
        None => entries
            .into_iter()
            .next()
            .map(|e| e.resource.json)
            .ok_or_else(nothing),
    }
}
