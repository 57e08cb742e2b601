//! The check page as HTML: one verdict in large type, read on a phone at a door. No
//! JavaScript, no images, no external resources; WCAG 2.2 AA: the language is declared, the
//! verdict is the page's one `h1`, text contrast is at least 7:1 (the header's 5.9:1), and no
//! state is told by colour alone — the words carry it and the border only repeats it.

use chrono::{DateTime, Utc};
use ucp_app::print::{day, ended, when};
use ucp_app::printed_copies::{CopyCheck, CopyState};
use ucp_domain::PlanStatus;

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:Arial,Helvetica,sans-serif;font-size:1.25rem;line-height:1.5;color:#0b0c0c;background:#fff}\
header{background:#005eb8;color:#fff;padding:.75rem 1rem}\
header p{margin:0;font-weight:bold;font-size:1.125rem}\
main{max-width:42rem;margin:0 auto;padding:1rem}\
.verdict{border:.5rem solid #0b0c0c;padding:1rem 1.25rem;margin:1rem 0 1.5rem}\
.verdict.current{border-color:#007f3b}\
.verdict.superseded,.verdict.not-current,.verdict.unknown{border-color:#d5281b}\
.verdict.superseded-unchanged{border-color:#ffb81c}\
.state{display:block;font-size:1rem;font-weight:bold;letter-spacing:.05em;text-transform:uppercase;margin-bottom:.25rem}\
h1{font-size:2rem;line-height:1.25;margin:0 0 .75rem}\
h2{font-size:1.5rem;margin:1.5rem 0 .5rem}\
p{margin:0 0 1rem;max-width:38rem}\
@media (min-width:48rem){body{font-size:1.375rem}h1{font-size:2.5rem}}";

/// The few characters that mean something in HTML. Everything on the page is the service's own
/// words, dates and numbers; escaped anyway, so that no change elsewhere can inject markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: its title, the verdict box (its class, the state word, the `h1`), and the
/// paragraphs after it.
fn document(title: &str, class: &str, state: &str, h1: &str, body: &[String]) -> String {
    let paragraphs: String = body
        .iter()
        .map(|p| {
            if let Some(h) = p.strip_prefix("## ") {
                format!("<h2>{}</h2>", escape(h))
            } else {
                format!("<p>{}</p>", escape(p))
            }
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{} \u{2013} Universal Care Plan</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n\
         <header><p>Universal Care Plan \u{2013} printed plan check</p></header>\n\
         <main>\n<div class=\"verdict {class}\">\n<span class=\"state\">{}</span>\n<h1>{}</h1>\n</div>\n\
         {paragraphs}\n</main>\n</body>\n</html>\n",
        escape(title),
        escape(state),
        escape(h1),
    )
}

/// What to do when the paper cannot be relied on and the plan cannot be seen.
const FALLBACK: &str = "If you cannot see the current plan, follow your usual clinical guidance \
                        and seek senior clinical advice.";

fn about(checked_at: DateTime<Utc>) -> Vec<String> {
    vec![
        "## About this check".to_owned(),
        format!(
            "Checked {} (UK time). This page shows no name, no NHS number and nothing clinical: \
             only whether the printed copy is still the plan.",
            when(checked_at)
        ),
        "Each check is recorded, and the person can see that a printed copy of their plan was \
         checked."
            .to_owned(),
        "Professionals can see the current plan through the Universal Care Plan, signed in as \
         usual."
            .to_owned(),
    ]
}

/// The verdict on a copy.
#[must_use]
pub fn verdict(check: &CopyCheck) -> String {
    let copy = format!(
        "This printed plan (version {}, printed {})",
        check.printed_version,
        day(check.printed_on)
    );
    let headline = check.headline();
    let (class, state, mut body) = match check.state {
        CopyState::Current => (
            "current",
            "Current",
            vec![
                "Nothing printed on this copy has changed since it was printed: it is the \
                  person's plan as it stands."
                    .to_owned(),
            ],
        ),
        CopyState::Superseded {
            superseded_at,
            recommendations_changed: true,
        } => (
            "superseded",
            "Superseded",
            vec![
                format!(
                    "{copy} is out of date: the plan was changed on {}, and what it recommends \
                     is no longer what this copy says.",
                    when(superseded_at)
                ),
                "The current plan is available to professionals through the Universal Care \
                 Plan."
                    .to_owned(),
                FALLBACK.to_owned(),
            ],
        ),
        CopyState::Superseded {
            superseded_at,
            recommendations_changed: false,
        } => (
            "superseded-unchanged",
            "Superseded",
            vec![
                format!(
                    "Other parts of the plan were changed on {}, but what a crew acts on \u{2014} \
                     the CPR and treatment recommendations, advance decisions, attorneys, \
                     allergies and anticipatory medicines \u{2014} is the same on {} as in the \
                     plan as it stands.",
                    when(superseded_at),
                    lower_first(&copy)
                ),
                "Ask for a new copy. The current plan is available to professionals through \
                 the Universal Care Plan."
                    .to_owned(),
            ],
        ),
        CopyState::NotCurrent { status, since } => (
            "not-current",
            "Not current",
            vec![
                format!("Do not act on {}.", lower_first(&copy)),
                match status {
                    PlanStatus::Withdrawn => {
                        format!("The plan was withdrawn on {}.", when(since))
                    }
                    PlanStatus::Voided => format!(
                        "The plan was found to have been made in error and was voided on {}.",
                        when(since)
                    ),
                    PlanStatus::Deceased => format!(
                        "The plan was closed on {} after the person's death.",
                        when(since)
                    ),
                    PlanStatus::Active => format!("The plan is {}.", ended(status)),
                },
                FALLBACK.to_owned(),
            ],
        ),
    };
    body.extend(about(check.checked_at));
    let title = match check.state {
        CopyState::Current => "CURRENT: printed plan check".to_owned(),
        CopyState::Superseded { .. } => "SUPERSEDED: printed plan check".to_owned(),
        CopyState::NotCurrent { .. } => "NOT CURRENT: printed plan check".to_owned(),
    };
    document(&title, class, state, &headline, &body)
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A code this service did not print (or whose key was retired).
#[must_use]
pub fn not_recognised() -> String {
    document(
        "NOT RECOGNISED: printed plan check",
        "unknown",
        "Not recognised",
        "This code was not recognised: the copy cannot be checked here",
        &[
            "Do not rely on the printed plan without checking it another way. Check the link \
             was typed exactly as printed."
                .to_owned(),
            "Professionals can see the current plan through the Universal Care Plan, signed in \
             as usual."
                .to_owned(),
        ],
    )
}

/// Too many checks from one address.
#[must_use]
pub fn too_many(secs: u64) -> String {
    document(
        "TOO MANY CHECKS: printed plan check",
        "unknown",
        "Please wait",
        "Too many checks from this network: try again shortly",
        &[format!(
            "Try again in {secs} seconds. Until then, do not rely on the printed plan without \
             checking it another way."
        )],
    )
}

/// The service could not answer.
#[must_use]
pub fn unavailable() -> String {
    document(
        "NOT CHECKED: printed plan check",
        "unknown",
        "Not checked",
        "The copy could not be checked just now",
        &[
            "Try again in a minute. Until then, do not rely on the printed plan without checking \
           it another way."
                .to_owned(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, 14, 5, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn each_page_says_its_verdict_in_words_with_nothing_about_the_person() {
        let check = |state| CopyCheck {
            printed_version: 7,
            printed_on: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
            state,
            checked_at: at(7),
        };
        let current = verdict(&check(CopyState::Current));
        assert!(current.contains("<html lang=\"en-GB\">"));
        assert!(current
            .contains("<h1>This printed plan (version 7, printed 3 Dec 2026) is CURRENT</h1>"));
        assert!(!current.contains("<script"));
        let superseded = verdict(&check(CopyState::Superseded {
            superseded_at: at(5),
            recommendations_changed: true,
        }));
        let unchanged = verdict(&check(CopyState::Superseded {
            superseded_at: at(5),
            recommendations_changed: false,
        }));
        assert!(unchanged.contains("its recommendations are unchanged"));
        assert!(unchanged.contains("Ask for a new copy."));
        assert!(superseded.contains("SUPERSEDED on 5 Dec 2026 \u{2014} do not rely on this copy"));
        assert!(superseded.contains("available to professionals through the Universal Care Plan"));
        let withdrawn = verdict(&check(CopyState::NotCurrent {
            status: PlanStatus::Withdrawn,
            since: at(6),
        }));
        assert!(withdrawn.contains("NOT CURRENT: withdrawn on 6 Dec 2026"));
        assert!(withdrawn.contains("Do not act on this printed plan"));
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
