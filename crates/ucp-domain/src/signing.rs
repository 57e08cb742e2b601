//! Signing an Emergency Treatment Plan: an act of the signer, bound to what they signed.
//!
//! A crew withholds CPR because a senior clinician signed a decision. A signature copied from
//! an earlier version into a changed form would vouch for words its signer never saw, so a
//! signature here is never taken from a request body: it is made by the signer's own signed-in
//! request, names the signer from their sign-in, and carries the digest of the decision content
//! it was made over. A change to that content leaves every earlier signature on the earlier
//! version. A paper form typed in afterwards keeps its signatures, marked as transcribed and by
//! whom.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::registration::{canonical, designation_in, SENIOR_DESIGNATIONS};
use crate::{
    Author, ClinicianSignature, Countersignature, DomainError, EmergencyTreatmentPlan, FieldError,
    ShortText, SignatureMethod,
};

/// How far in the future a signature may be dated: clocks of the signing device and of this
/// service differ.
pub const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Who may sign as the senior responsible clinician in this deployment: designations, matched
/// as whole words ("Consultant geriatrician" holds "consultant").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningPolicy {
    senior_designations: Vec<String>,
}

impl Default for SigningPolicy {
    fn default() -> Self {
        Self {
            senior_designations: SENIOR_DESIGNATIONS
                .iter()
                .map(|d| (*d).to_owned())
                .collect(),
        }
    }
}

impl SigningPolicy {
    /// A policy with its own list of senior designations.
    ///
    /// # Errors
    /// An empty list: nobody could sign as the senior responsible clinician.
    pub fn new<S: AsRef<str>>(designations: &[S]) -> Result<Self, String> {
        let senior_designations: Vec<String> = designations
            .iter()
            .map(|d| d.as_ref().trim().to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        if senior_designations.is_empty() {
            return Err(
                "the list of senior designations is empty: nobody could sign as the senior responsible clinician"
                    .into(),
            );
        }
        Ok(Self {
            senior_designations,
        })
    }

    /// The process-wide default, for callers that have no deployment settings (tests, tools).
    #[must_use]
    pub fn default_ref() -> &'static Self {
        static DEFAULT: std::sync::LazyLock<SigningPolicy> =
            std::sync::LazyLock::new(SigningPolicy::default);
        &DEFAULT
    }

    #[must_use]
    pub fn may_be_senior(&self, designation: &str) -> bool {
        designation_in(designation, &self.senior_designations)
    }

    #[must_use]
    pub fn senior_designations(&self) -> &[String] {
        &self.senior_designations
    }
}

/// Who is signing: their sign-in, and the professional registration it carries (CIS2 may).
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub author: &'a Author,
    pub registration: Option<&'a str>,
}

/// The decision content a signature vouches for, in a fixed order.
#[derive(Serialize)]
struct Decision<'a> {
    cpr_recommendation: &'a crate::CprRecommendation,
    modified_cpr_details: &'a Option<crate::LongText>,
    clinical_focus: &'a crate::ClinicalFocus,
    interventions: &'a [crate::InterventionGuidance],
    capacity: &'a crate::Capacity,
    capacity_assessment: &'a Option<crate::LongText>,
    involvement: &'a [crate::Involvement],
    involvement_detail: &'a Option<crate::LongText>,
}

/// The digest of an Emergency Treatment Plan's decision content: CPR (with modified CPR's
/// details), the focus of care, the interventions, capacity and involvement (each with its
/// detail). Other parts of the form (contacts, the review box, what matters) change without
/// unsigning the decision.
#[must_use]
pub fn decision_digest(etp: &EmergencyTreatmentPlan) -> String {
    let decision = Decision {
        cpr_recommendation: &etp.cpr_recommendation,
        modified_cpr_details: &etp.modified_cpr_details,
        clinical_focus: &etp.clinical_focus,
        interventions: &etp.interventions,
        capacity: &etp.capacity,
        capacity_assessment: &etp.capacity_assessment,
        involvement: &etp.involvement,
        involvement_detail: &etp.involvement_detail,
    };
    // Serialising these types cannot fail (no maps with non-string keys, no custom errors).
    let bytes = serde_json::to_vec(&decision).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

/// The signatures that sign the decision as it stands: those over its current digest.
#[must_use]
pub fn current_signatures(etp: &EmergencyTreatmentPlan) -> Vec<&ClinicianSignature> {
    let digest = decision_digest(etp);
    etp.signatures
        .iter()
        .filter(|s| s.digest.as_deref() == Some(digest.as_str()) && s.superseded_in.is_none())
        .collect()
}

/// The same signature on record: what a reader sees of it is the same.
fn same(a: &ClinicianSignature, b: &ClinicianSignature) -> bool {
    a.name == b.name
        && a.role == b.role
        && a.registration_number == b.registration_number
        && a.senior_responsible == b.senior_responsible
        && a.signed_at == b.signed_at
}

/// The Emergency Treatment Plan to record from a save: the signatures on record kept, new
/// entries taken only as transcriptions of paper by `signer`, and the signer's own signature
/// added when they sign (`signAs`). Every breach is named by pointer.
///
/// # Errors
/// A new entry that is not a transcription, a registration not in its register's form, a
/// senior signature by a designation not on the policy's list, a transcription dated in the
/// future, or a form that would be recorded with no signature at all.
pub fn on_save(
    prior: Option<&EmergencyTreatmentPlan>,
    mut etp: EmergencyTreatmentPlan,
    signer: Signer<'_>,
    policy: &SigningPolicy,
    now: DateTime<Utc>,
) -> Result<EmergencyTreatmentPlan, Vec<FieldError>> {
    let digest = decision_digest(&etp);
    // A paper form is typed in with the decision it signs: the first record, or a new decision.
    let records_decision = prior.is_none_or(|p| decision_digest(p) != digest);
    let on_record: Vec<ClinicianSignature> =
        prior.map(|p| p.signatures.clone()).unwrap_or_default();
    let mut signatures = on_record.clone();
    let mut errors = Vec::new();
    for (i, sent) in std::mem::take(&mut etp.signatures).into_iter().enumerate() {
        if on_record.iter().any(|kept| same(kept, &sent)) {
            continue;
        }
        let at = format!("/signatures/{i}");
        if sent.method != Some(SignatureMethod::TranscribedFromPaper) {
            errors.push(FieldError::new(
                format!("{at}/method"),
                "a signature is made by its signer: sign this save with signAs, or countersign with POST …/emergency-treatment-plan/signatures; a paper form typed in sends its signatures with method transcribed-from-paper",
            ));
            continue;
        }
        if !records_decision {
            errors.push(FieldError::new(
                format!("{at}/method"),
                "a paper form is typed in with the decision it signs, and this decision is on record already: a signature over it now is made by its signer (POST …/emergency-treatment-plan/signatures)",
            ));
            continue;
        }
        if sent.signed_at > now + CLOCK_SKEW {
            errors.push(FieldError::new(
                format!("{at}/signedAt"),
                "a signature cannot be dated in the future",
            ));
        }
        let registration = canonical(sent.registration_number.as_str());
        if registration.is_none() {
            errors.push(bad_registration(&format!("{at}/registrationNumber")));
        }
        if sent.senior_responsible && !policy.may_be_senior(sent.role.as_str()) {
            errors.push(not_senior(&format!("{at}/role"), &sent.role, policy));
        }
        if let Some((_, registration)) = registration {
            let registration =
                ShortText::parse(&registration).unwrap_or(sent.registration_number.clone());
            signatures.push(ClinicianSignature {
                registration_number: registration,
                method: Some(SignatureMethod::TranscribedFromPaper),
                digest: Some(digest.clone()),
                signed_by: None,
                transcribed_by: Some(signer.author.clone()),
                superseded_in: None,
                ..sent
            });
        }
    }
    if let Some(sign_as) = etp.sign_as.take() {
        // The signer's own signature over this decision, if they signed it before: saving it
        // again signed is signing it again, now (a decision reaffirmed after a review that
        // found it wanting is a signed act after that review), not a second signature.
        let already = signatures.iter().position(|s| {
            s.digest.as_deref() == Some(digest.as_str())
                && s.superseded_in.is_none()
                && s.signed_by
                    .as_ref()
                    .is_some_and(|b| b.actor == signer.author.actor)
        });
        match electronic(
            "/signAs",
            &sign_as.role,
            sign_as.registration_number.as_ref(),
            sign_as.senior_responsible,
            signer,
            policy,
            now,
            &digest,
        ) {
            Ok(signature) => match already.and_then(|i| signatures.get_mut(i)) {
                Some(slot) => *slot = signature,
                None => signatures.push(signature),
            },
            Err(e) => errors.extend(e),
        }
    }
    if signatures.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "/signAs",
            "an Emergency Treatment Plan is signed when it is first recorded: sign it with signAs (your designation, registration and whether you are the senior responsible clinician), or, for a paper form typed in, send its signatures with method transcribed-from-paper",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    etp.signatures = signatures;
    etp.decision_digest = None;
    Ok(etp)
}

/// A countersignature of the form as it stands, by `signer`.
///
/// # Errors
/// [`DomainError::DecisionChangedSinceRead`] when the digest named is not the current one,
/// [`DomainError::AlreadySigned`] when the signer has signed this decision already, and
/// [`DomainError::Invalid`] for a bad registration or designation.
pub fn countersign(
    etp: &EmergencyTreatmentPlan,
    request: &Countersignature,
    signer: Signer<'_>,
    policy: &SigningPolicy,
    now: DateTime<Utc>,
) -> Result<ClinicianSignature, DomainError> {
    let digest = decision_digest(etp);
    if request.digest.as_str() != digest {
        return Err(DomainError::DecisionChangedSinceRead { current: digest });
    }
    if etp.signatures.iter().any(|s| {
        s.digest.as_deref() == Some(digest.as_str())
            && s.superseded_in.is_none()
            && s.signed_by
                .as_ref()
                .is_some_and(|b| b.actor == signer.author.actor)
    }) {
        return Err(DomainError::AlreadySigned);
    }
    electronic(
        "",
        &request.role,
        request.registration_number.as_ref(),
        request.senior_responsible,
        signer,
        policy,
        now,
        &digest,
    )
    .map_err(DomainError::Invalid)
}

/// The signer's own signature: their name from their sign-in, their registration from it or
/// as they give it (the same when both are there), dated now.
#[allow(clippy::too_many_arguments)] // each is one part of a signature
fn electronic(
    at: &str,
    role: &ShortText,
    given: Option<&ShortText>,
    senior_responsible: bool,
    signer: Signer<'_>,
    policy: &SigningPolicy,
    now: DateTime<Utc>,
    digest: &str,
) -> Result<ClinicianSignature, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = signer
        .author
        .name
        .as_deref()
        .and_then(|n| ShortText::parse(n).ok());
    if name.is_none() {
        errors.push(FieldError::new(
            at.to_owned(),
            "your sign-in does not carry a name that can be shown, and a signature must name its signer: sign in with an identity that does",
        ));
    }
    let pointer = format!("{at}/registrationNumber");
    let from_token = signer.registration.map(|r| (r, canonical(r)));
    let given_canonical = given.map(|g| canonical(g.as_str()));
    let registration: Option<String> = match (from_token, given_canonical) {
        (Some((raw, None)), _) => {
            errors.push(FieldError::new(
                pointer,
                format!("your sign-in gives your registration as {raw:?}, which is not in its register's form; ask for your identity record to be corrected"),
            ));
            None
        }
        (Some((_, Some((_, token)))), Some(Some((_, sent)))) if token != sent => {
            errors.push(FieldError::new(
                pointer,
                format!("your sign-in gives your registration as {token}: sign with that one"),
            ));
            None
        }
        (Some((_, Some((_, token)))), _) => Some(token),
        (None, Some(Some((_, sent)))) => Some(sent),
        (None, Some(None)) => {
            errors.push(bad_registration(&pointer));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                pointer,
                "give your professional registration (your sign-in does not carry it)",
            ));
            None
        }
    };
    if senior_responsible && !policy.may_be_senior(role.as_str()) {
        errors.push(not_senior(&format!("{at}/role"), role, policy));
    }
    let registration = registration.and_then(|r| ShortText::parse(&r).ok());
    match (name, registration) {
        (Some(name), Some(registration)) if errors.is_empty() => Ok(ClinicianSignature {
            name,
            role: role.clone(),
            registration_number: registration,
            senior_responsible,
            signed_at: now,
            method: Some(SignatureMethod::Electronic),
            digest: Some(digest.to_owned()),
            signed_by: Some(signer.author.clone()),
            transcribed_by: None,
            superseded_in: None,
        }),
        _ => Err(errors),
    }
}

fn bad_registration(pointer: &str) -> FieldError {
    FieldError::new(
        pointer.to_owned(),
        "not a professional registration as its register writes it: GMC 7 digits (GMC 1234567), NMC 2 digits, a letter, 4 digits, a letter (12A3456E), HCPC the profession's prefix and digits (PA12345), GPhC 7 digits with its name",
    )
}

fn not_senior(pointer: &str, role: &ShortText, policy: &SigningPolicy) -> FieldError {
    FieldError::new(
        pointer.to_owned(),
        format!(
            "{:?} may not sign as the senior responsible clinician: that is a designation holding one of {}",
            role.as_str(),
            policy.senior_designations().join(", ")
        ),
    )
}
