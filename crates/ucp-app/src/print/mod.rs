//! The plan on paper: a ReSPECT-style PDF whose first page is what a crew reads first, then the
//! person's own forms in their words, then the clinical sections. Every page says which version
//! it shows, when it was produced, the plan's status, and carries a QR code and a link to the
//! live plan with the words "Check for a newer version" — paper goes stale silently.
//!
//! Rendered with krilla (real, selectable text in an embedded DejaVu Sans, a document title and
//! language, and a tag tree of headings and paragraphs for screen readers) and the `qrcode`
//! crate. krilla was chosen over printpdf and genpdf because it writes tagged, accessible PDF.

mod content;
mod layout;
mod render;

pub use content::PrintSettings;

use chrono::{DateTime, Utc};
use ucp_domain::views::EmergencySummary;
use ucp_domain::CarePlan;
use uuid::Uuid;

use crate::AppError;

/// The PDF of a plan as it stands in `plan` (any version), produced at `now`.
///
/// # Errors
/// When the PDF cannot be written (a font or layout failure: never for the embedded font).
pub fn care_plan_pdf(
    plan_id: Uuid,
    plan: &CarePlan,
    now: DateTime<Utc>,
    settings: &PrintSettings,
) -> Result<Vec<u8>, AppError> {
    let summary = EmergencySummary::of(plan_id, plan, now.date_naive())
        .ok_or_else(|| AppError::internal("a plan without Personal Information"))?;
    let flow = content::lay_out(plan, &summary);
    let furniture = content::Furniture::of(plan_id, &summary, now, settings);
    render::pdf(&flow, &furniture, &summary)
}
