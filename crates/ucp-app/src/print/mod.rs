//! The plan on paper: a PDF whose first page is the ReSPECT key page (the v3 form's nine
//! sections in its order and words), then the rest of the plan in the plan's order, each part
//! headed by whose words it is. Every page says which version it shows, when it was printed and
//! the plan's status, and carries a QR code and a link to a public page that tells anyone
//! holding the paper whether this copy is still the plan (`GET /check/{code}`, see
//! [`check_code`]). A plan not current carries a banner and a full-page watermark on every
//! page and prints no recommendation anywhere. A4 portrait; nothing within 10 mm of an edge.
//!
//! Rendered with krilla (real, selectable text in an embedded DejaVu Sans measured from the
//! font itself, a document title and language, and a tag tree of headings and paragraphs for
//! screen readers) and the `qrcode` crate. krilla was chosen over printpdf and genpdf because
//! it writes tagged, accessible PDF.

pub mod check_code;
mod furniture;
mod key_page;
mod later_pages;
mod layout;
mod measure;
mod render;
mod words;

pub use check_code::{CheckKeys, CodeError, KeysError, PrintedCopy};
pub use words::{day, day_of, ended, london, when};

use chrono::{DateTime, Utc};
use ucp_domain::views::EmergencySummary;
use ucp_domain::{CarePlan, PlanSection, PlanStatus, SectionContent};
use uuid::Uuid;

use crate::AppError;

/// Where the check page is, and the keys its codes are signed with.
#[derive(Debug, Clone)]
pub struct PrintSettings {
    /// The service's public address, e.g. `https://ucp.example.nhs.uk` (`UCP_PUBLIC_URL`).
    pub public_url: String,
    /// The keys printed-copy codes are signed with (`UCP_CHECK_KEYS`).
    pub check_keys: CheckKeys,
}

impl Default for PrintSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            check_keys: CheckKeys::development(),
        }
    }
}

/// Why a printed copy is not to be acted on, when it is not: the plan ended, or this is a
/// version the plan has since moved on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotToActOn {
    Ended {
        status: PlanStatus,
        since: DateTime<Utc>,
    },
    Superseded {
        version: i64,
        since: DateTime<Utc>,
    },
}

impl NotToActOn {
    /// How, in the words the banner, the watermark and the check page use ("withdrawn").
    #[must_use]
    pub fn how(self) -> &'static str {
        match self {
            Self::Ended { status, .. } => ended(status),
            Self::Superseded { .. } => "superseded",
        }
    }

    #[must_use]
    pub fn since(self) -> DateTime<Utc> {
        match self {
            Self::Ended { since, .. } | Self::Superseded { since, .. } => since,
        }
    }
}

/// The PDF of a plan as it stands in `plan` (any version), printed at `now`; `superseded_at`
/// is when the plan first changed after this version, for a version it has moved on from.
///
/// # Errors
/// When the PDF cannot be written (a font or layout failure: never for the embedded font).
pub fn care_plan_pdf(
    plan_id: Uuid,
    plan: &CarePlan,
    now: DateTime<Utc>,
    settings: &PrintSettings,
    superseded_at: Option<DateTime<Utc>>,
) -> Result<Vec<u8>, AppError> {
    let summary = EmergencySummary::of(plan_id, plan, now.date_naive())
        .ok_or_else(|| AppError::internal("a plan without Personal Information"))?;
    // A plan withdrawn because consent to share was withdrawn, as recorded before that was an
    // event of its own: its recommendations stand (see `printed_copies`).
    let legacy_consent = plan.status == PlanStatus::Withdrawn
        && plan
            .status_change
            .as_ref()
            .is_some_and(|c| c.consent_withdrawn);
    let not_to_act_on = if plan.status != PlanStatus::Active && !legacy_consent {
        Some(NotToActOn::Ended {
            status: plan.status,
            since: plan
                .status_change
                .as_ref()
                .map_or(plan.updated_at, |c| c.at),
        })
    } else {
        superseded_at.map(|since| NotToActOn::Superseded {
            version: plan.version,
            since,
        })
    };
    let furniture = furniture::Furniture::of(plan_id, &summary, now, settings, not_to_act_on);
    let mut flow = if furniture.banner.is_some() {
        layout::Flow::starting_at(render::BODY_TOP_WITH_BANNER)
    } else {
        layout::Flow::new()
    };
    let address = match plan
        .section(PlanSection::PersonalInformation)
        .map(|st| &st.content)
    {
        Some(SectionContent::PersonalInformation(pi)) => {
            let mut parts: Vec<String> = pi.address.lines.iter().map(ToString::to_string).collect();
            parts.push(pi.address.postcode.to_string());
            parts.join(", ")
        }
        _ => summary.postcode.clone(),
    };
    key_page::lay_out(
        &mut flow,
        plan,
        &summary,
        &address,
        not_to_act_on,
        legacy_consent,
    );
    // The key page stands alone: what a crew reads first is never run on into the rest.
    flow.page_break();
    later_pages::lay_out(&mut flow, plan, not_to_act_on, legacy_consent);
    render::pdf(&flow, &furniture, &summary)
}
