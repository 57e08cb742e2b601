//! National Record Locator pointers: DocumentReferences shaped as the NRL's producer API takes
//! them. The NRL allows exactly one type coding per pointer, so a plan has one pointer as a
//! Personalised Care and Support Plan and, while an Emergency Treatment Plan is recorded, a
//! second as a ReSPECT form. A pointer lives while the plan is active; a voided plan's
//! pointers say entered-in-error, and so does the ReSPECT pointer of an Emergency Treatment
//! Plan retracted as entered in error (consumers holding it learn it was a mistake, rather
//! than seeing it vanish); a withdrawn plan, or one whose person died, has none (the publisher
//! deletes them).

use serde_json::json;
use ucp_domain::{CarePlan, PlanSection, PlanStatus, TraceKind};
use uuid::Uuid;

use crate::{instant, FhirSettings, Resource, ResourceType, NHS_NUMBER_SYSTEM, ODS_SYSTEM, SNOMED};

/// What a pointer points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerKind {
    /// The whole plan: SNOMED CT 2181441000000107.
    CareAndSupportPlan,
    /// The Emergency Treatment Plan: SNOMED CT 1382601000000107.
    Respect,
}

impl PointerKind {
    fn coding(self) -> (&'static str, &'static str) {
        match self {
            Self::CareAndSupportPlan => ("2181441000000107", "Personalised Care and Support Plan"),
            Self::Respect => ("1382601000000107", "ReSPECT form"),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::CareAndSupportPlan => "",
            Self::Respect => "-respect",
        }
    }
}

/// A pointer's id: the custodian's ODS code, then the plan (the NRL requires ids of the form
/// `{ODS code}-{local id}`).
#[must_use]
pub fn pointer_id(settings: &FhirSettings, plan_id: Uuid, kind: PointerKind) -> String {
    format!("{}-{plan_id}{}", settings.custodian_ods, kind.suffix())
}

/// The pointers a plan should have in the NRL as it stands.
#[must_use]
pub fn pointers(plan_id: Uuid, plan: &CarePlan, settings: &FhirSettings) -> Vec<Resource> {
    let status = match plan.status {
        // Consent to share withdrawn: the plan is not advertised beyond those caring for the
        // person; the pointers are deleted, and made again when consent is given again.
        PlanStatus::Active if plan.consent_withdrawal.is_some() => return Vec::new(),
        PlanStatus::Active => "current",
        PlanStatus::Voided => "entered-in-error",
        PlanStatus::Withdrawn | PlanStatus::Deceased => return Vec::new(),
    };
    let mut kinds = vec![(PointerKind::CareAndSupportPlan, plan.created_at, status)];
    match (
        plan.section(PlanSection::EmergencyTreatmentPlan),
        &plan.decision_trace,
    ) {
        (Some(etp), _) => kinds.push((PointerKind::Respect, etp.changed_at, status)),
        (None, Some(t)) if t.how == TraceKind::Retracted => {
            kinds.push((PointerKind::Respect, t.until, "entered-in-error"));
        }
        (None, _) => {}
    }
    let public = settings.public_url.trim_end_matches('/');
    let base = settings.base();
    let author = plan
        .created_by
        .organisation
        .clone()
        .unwrap_or_else(|| settings.custodian_ods.clone());
    kinds
        .into_iter()
        .map(|(kind, created, status)| {
            let id = pointer_id(settings, plan_id, kind);
            let (code, display) = kind.coding();
            let attachment = |content_type: &str, url: String, title: &str| {
                json!({
                    "attachment": {
                        "contentType": content_type,
                        "url": url,
                        "title": title,
                        "creation": instant(created),
                    },
                    "format": {
                        "system": "https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode",
                        "code": "urn:nhs-ic:unstructured",
                        "display": "Unstructured Document",
                    },
                    "extension": [{
                        "url": "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability",
                        "valueCodeableConcept": {"coding": [{
                            "system": "https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability",
                            "code": "dynamic",
                            "display": "Dynamic",
                        }]},
                    }],
                })
            };
            let json = crate::json::clean(json!({
                "resourceType": "DocumentReference",
                "id": id,
                "meta": {
                    "lastUpdated": instant(plan.updated_at),
                    "profile": [ResourceType::DocumentReference.profile()],
                },
                "status": status,
                "type": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                "category": [{"coding": [{"system": SNOMED, "code": "734163000", "display": "Care plan"}]}],
                "subject": {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": plan.nhs_number.to_string()}},
                "date": instant(plan.updated_at),
                "author": [{"identifier": {"system": ODS_SYSTEM, "value": author}}],
                "custodian": {"identifier": {"system": ODS_SYSTEM, "value": settings.custodian_ods}},
                "content": [
                    attachment("application/fhir+json", format!("{base}/CarePlan/{plan_id}"), "Universal Care Plan (FHIR R4)"),
                    attachment("application/json", format!("{public}/v1/care-plans/{plan_id}"), "Universal Care Plan (UCP API)"),
                ],
            }));
            Resource {
                resource_type: ResourceType::DocumentReference,
                id,
                json,
            }
        })
        .collect()
}

/// What the NRL must be told about one pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum PointerChange {
    /// A pointer the NRL does not have yet.
    Create(Resource),
    /// A pointer whose content changed (status, type, what it points at).
    Update(Resource),
    /// A pointer that must go: the plan was withdrawn, the person died, the ETP was retracted.
    Delete(String),
}

impl PointerChange {
    /// The pointer's id.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Self::Create(r) | Self::Update(r) => &r.id,
            Self::Delete(id) => id,
        }
    }

    /// The HTTP method of the NRL producer API that makes this change.
    #[must_use]
    pub fn method(&self) -> &'static str {
        match self {
            Self::Create(_) => "POST",
            Self::Update(_) => "PUT",
            Self::Delete(_) => "DELETE",
        }
    }
}

/// A pointer's content without what moves on every change to the plan (its timestamps), so that
/// a change to the plan that leaves the pointer as it was sends nothing.
fn substance(r: &Resource) -> serde_json::Value {
    let mut v = r.json.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("meta");
        o.remove("date");
    }
    v
}

/// The changes that take the NRL from the pointers of `before` to those of `after`.
#[must_use]
pub fn pointer_changes(
    plan_id: Uuid,
    before: Option<&CarePlan>,
    after: &CarePlan,
    settings: &FhirSettings,
) -> Vec<PointerChange> {
    let old = before
        .map(|p| pointers(plan_id, p, settings))
        .unwrap_or_default();
    let new = pointers(plan_id, after, settings);
    let mut changes = Vec::new();
    for r in &new {
        match old.iter().find(|o| o.id == r.id) {
            None => changes.push(PointerChange::Create(r.clone())),
            Some(o) if substance(o) != substance(r) => {
                changes.push(PointerChange::Update(r.clone()))
            }
            Some(_) => {}
        }
    }
    for o in &old {
        if !new.iter().any(|r| r.id == o.id) {
            changes.push(PointerChange::Delete(o.id.clone()));
        }
    }
    changes
}
