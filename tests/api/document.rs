//! The plan on paper, read back as a person would: the text of the PDF (poppler's pdftotext),
//! its metadata (pdfinfo), and the QR code decoded from a rendered page (pdftoppm + rqrr).

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::json;
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, problem, token_with, TestApp};

const PUBLIC: &str = "https://ucp.test.example";

pub(crate) fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} (poppler-utils; `make test` installs it): {e}"));
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A rendered page: grey, one byte a pixel, at `dpi`.
pub(crate) struct Raster {
    pub width: usize,
    pub height: usize,
    pub dpi: f32,
    pub pixels: Vec<u8>,
}

impl Raster {
    /// Reads a binary PGM ("P5\n<w> <h>\n255\n" then one byte a pixel).
    fn read(pgm: &Path, dpi: f32) -> Self {
        let bytes = std::fs::read(pgm).unwrap();
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
        }
        at += 1;
        assert_eq!(fields[0], "P5");
        Self {
            width: fields[1].parse().unwrap_or(0),
            height: fields[2].parse().unwrap_or(0),
            dpi,
            pixels: bytes[at..].to_vec(),
        }
    }

    fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// Pixels (x, y) with ink (darker than near-white) within `mm` of an edge.
    pub fn ink_within(&self, mm: f32) -> Vec<(usize, usize)> {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let band = (mm / 25.4 * self.dpi).ceil() as usize;
        let mut found = Vec::new();
        for y in 0..self.height {
            for x in 0..self.width {
                let near =
                    x < band || y < band || x >= self.width - band || y >= self.height - band;
                if near && self.at(x, y) < 245 {
                    found.push((x, y));
                }
            }
        }
        found
    }

    /// The QR code on the page, decoded, with its corners in points from the top left.
    pub fn qr(&self) -> (String, [(f32, f32); 4]) {
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(self.width, self.height, |x, y| {
                self.at(x, y)
            });
        let grids = img.detect_grids();
        assert!(!grids.is_empty(), "no QR code on the page");
        let scale = 72.0 / self.dpi;
        #[allow(clippy::cast_precision_loss)]
        let corners = grids[0]
            .bounds
            .map(|p| (p.x as f32 * scale, p.y as f32 * scale));
        let text = grids[0].decode().map(|(_, text)| text).unwrap();
        (text, corners)
    }
}

/// Every page of a PDF rendered grey at `dpi`, in page order.
pub(crate) fn rasters(pdf: &Path, dpi: u32) -> Vec<Raster> {
    let dir = tempfile::tempdir().unwrap();
    tool(
        "pdftoppm",
        &[
            "-r",
            &dpi.to_string(),
            "-gray",
            &pdf.to_string_lossy(),
            &dir.path().join("page").to_string_lossy(),
        ],
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pgm"))
        .collect();
    pages.sort();
    #[allow(clippy::cast_precision_loss)]
    pages.iter().map(|p| Raster::read(p, dpi as f32)).collect()
}

/// The number of pages.
pub(crate) fn page_count(pdf: &str) -> usize {
    tool("pdfinfo", &[pdf])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0)
}

/// One page's text as laid out, read line after line as one run of words ("Label: value",
/// a wrapped value joined up again).
pub(crate) fn page_text(pdf: &str, page: usize) -> String {
    let p = page.to_string();
    tool("pdftotext", &["-layout", "-f", &p, "-l", &p, pdf, "-"])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `yyyy-mm-dd` anywhere in the text: a date printed as a code.
fn iso_date_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(10).find_map(|w| {
        let shape = w.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == '-',
            _ => c.is_ascii_digit(),
        });
        shape.then(|| w.iter().collect())
    })
}

/// The codes the plan stores that must never be printed as codes.
const CODES: &[&str] = &[
    "attempts-not-recommended",
    "attempts-recommended",
    "modified-cpr",
    "has-capacity",
    "lacks-capacity",
    "symptom-control",
    "life-sustaining-treatment",
    "person-agreed",
    "lasting-power-of-attorney",
    "learning-disability",
    "support-needs",
    "emergency-treatment-plan",
    "Involvement 1",
];

async fn pdf(app: &TestApp, path: &str, role: Role, nhs: Option<&str>) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token_with(role, nhs))
        .send()
        .await
        .unwrap()
}

/// A printed plan fetched by a clinician and saved: the folder that keeps it, and its file.
async fn printed(app: &TestApp, path: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let res = pdf(app, path, Role::Clinician, None).await;
    assert_eq!(res.status().as_u16(), 200, "{path}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.pdf");
    std::fs::write(&file, res.bytes().await.unwrap_or_default()).unwrap();
    (dir, file)
}

#[tokio::test]
async fn the_printed_plan_reads_back_with_its_decision_provenance_and_live_link() {
    let app = TestApp::spawn_tuned(|c| {
        c.print = ucp_app::print::PrintSettings {
            public_url: PUBLIC.to_owned(),
            ..Default::default()
        };
    })
    .await;
    let number = nhs(990);
    let mut body = plan_body(&number);
    body["thinkingAhead"] = json!({ "preferredPlaceOfCare": "Home, with the garden in view",
        "advanceDecisionToRefuseTreatment": { "held": "yes", "location": "Red folder by the bed" } });
    body["anticipatoryMedicines"] = json!({ "medicines": [{ "name": "Morphine sulfate",
        "doseAndRoute": "2.5 mg subcutaneously" }], "location": "Kitchen cupboard, blue box" });
    let plan = app.create_plan(&body).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    // The person adds their own words.
    let res = app
        .client
        .put(app.url("/v1/me/care-plan/sections/support-needs"))
        .bearer_auth(token_with(Role::Patient, Some(&number)))
        .header("If-Match", "\"plan.5\"")
        .json(&json!({ "needs": [{ "need": "Help getting up the stairs", "providedBy": "My son Tom" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    if let Ok(keep) = std::env::var("UCP_KEEP_PDF") {
        let res = pdf(
            &app,
            &format!("/v1/care-plans/{id}/document"),
            Role::Clinician,
            None,
        )
        .await;
        std::fs::write(keep, res.bytes().await.unwrap_or_default()).unwrap();
    }
    let started = std::time::Instant::now();
    let res = pdf(
        &app,
        &format!("/v1/care-plans/{id}/document"),
        Role::Clinician,
        None,
    )
    .await;
    let took = started.elapsed();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    eprintln!("printed plan: {} bytes in {took:?}", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let path = file.to_string_lossy().into_owned();

    let info = tool("pdfinfo", &[&path]);
    assert!(
        info.contains("Title:") && info.contains("Universal Care Plan: Zoë Nowak"),
        "{info}"
    );
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Page size:       595 x 842 pts (A4)"),
        "{info}"
    );
    let pages = page_count(&path);
    assert!(pages >= 2, "{info}");

    // Page 1 is the ReSPECT key page: the form's nine sections, in the form's order.
    let first_page = page_text(&path, 1);
    let mut last = 0;
    for heading in [
        "1. This plan belongs to",
        "2. Shared understanding of my health and current condition",
        "3. What matters to me in decisions about my treatment and care in an emergency",
        "4. Clinical recommendations for emergency care and treatment",
        "5. Capacity and representation at time of completion",
        "6. Involvement in making this plan",
        "7. Clinicians' signatures",
        "8. Emergency contacts and those involved in discussing this plan",
        "9. Form reviewed and remains relevant",
    ] {
        let at = first_page
            .find(heading)
            .unwrap_or_else(|| panic!("page 1 lacks {heading:?}:\n{first_page}"));
        assert!(
            at > last,
            "{heading:?} out of the form's order:\n{first_page}"
        );
        last = at;
    }
    let spaced = format!("{} {} {}", &number[..3], &number[3..6], &number[6..]);
    for needle in [
        "Zoë Nowak",
        spaced.as_str(),
        "ReSPECT version 3 form",
        "Date completed:",
        "Address: 2 Example Road, London, SE1 7EH",
        "Date of birth: 3 Feb 1941",
        "Advanced COPD.",
        "Focus of care: Prioritise comfort",
        "NOT FOR CPR",
        "Test clinician (clinician, F84001)",
        "GMC 1234567",
        "senior responsible clinician",
        "Electronically signed in the Universal Care Plan on",
        "Yes: the person has sufficient capacity",
        "A: This person has the mental capacity to participate",
        "Review due:",
        "ADRT (advance decision): Held; kept: Red folder by the bed",
        "Call first:",
        "Anticipatory medicines at home",
        "Kept: Kitchen cupboard, blue box",
    ] {
        assert!(
            first_page.contains(needle),
            "page 1 lacks {needle:?}:\n{first_page}"
        );
    }
    // The focus, the interventions, then CPR, as the form orders them.
    let focus = first_page.find("Focus of care").unwrap_or(usize::MAX);
    let cpr = first_page.find("NOT FOR CPR").unwrap_or(0);
    assert!(focus < cpr, "{first_page}");

    let all: Vec<String> = (1..=pages).map(|p| page_text(&path, p)).collect();
    let text = all.join("\n");
    for needle in [
        "Universal Care Plan version 6: ACTIVE",
        "Check for a newer version",
        &format!("{PUBLIC}/check/"),
        // Every filled section, with whose words it is.
        "My garden and my grandchildren.",
        "Help getting up the stairs: My son Tom",
        "In the person's own words (written by",
        "A professional's words: recorded by Test clinician",
        "Home, with the garden in view",
        "Morphine sulfate: 2.5 mg subcutaneously",
        "Basis: The person agreed",
        "Date: 1 Nov 2026",
    ] {
        assert!(text.contains(needle), "the PDF lacks {needle:?}:\n{text}");
    }
    for (page, page_words) in all.iter().enumerate() {
        assert!(
            page_words.contains("Check for a newer version"),
            "page {}",
            page + 1
        );
    }
    // Later pages: human labels and dates, no codes.
    let later = all[1..].join("\n");
    for code in CODES {
        assert!(!text.contains(code), "{code:?} printed as a code:\n{text}");
    }
    assert_eq!(iso_date_in(&text), None, "{text}");
    // The person's own words are headed as theirs; a professional's as theirs.
    let support = later
        .find("Daily activities and support needs")
        .unwrap_or(0);
    assert!(
        later[support..].starts_with(
            "Daily activities and support needs In the person's own words (written by Test patient"
        ),
        "{later}"
    );

    // Nothing within 10 mm of any edge, on any page; the QR code opens this copy's check page.
    let rendered = rasters(&file, 150);
    assert_eq!(rendered.len(), pages);
    for (page, raster) in rendered.iter().enumerate() {
        let ink = raster.ink_within(10.0);
        assert!(
            ink.is_empty(),
            "page {}: {} pixels of ink within 10 mm of the edge, e.g. {:?}",
            page + 1,
            ink.len(),
            &ink[..ink.len().min(5)]
        );
    }
    let (link, corners) = rendered[0].qr();
    assert!(link.starts_with(&format!("{PUBLIC}/check/")), "{link}");
    assert!(
        corners.iter().all(|(x, y)| *x > 28.35 && *y > 28.35),
        "{corners:?}"
    );
    let code = link.rsplit('/').next().unwrap_or_default().to_owned();
    assert_eq!(
        rendered[pages - 1].qr().0,
        link,
        "the same code on every page"
    );
    let (status, check) = crate::check::check_json(&app, &code).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["state"], "current", "{check}");
    assert_eq!(check["printedVersion"], 6, "{check}");

    // An earlier version prints as superseded, with a code of its own.
    let (_old_dir, old_file) =
        printed(&app, &format!("/v1/care-plans/{id}/document?version=3")).await;
    let old_text = tool("pdftotext", &[&old_file.to_string_lossy(), "-"]);
    assert!(old_text.contains("Universal Care Plan version 3"));
    assert!(!old_text.contains("Help getting up the stairs"));
    // Its code checks as superseded: the plan changed after version 3.
    let old_link = rasters(&old_file, 150)[0].qr().0;
    let old_code = old_link.rsplit('/').next().unwrap_or_default();
    assert_ne!(old_code, code);
    let (_, check) = crate::check::check_json(&app, old_code).await;
    assert_eq!(check["state"], "superseded", "{check}");
    assert_eq!(check["printedVersion"], 3, "{check}");

    // What was printed, for whom, when: the entry replays the printed version.
    let (_, entries) = app
        .get_json(&format!("/v1/audit?planId={id}"), Role::Admin)
        .await;
    let printed = entries["entries"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["action"] == "getCarePlanDocument" && e["planVersion"] == 6)
                .cloned()
        })
        .unwrap_or_else(|| panic!("the print is logged: {entries}"));
    assert_eq!(printed["view"], "document");
    let (_, shown) = app
        .get_json(
            &format!(
                "/v1/audit/{}/shown",
                printed["entryId"].as_str().unwrap_or_default()
            ),
            Role::Admin,
        )
        .await;
    assert_eq!(shown["version"], 6);
    assert_eq!(
        shown["sections"]["support-needs"]["content"]["needs"][0]["need"],
        "Help getting up the stairs"
    );

    // The person prints their own; nobody else's. Crews read the summary, not the paper.
    let own = pdf(
        &app,
        &format!("/v1/care-plans/{id}/document"),
        Role::Patient,
        Some(&number),
    )
    .await;
    assert_eq!(own.status().as_u16(), 200);
    let other = pdf(
        &app,
        &format!("/v1/care-plans/{id}/document"),
        Role::Patient,
        Some(&nhs(991)),
    )
    .await;
    problem(other, 404).await;
    problem(
        pdf(
            &app,
            &format!("/v1/care-plans/{id}/document"),
            Role::Ambulance,
            None,
        )
        .await,
        403,
    )
    .await;
    problem(app.get(&format!("/v1/care-plans/{id}/document")).await, 401).await;
    problem(
        pdf(
            &app,
            &format!("/v1/care-plans/{id}/document?version=99"),
            Role::Clinician,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        pdf(&app, "/v1/care-plans/nope/document", Role::Clinician, None).await,
        400,
    )
    .await;
}

/// What a plan's recommendations say, in the words a page would print them: none may appear on
/// any page of a plan not current.
const RECOMMENDATION_WORDS: &[&str] = &[
    "NOT FOR CPR",
    "FOR CPR",
    "CPR attempts",
    "Prioritise",
    "Focus of care",
    "Balance extending life",
    "Hospital admission",
    "Wishes to stay home",
    "Morphine",
    "attempts-not-recommended",
    "Cpr recommendation",
];

#[tokio::test]
async fn a_plan_not_current_prints_no_recommendation_on_any_page_and_says_so_on_every_page() {
    for (ending, path_end, body, banner) in [
        (
            "withdrawn",
            "withdraw",
            json!({ "reason": "The person no longer wants a plan." }),
            "NOT CURRENT \u{2014} WITHDRAWN on",
        ),
        (
            "voided",
            "void",
            json!({ "reason": "Recorded for the wrong person." }),
            "NOT CURRENT \u{2014} VOIDED (MADE IN ERROR) on",
        ),
    ] {
        let app = TestApp::spawn().await;
        let mut body_of_plan = plan_body(&nhs(992));
        body_of_plan["emergencyTreatmentPlan"]["interventions"] = json!([
            { "intervention": "Hospital admission", "recommended": false, "reason": "Wishes to stay home" }
        ]);
        body_of_plan["anticipatoryMedicines"] = json!({ "medicines": [{ "name": "Morphine sulfate" }],
            "location": "Kitchen cupboard" });
        let plan = app.create_plan(&body_of_plan).await;
        let id = plan["id"].as_str().unwrap_or_default().to_owned();
        let etag = format!("\"plan.{}\"", plan["version"]);
        let res = app
            .write(
                Role::Clinician,
                Method::POST,
                &format!("/v1/care-plans/{id}/{path_end}"),
                &etag,
                &body,
            )
            .await;
        assert_eq!(res.status().as_u16(), 200, "{ending}");
        let (_dir, file) = printed(&app, &format!("/v1/care-plans/{id}/document")).await;
        let path = file.to_string_lossy().into_owned();
        let pages = page_count(&path);
        let rendered = rasters(&file, 150);
        for page in 1..=pages {
            let text = page_text(&path, page);
            assert!(text.contains(banner), "{ending}, page {page}:\n{text}");
            for words in RECOMMENDATION_WORDS {
                assert!(
                    !text.contains(words),
                    "{ending}, page {page} prints {words:?}:\n{text}"
                );
            }
            // The watermark runs along the diagonal: light grey ink near the page's centre and
            // towards two opposite corners (its words are checked where they are made, since
            // pdftotext cannot read diagonal text back whole).
            let r = &rendered[page - 1];
            let grey_near = |fx: f32, fy: f32| {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let (cx, cy) = (
                    (fx * r.width as f32) as usize,
                    (fy * r.height as f32) as usize,
                );
                (cy - 60..cy + 60)
                    .flat_map(|y| (cx - 60..cx + 60).map(move |x| (x, y)))
                    .filter(|(x, y)| (150..240).contains(&r.pixels[y * r.width + x]))
                    .count()
            };
            for (fx, fy) in [(0.5, 0.5), (0.33, 0.72), (0.66, 0.3)] {
                assert!(
                    grey_near(fx, fy) > 100,
                    "{ending}, page {page}: no watermark near ({fx}, {fy})"
                );
            }
            assert!(
                r.ink_within(10.0).is_empty(),
                "{ending}, page {page}: ink in the margin"
            );
            // The banner is below the QR code, never on it.
            let (_, corners) = r.qr();
            let qr_bottom = corners.iter().map(|c| c.1).fold(0.0, f32::max);
            let banner_top = banner_top(&path, page);
            assert!(
                banner_top > qr_bottom,
                "{ending}, page {page}: banner at {banner_top} pt, QR code down to {qr_bottom} pt"
            );
        }
        let text = (1..=pages)
            .map(|p| page_text(&path, p))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains("Its recommendations are not printed."),
            "{text}"
        );
        assert!(text.contains("Not printed: this plan"), "{text}");
        // Nor the person's own forms: an ADRT's refusal or, on a plan made in error, someone
        // else's wishes.
        assert!(
            !text.contains("My garden and my grandchildren."),
            "{ending}: {text}"
        );
    }
}

/// Where the banner's first word ("NOT") starts on a page, in points from the top, by
/// `pdftotext -bbox`.
fn banner_top(pdf: &str, page: usize) -> f32 {
    let p = page.to_string();
    let html = tool("pdftotext", &["-bbox", "-f", &p, "-l", &p, pdf, "-"]);
    let lines: Vec<&str> = html.lines().collect();
    lines
        .windows(3)
        .find(|w| {
            w[0].contains(">NOT<") && w[1].contains(">CURRENT<") && w[2].contains(">\u{2014}<")
        })
        .and_then(|w| {
            w[0].split("yMin=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|v| v.parse::<f32>().ok())
        })
        .unwrap_or_else(|| panic!("no banner on page {page}:\n{html}"))
}

#[tokio::test]
async fn a_version_the_plan_has_moved_on_from_prints_as_superseded_with_no_recommendation() {
    let app = TestApp::spawn().await;
    let number = nhs(994);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let printed_version = plan["version"].as_i64().unwrap_or_default();
    let res = app
        .put_section(
            &id,
            "what-matters",
            &format!("\"plan.{printed_version}\""),
            &json!({ "inTheirOwnWords": "Being at home with my cat." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_dir, file) = printed(
        &app,
        &format!("/v1/care-plans/{id}/document?version={printed_version}"),
    )
    .await;
    let path = file.to_string_lossy().into_owned();
    for page in 1..=page_count(&path) {
        let text = page_text(&path, page);
        assert!(
            text.contains("NOT CURRENT \u{2014} SUPERSEDED on"),
            "page {page}:\n{text}"
        );
        for words in [
            "NOT FOR CPR",
            "CPR attempts",
            "Prioritise",
            "Focus of care",
            "My garden",
        ] {
            assert!(
                !text.contains(words),
                "page {page} prints {words:?}:\n{text}"
            );
        }
    }
    // The plan as it stands prints as it is.
    let (_now_dir, file) = printed(&app, &format!("/v1/care-plans/{id}/document")).await;
    let text = page_text(&file.to_string_lossy(), 1);
    assert!(
        text.contains("NOT FOR CPR") && !text.contains("SUPERSEDED"),
        "{text}"
    );
}

#[tokio::test]
async fn long_texts_keep_the_key_page_to_one_page_and_print_in_full_later() {
    let app = TestApp::spawn().await;
    let number = nhs(995);
    let mut body = plan_body(&number);
    let long = format!(
        "{} End of the shared understanding.",
        "Heart failure with breathlessness on exertion. ".repeat(150)
    );
    body["emergencyTreatmentPlan"]["sharedUnderstanding"] = json!(long);
    body["emergencyTreatmentPlan"]["whatMatters"] = json!({ "priorityScale": 8,
        "mostValue": "Time with my family. ".repeat(60),
        "mostFearOrAvoid": "Dying in hospital. ".repeat(60) });
    body["communicationAndAccessibility"] =
        json!({ "accessToHome": "Key safe by the back door, code 4321", "keySafe": true });
    let plan = app.create_plan(&body).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let (_dir, file) = printed(&app, &format!("/v1/care-plans/{id}/document")).await;
    let path = file.to_string_lossy().into_owned();
    let first = page_text(&path, 1);
    for needle in [
        "9. Form reviewed and remains relevant",
        "NOT FOR CPR",
        "(in full on a later page)",
    ] {
        assert!(first.contains(needle), "page 1 lacks {needle:?}:\n{first}");
    }
    let all = (1..=page_count(&path))
        .map(|p| page_text(&path, p))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        all.contains("End of the shared understanding."),
        "printed in full later"
    );
    // The way into the home is not on paper that lies about in the home.
    assert!(!all.contains("4321"), "{all}");
    assert!(
        all.contains(
            "Access to the home: Recorded in the Universal Care Plan, shown to those who attend"
        ),
        "{all}"
    );
}
