//! The extensions this service defines, for what a care plan holds and UK Core has no element
//! for: the person's own words in the person-centred forms, the ReSPECT form's sections, the
//! legal facts about contacts. Each is declared once in [`EXTENSIONS`]; the resources use them
//! through [`url`], and the facade serves each as a `StructureDefinition` made from the same
//! table, so a consumer can look up every extension it meets.

use serde_json::{json, Value};

/// Where this service's definitions live. A canonical URL is an identifier, the same in every
/// deployment; each is also served at `/fhir/R4/StructureDefinition/{id}`.
pub const CANONICAL_BASE: &str = "https://universal-care-plan.london/fhir/StructureDefinition";

/// The FHIR type of an extension's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Code,
    Boolean,
    Integer,
    Date,
    DateTime,
    ContactPoint,
    Reference,
}

impl ValueType {
    fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Code => "code",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Date => "date",
            Self::DateTime => "dateTime",
            Self::ContactPoint => "ContactPoint",
            Self::Reference => "Reference",
        }
    }

    /// The `value[x]` element name for this type.
    #[must_use]
    pub fn element(self) -> String {
        let name = self.name();
        let mut chars = name.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
        format!("value{first}{}", chars.as_str())
    }
}

/// What an extension holds: one value, or named parts (a complex extension).
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Simple(ValueType),
    Complex(&'static [(&'static str, ValueType, &'static str)]),
}

/// One extension definition.
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The elements it may appear on.
    pub contexts: &'static [&'static str],
    pub shape: Shape,
    /// May appear more than once.
    pub repeats: bool,
}

use ValueType as T;

/// Every extension this service uses.
pub const EXTENSIONS: &[Definition] = &[
    Definition { id: "ucp-prognosis", title: "Estimated prognosis", description: "London UCP's estimated prognosis: days, weeks, months, years or unknown.", contexts: &["CarePlan"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-death-expected", title: "Death expected", description: "Whether the person's death is expected (then it is verified, not attempted against).", contexts: &["CarePlan"], shape: Shape::Simple(T::Boolean), repeats: false },
    Definition { id: "ucp-death-verified-by", title: "Who verifies an expected death", description: "Who verifies the person's death when it is expected, and how to reach them.", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-dols-in-place", title: "Deprivation of Liberty Safeguards in place", description: "yes, no or unknown.", contexts: &["CarePlan"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-safeguarding-concerns", title: "Safeguarding concerns", description: "Safeguarding concerns, in words.", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-lives-alone", title: "Lives alone", description: "yes, no or unknown.", contexts: &["CarePlan"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-what-matters", title: "What matters to the person", description: "What matters to the person, in their own words (the UCP's What Matters form).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-preferred-place-of-care", title: "Preferred place of care", description: "Where the person would prefer to be cared for, as they said it (Thinking Ahead).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-preferred-place-of-death", title: "Preferred place of death", description: "Where the person would prefer to die, as they said it (Thinking Ahead).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-religious-and-cultural-needs", title: "Religious and cultural needs", description: "The person's religious and cultural needs, in their own words (Thinking Ahead).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-advance-decision-held", title: "Advance decision to refuse treatment held", description: "Whether the person has an advance decision to refuse treatment: yes, no or unknown. When yes, the ADRT is also a Consent resource.", contexts: &["CarePlan"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-planning-document", title: "Other planning document", description: "Another planning document the person has, and where it is kept (Thinking Ahead).", contexts: &["CarePlan"], shape: Shape::Complex(&[("name", T::String, "The document's name."), ("keptAt", T::String, "Where it is kept.")]), repeats: true },
    Definition { id: "ucp-how-best-to-communicate", title: "How best to communicate", description: "How best to communicate with the person (Communication and Accessibility).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-relevant-history", title: "Relevant history", description: "The clinician's account of relevant history (Clinical Background).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-symptom-management-plan", title: "Symptom management plan", description: "The plan for managing symptoms (Anticipatory Medicines and Symptom Management).", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-sickle-cell-plan", title: "Sickle cell crisis plan", description: "The sickle cell crisis plan: day-to-day management, guidance for ambulance crews and for the emergency department.", contexts: &["CarePlan"], shape: Shape::Complex(&[("dayToDayManagement", T::String, "Day-to-day management."), ("ambulanceGuidance", T::String, "What an ambulance crew should do."), ("emergencyDepartmentGuidance", T::String, "What the emergency department should do.")]), repeats: false },
    Definition { id: "ucp-mental-health-crisis-plan", title: "Mental health crisis plan", description: "The mental health crisis plan: triggers and early signs, what helps, and who to contact (RelatedPerson references).", contexts: &["CarePlan"], shape: Shape::Complex(&[("triggersAndEarlySigns", T::String, "Triggers and early signs."), ("whatHelps", T::String, "What helps."), ("crisisContact", T::Reference, "Someone to contact in a crisis (RelatedPerson).")]), repeats: false },
    Definition { id: "ucp-plan-review", title: "Plan review", description: "The plan's last review: when, by whom, whether it is still valid, the note, and when the next review is due.", contexts: &["CarePlan"], shape: Shape::Complex(&[("reviewedAt", T::DateTime, "When it was reviewed."), ("reviewedBy", T::String, "Who reviewed it."), ("stillValid", T::Boolean, "Whether the reviewer judged the plan still valid."), ("note", T::String, "The reviewer's note."), ("nextReviewDate", T::Date, "When the next review is due.")]), repeats: false },
    Definition { id: "ucp-status-reason", title: "Why the plan left active", description: "The reason given when the plan was withdrawn or voided, as written.", contexts: &["CarePlan"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-consent-withdrawn", title: "Consent to share withdrawn", description: "The person withdrew their consent to share the plan.", contexts: &["CarePlan", "Consent"], shape: Shape::Simple(T::Boolean), repeats: false },
    Definition { id: "ucp-support-contact", title: "Support contact", description: "How to reach whoever provides this support.", contexts: &["CarePlan.activity.detail"], shape: Shape::Simple(T::ContactPoint), repeats: false },
    Definition { id: "ucp-consent-basis", title: "Basis of consent to share", description: "The basis on which the plan is shared: person-agreed, best-interests or lasting-power-of-attorney.", contexts: &["Consent"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-consulted", title: "Consulted", description: "Someone consulted for a best-interests decision, as recorded.", contexts: &["Consent"], shape: Shape::Simple(T::String), repeats: true },
    Definition { id: "ucp-kept-at", title: "Kept at", description: "Where the document or medicine is kept, as recorded.", contexts: &["Consent", "MedicationStatement"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-respect-shared-understanding", title: "Shared understanding (ReSPECT section 1)", description: "The shared understanding of the person's health and current condition.", contexts: &["Consent"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-respect-other-planning-documents", title: "Other planning documents (ReSPECT section 1)", description: "Other relevant planning documents and where they are.", contexts: &["Consent"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-respect-legal-proxy", title: "Legal welfare proxy (ReSPECT sections 1 and 6)", description: "The legal welfare proxy, and how they took part in making the plan.", contexts: &["Consent"], shape: Shape::Complex(&[("proxy", T::String, "Who the legal welfare proxy is."), ("participation", T::String, "How they took part, or why they did not.")]), repeats: false },
    Definition { id: "ucp-respect-what-matters", title: "What matters in an emergency (ReSPECT section 2)", description: "The 0 to 10 scale from living as long as possible (0) to quality of life and comfort (10), what the person most values, and what they most fear or wish to avoid.", contexts: &["Consent"], shape: Shape::Complex(&[("priorityScale", T::Integer, "0: living as long as possible matters most; 10: quality of life and comfort matter most."), ("mostValue", T::String, "What the person most values."), ("mostFearOrAvoid", T::String, "What the person most fears or wishes to avoid.")]), repeats: false },
    Definition { id: "ucp-respect-clinical-focus", title: "Clinical focus (ReSPECT section 3)", description: "Where the focus of care lies: life-sustaining-treatment, balanced or symptom-control.", contexts: &["Consent"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-respect-recommendation-reason", title: "Why (ReSPECT section 3)", description: "The reason given for a recommendation about a specific intervention.", contexts: &["Consent.provision"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-respect-modified-cpr", title: "Modified CPR (ReSPECT section 4)", description: "What modified CPR means for this person, as the clinician wrote it. Present only when the recommendation is modified CPR, for which no SNOMED CT concept exists.", contexts: &["Consent.provision", "Flag"], shape: Shape::Simple(T::String), repeats: false },
    Definition { id: "ucp-decision-standing", title: "Standing of the CPR decision", description: "said-no-longer-valid: a review said the recommendations are no longer valid and no Emergency Treatment Plan has been recorded since (the decision is under review). changed-after-signing: the decision content changed after it was signed and nobody has signed it since. In both, the Flag carries no SNOMED CT code (a system reading only codes must not act on it), and its text says why. awaiting-countersignature: signed, but not yet by a senior responsible clinician. Absent otherwise; a review falling overdue does not end the recommendations.", contexts: &["Flag", "Consent"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-respect-capacity", title: "Capacity (ReSPECT section 5)", description: "Whether the person has capacity to take part in making the recommendations (has-capacity, lacks-capacity, indeterminate) and how it was assessed.", contexts: &["Consent"], shape: Shape::Complex(&[("status", T::Code, "has-capacity, lacks-capacity or indeterminate."), ("assessment", T::String, "How capacity was assessed.")]), repeats: false },
    Definition { id: "ucp-respect-involvement", title: "Involvement (ReSPECT section 6)", description: "How the plan was made, in the form's letters (A, B, C1, C2, C3, D), and who took part and when (for D, the reason).", contexts: &["Consent"], shape: Shape::Complex(&[("option", T::Code, "A, B, C1, C2, C3 or D; repeated where the form allows."), ("detail", T::String, "Who took part and when; for D, the reason.")]), repeats: false },
    Definition { id: "ucp-respect-signature", title: "Clinician's signature (ReSPECT section 7)", description: "A clinician who signed the recommendations.", contexts: &["Consent"], shape: Shape::Complex(&[("name", T::String, "The clinician's name."), ("role", T::String, "Their role."), ("registrationNumber", T::String, "Their professional registration number."), ("seniorResponsible", T::Boolean, "Whether they are the senior responsible clinician."), ("signedAt", T::DateTime, "When they signed."), ("method", T::Code, "electronic (by the signer's own sign-in) or transcribed-from-paper."), ("digest", T::String, "The digest of the decision content signed."), ("current", T::Boolean, "Whether it signs the decision as it stands (false: it is on an earlier version).")]), repeats: true },
    Definition { id: "ucp-respect-emergency-contact", title: "Emergency contact (ReSPECT section 8)", description: "Someone to contact in an emergency (RelatedPerson).", contexts: &["Consent"], shape: Shape::Simple(T::Reference), repeats: true },
    Definition { id: "ucp-respect-review", title: "Review (ReSPECT section 9)", description: "When the recommendations are due for review, who reviewed them, and whether they are still valid.", contexts: &["Consent"], shape: Shape::Complex(&[("due", T::Date, "When the review is due."), ("reviewedBy", T::String, "Who reviewed it."), ("stillValid", T::Boolean, "Whether it is still valid.")]), repeats: false },
    Definition { id: "ucp-lpa-health-and-welfare", title: "Lasting power of attorney for health and welfare", description: "Whether this person holds a lasting power of attorney for health and welfare: yes, no or unknown.", contexts: &["RelatedPerson"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-lpa-property-and-financial", title: "Lasting power of attorney for property and financial affairs", description: "Whether this person holds a lasting power of attorney for property and financial affairs: yes, no or unknown.", contexts: &["RelatedPerson"], shape: Shape::Simple(T::Code), repeats: false },
    Definition { id: "ucp-carer", title: "Carer", description: "This person is a carer of the patient.", contexts: &["RelatedPerson"], shape: Shape::Simple(T::Boolean), repeats: false },
    Definition { id: "ucp-contact-first", title: "Contact first", description: "Call this person first in an emergency (for a ReSPECT or crisis contact: the primary contact).", contexts: &["RelatedPerson"], shape: Shape::Simple(T::Boolean), repeats: false },
    Definition { id: "ucp-communication-need", title: "Kind of communication need", description: "hearing, sight, speech, language, learning-disability or other.", contexts: &["Flag"], shape: Shape::Simple(T::Code), repeats: false },
];

/// The canonical URL of one of this service's extensions.
#[must_use]
pub fn url(id: &str) -> String {
    format!("{CANONICAL_BASE}/{id}")
}

/// The definition with this id.
#[must_use]
pub fn definition(id: &str) -> Option<&'static Definition> {
    EXTENSIONS.iter().find(|d| d.id == id)
}

/// A simple extension, or nothing when there is no value.
pub(crate) fn simple(id: &str, value_type: ValueType, value: Option<Value>) -> Option<Value> {
    debug_assert!(definition(id).is_some(), "undeclared extension {id}");
    value.map(|v| json!({"url": url(id), value_type.element(): v}))
}

/// A complex extension from its parts, or nothing when every part is empty.
pub(crate) fn complex(id: &str, parts: Vec<(&str, ValueType, Option<Value>)>) -> Option<Value> {
    debug_assert!(definition(id).is_some(), "undeclared extension {id}");
    let inner: Vec<Value> = parts
        .into_iter()
        .filter_map(|(name, t, v)| v.map(|v| json!({"url": name, t.element(): v})))
        .collect();
    (!inner.is_empty()).then(|| json!({"url": url(id), "extension": inner}))
}

/// The `StructureDefinition` of one extension, in the differential form FHIR tooling reads.
#[must_use]
pub fn structure_definition(def: &Definition) -> Value {
    let mut elements = vec![json!({
        "id": "Extension",
        "path": "Extension",
        "short": def.title,
        "definition": def.description,
        "min": 0,
        "max": if def.repeats { "*" } else { "1" },
    })];
    match def.shape {
        Shape::Simple(t) => {
            elements.push(
                json!({"id": "Extension.extension", "path": "Extension.extension", "max": "0"}),
            );
            elements.push(
                json!({"id": "Extension.url", "path": "Extension.url", "fixedUri": url(def.id)}),
            );
            elements.push(json!({"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": t.name()}]}));
        }
        Shape::Complex(parts) => {
            elements.push(json!({
                "id": "Extension.extension",
                "path": "Extension.extension",
                "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"},
            }));
            for (name, t, description) in parts {
                let slice = format!("Extension.extension:{name}");
                elements.push(json!({"id": slice, "path": "Extension.extension", "sliceName": name, "short": description, "min": 0, "max": if *name == "option" || *name == "crisisContact" { "*" } else { "1" }}));
                elements.push(json!({"id": format!("{slice}.url"), "path": "Extension.extension.url", "fixedUri": name}));
                elements.push(json!({"id": format!("{slice}.value[x]"), "path": "Extension.extension.value[x]", "min": 1, "type": [{"code": t.name()}]}));
            }
            elements.push(
                json!({"id": "Extension.url", "path": "Extension.url", "fixedUri": url(def.id)}),
            );
            elements.push(
                json!({"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"}),
            );
        }
    }
    json!({
        "resourceType": "StructureDefinition",
        "id": def.id,
        "url": url(def.id),
        "name": def.id.split('-').map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        }).collect::<String>(),
        "title": def.title,
        "status": "active",
        "description": def.description,
        "fhirVersion": crate::FHIR_VERSION,
        "kind": "complex-type",
        "abstract": false,
        "context": def.contexts.iter().map(|c| json!({"type": "element", "expression": c})).collect::<Vec<_>>(),
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": elements},
    })
}
