//! The rules of an Emergency Treatment Plan that need the moment and the person: DOMAIN.md's
//! "Trusting a decision". A crew may withhold CPR because of this form, so a form that could
//! not have been made as it says is refused, each breach named by JSON pointer. The rules of
//! signatures themselves are the signing module's: a signature is an act, not a field.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::{EmergencyTreatmentPlan, FieldError, Involvement};

pub use crate::signing::CLOCK_SKEW;

/// Full years between a birth date and a day.
#[must_use]
pub fn age_on(birth_date: NaiveDate, day: NaiveDate) -> i32 {
    let mut years = day.year() - birth_date.year();
    if (day.month(), day.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    years
}

/// Every rule the plan breaks, as of `now`, for a person born on `birth_date`.
#[must_use]
pub fn breaches(
    etp: &EmergencyTreatmentPlan,
    now: DateTime<Utc>,
    birth_date: NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let latest = etp.signatures.iter().map(|s| s.signed_at).max();
    if let (Some(latest), Some(due)) = (latest, etp.review.as_ref().and_then(|r| r.due)) {
        if due < latest.date_naive() {
            errors.push(FieldError::new(
                "/review/due",
                format!(
                    "the review cannot be due before the plan was signed ({})",
                    latest.date_naive()
                ),
            ));
        }
    }
    // The day the form was completed: when the signatures over this decision were made (a
    // paper form typed in was completed on its own date), else today.
    let completed = crate::signing::current_signatures(etp)
        .into_iter()
        .map(|s| s.signed_at.date_naive())
        .min()
        .unwrap_or_else(|| now.date_naive());
    let adult = age_on(birth_date, completed) >= 18;
    if adult && etp.cpr_recommendation == crate::CprRecommendation::ModifiedCpr {
        errors.push(FieldError::new(
            "/cprRecommendation",
            format!(
                "modified CPR is for a child: the person was {} on the day the form was completed ({completed}). For an adult the form offers CPR attempts recommended or not recommended; say what is and is not wanted in the interventions",
                age_on(birth_date, completed)
            ),
        ));
    }
    let letters = involvement(etp, adult);
    // Capacity is checked against involvement the form allows, not against a mistaken list.
    let allowed = !letters.iter().any(|e| e.pointer == "/involvement");
    errors.extend(letters);
    if allowed {
        errors.extend(capacity_agrees(etp));
    }
    if etp.legal_welfare_proxy.is_some() && etp.legal_proxy_participation.is_none() {
        errors.push(FieldError::new(
            "/legalProxyParticipation",
            "record how the legal welfare proxy took part (or why they did not)",
        ));
    }
    errors
}

/// ReSPECT v3 sections 5 and 6 agree: A is a person with capacity, fully involved; B is a
/// person who lacks it, the plan made with their legal proxy or, where there is none, family or
/// friends, who are named.
fn capacity_agrees(etp: &EmergencyTreatmentPlan) -> Vec<FieldError> {
    use crate::Capacity::{HasCapacity, LacksCapacity};
    let mut errors = Vec::new();
    let words = |c: crate::Capacity| match c {
        HasCapacity => "has capacity",
        LacksCapacity => "lacks capacity",
        crate::Capacity::Indeterminate => "capacity indeterminate",
    };
    if etp.involvement.contains(&Involvement::A) && etp.capacity != HasCapacity {
        errors.push(FieldError::new(
            "/capacity",
            format!(
                "involvement A means the person has capacity and was fully involved, but capacity is recorded as \"{}\"",
                words(etp.capacity)
            ),
        ));
    }
    if etp.involvement.contains(&Involvement::B) {
        if etp.capacity != LacksCapacity {
            errors.push(FieldError::new(
                "/capacity",
                format!(
                    "involvement B means the person lacks capacity, but capacity is recorded as \"{}\"",
                    words(etp.capacity)
                ),
            ));
        }
        if etp.legal_welfare_proxy.is_none() && etp.involvement_detail.is_none() {
            errors.push(FieldError::new(
                "/involvementDetail",
                "involvement B: name the legal welfare proxy, or else the family or friends consulted",
            ));
        }
    }
    errors
}

/// ReSPECT v3 section 6: an adult's plan was made with one of A, B or D; a child's with C1, C2
/// or C3, and C1 or C2 may be combined with C3. D needs its reason.
fn involvement(etp: &EmergencyTreatmentPlan, adult: bool) -> Vec<FieldError> {
    use Involvement::{A, B, C1, C2, C3, D};
    let mut letters = etp.involvement.clone();
    letters.sort();
    letters.dedup();
    let allowed = if adult {
        matches!(letters.as_slice(), [A] | [B] | [D])
    } else {
        matches!(letters.as_slice(), [C1] | [C2] | [C3] | [C1, C3] | [C2, C3])
    };
    let mut errors = Vec::new();
    if !allowed || letters.len() != etp.involvement.len() {
        errors.push(FieldError::new(
            "/involvement",
            if adult {
                "for an adult, exactly one of A, B or D"
            } else {
                "for a child, C1, C2 or C3, or C1 or C2 together with C3"
            },
        ));
    }
    if letters.contains(&D) && etp.involvement_detail.is_none() {
        errors.push(FieldError::new(
            "/involvementDetail",
            "involvement D needs the reason stated",
        ));
    }
    errors
}
