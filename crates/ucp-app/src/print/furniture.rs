//! What every page carries besides its content: who the plan is for, its version and status,
//! when it was printed, the code and link that check whether this copy is still the plan, and,
//! for a plan not to act on, a banner and a full-page watermark saying so.

use chrono::{DateTime, Utc};
use ucp_domain::views::EmergencySummary;
use uuid::Uuid;

use super::check_code::PrintedCopy;
use super::words::{self, day, day_of, spaced, when};
use super::{NotToActOn, PrintSettings};

/// What every page carries besides its content.
#[derive(Debug, Clone)]
pub struct Furniture {
    pub title: String,
    pub header: String,
    pub status_line: String,
    pub check_prompt: String,
    /// The public check page for this copy (`…/check/{code}`): the QR code and the link.
    pub link: String,
    /// Across every page when the plan is not current.
    pub banner: Option<String>,
    /// The full-page diagonal watermark of a plan not current: its two lines.
    pub watermark: Option<(String, String)>,
    pub footer: String,
}

impl Furniture {
    #[must_use]
    pub fn of(
        plan_id: Uuid,
        summary: &EmergencySummary,
        now: DateTime<Utc>,
        settings: &PrintSettings,
        not_to_act_on: Option<NotToActOn>,
    ) -> Self {
        let base = settings.public_url.trim_end_matches('/');
        let name = format!("{} {}", summary.given_name, summary.family_name);
        let nhs = spaced(&summary.nhs_number.to_string());
        let code = settings.check_keys.sign(&PrintedCopy {
            plan_id,
            version: summary.plan_version,
            printed_on: words::london(now).date_naive(),
        });
        Self {
            title: format!("Universal Care Plan: {name}, NHS number {nhs}"),
            header: format!(
                "{name}  \u{b7}  NHS number {nhs}  \u{b7}  born {}",
                day(summary.birth_date)
            ),
            status_line: format!(
                "Universal Care Plan version {}: {}  \u{b7}  printed {} (UK time)",
                summary.plan_version,
                match not_to_act_on {
                    Some(NotToActOn::Superseded { .. }) => "SUPERSEDED",
                    _ => words::status(summary.status),
                },
                when(now)
            ),
            check_prompt: "Is this copy still the plan? Scan the code, or open:".to_owned(),
            link: format!("{base}/check/{code}"),
            banner: not_to_act_on.map(banner),
            watermark: not_to_act_on.map(watermark),
            footer: format!(
                "Version {} printed {}. Check for a newer version: scan the code at the top of the page.",
                summary.plan_version,
                day_of(now)
            ),
        }
    }
}

/// The banner across every page of a copy not to act on.
fn banner(why: NotToActOn) -> String {
    match why {
        NotToActOn::Ended { .. } => format!(
            "NOT CURRENT \u{2014} {} on {}. DO NOT ACT ON THIS PLAN.",
            why.how().to_uppercase(),
            day_of(why.since())
        ),
        NotToActOn::Superseded { version, since } => format!(
            "NOT CURRENT \u{2014} SUPERSEDED on {}: this is version {version}, not the plan as it stands. DO NOT ACT ON THIS COPY.",
            day_of(since)
        ),
    }
}

/// The two lines of the diagonal watermark of a copy not to act on.
fn watermark(why: NotToActOn) -> (String, String) {
    (
        "NOT CURRENT".to_owned(),
        format!("{} on {}", why.how(), day_of(why.since())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ucp_domain::PlanStatus;

    #[test]
    fn a_plan_not_current_says_how_and_when_on_its_banner_and_watermark() {
        let since = Utc
            .with_ymd_and_hms(2026, 12, 5, 23, 30, 0)
            .single()
            .unwrap_or_default();
        let ended = |status| NotToActOn::Ended { status, since };
        assert_eq!(
            watermark(ended(PlanStatus::Withdrawn)),
            (
                "NOT CURRENT".to_owned(),
                "withdrawn on 5 Dec 2026".to_owned()
            )
        );
        assert_eq!(
            watermark(ended(PlanStatus::Voided)).1,
            "voided (made in error) on 5 Dec 2026"
        );
        assert_eq!(
            watermark(ended(PlanStatus::Deceased)).1,
            "closed after the person's death on 5 Dec 2026"
        );
        assert_eq!(
            banner(ended(PlanStatus::Withdrawn)),
            "NOT CURRENT \u{2014} WITHDRAWN on 5 Dec 2026. DO NOT ACT ON THIS PLAN."
        );
        let old = NotToActOn::Superseded { version: 6, since };
        assert_eq!(watermark(old).1, "superseded on 5 Dec 2026");
        assert!(banner(old).contains("this is version 6, not the plan as it stands"));
    }
}
