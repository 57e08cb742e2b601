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

/// The QR code on a rendered page (grey PGM), decoded.
fn qr_of(pgm: &Path) -> String {
    let bytes = std::fs::read(pgm).unwrap_or_else(|e| panic!("{e:?}"));
    // "P5\n<w> <h>\n255\n" then one byte a pixel.
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
    let (w, h): (usize, usize) = (
        fields[1].parse().unwrap_or(0),
        fields[2].parse().unwrap_or(0),
    );
    let pixels = &bytes[at..];
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = img.detect_grids();
    assert!(!grids.is_empty(), "no QR code on the page");
    grids[0]
        .decode()
        .map(|(_, text)| text)
        .unwrap_or_else(|e| panic!("{e:?}"))
}

async fn pdf(app: &TestApp, path: &str, role: Role, nhs: Option<&str>) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token_with(role, nhs))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[tokio::test]
async fn the_printed_plan_reads_back_with_its_decision_provenance_and_live_link() {
    let app = TestApp::spawn_tuned(|c| {
        c.print = ucp_app::print::PrintSettings {
            public_url: PUBLIC.to_owned(),
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
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(res.status().as_u16(), 200);

    if let Ok(keep) = std::env::var("UCP_KEEP_PDF") {
        let res = pdf(
            &app,
            &format!("/v1/care-plans/{id}/document"),
            Role::Clinician,
            None,
        )
        .await;
        std::fs::write(keep, res.bytes().await.unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e:?}"));
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
    let bytes = res.bytes().await.unwrap_or_else(|e| panic!("{e:?}"));
    eprintln!("printed plan: {} bytes in {took:?}", bytes.len());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e:?}"));
    let file = dir.path().join("plan.pdf");
    std::fs::write(&file, &bytes).unwrap_or_else(|e| panic!("{e:?}"));
    let path = file.to_string_lossy().into_owned();

    let info = tool("pdfinfo", &[&path]);
    assert!(
        info.contains("Title:") && info.contains("Universal Care Plan: Zoë Nowak"),
        "{info}"
    );
    assert!(info.contains("Tagged:          yes"), "{info}");
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    assert!(pages >= 2, "{info}");

    let text = tool("pdftotext", &["-layout", &path, "-"]);
    let spaced = format!("{} {} {}", &number[..3], &number[3..6], &number[6..]);
    let first_page = tool("pdftotext", &["-layout", "-f", "1", "-l", "1", &path, "-"]);
    for needle in [
        "Zoë Nowak",
        spaced.as_str(),
        "Address: 2 Example Road, London, SE1 7EH",
        "Date of birth: 03 February 1941",
        "NOT FOR CPR",
        "Recorded",
        "Test clinician (clinician, F84001)",
        "GMC 1234567",
        "senior responsible clinician",
        "Review due",
        "Advance decision to refuse treatment: held, kept: Red folder by the bed",
        "Call first",
    ] {
        assert!(
            first_page.contains(needle),
            "page 1 lacks {needle:?}:\n{first_page}"
        );
    }
    for needle in [
        "Plan version 6",
        "status ACTIVE",
        "Check for a newer version",
        &format!("{PUBLIC}/v1/care-plans/{id}"),
        // Every filled section's text.
        "My garden and my grandchildren.",
        "Help getting up the stairs",
        "(the person's own words)",
        "Advanced COPD.",
        "Home, with the garden in view",
        "Kitchen cupboard, blue box",
        "2.5 mg subcutaneously",
    ] {
        assert!(text.contains(needle), "the PDF lacks {needle:?}:\n{text}");
    }
    assert_eq!(
        text.matches("Check for a newer version").count(),
        pages,
        "on every page"
    );
    // The person's own words come before the clinical sections.
    let own = text.find("In the person's own words").unwrap_or(usize::MAX);
    let clinical = text.find("Clinical sections").unwrap_or(0);
    assert!(own < clinical);

    tool(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-f",
            "1",
            "-l",
            "1",
            "-gray",
            &path,
            &dir.path().join("page").to_string_lossy(),
        ],
    );
    let pgm = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pgm"))
        .unwrap_or_else(|| panic!("no rendered page"));
    assert_eq!(qr_of(&pgm), format!("{PUBLIC}/v1/care-plans/{id}"));

    // An earlier version prints as it was.
    let old = pdf(
        &app,
        &format!("/v1/care-plans/{id}/document?version=3"),
        Role::Clinician,
        None,
    )
    .await;
    let old_file = dir.path().join("old.pdf");
    std::fs::write(&old_file, old.bytes().await.unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let old_text = tool("pdftotext", &[&old_file.to_string_lossy(), "-"]);
    assert!(old_text.contains("Plan version 3"));
    assert!(!old_text.contains("Help getting up the stairs"));

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

#[tokio::test]
async fn a_withdrawn_plan_prints_its_status_across_every_page() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(&plan_body(&nhs(992))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            "\"plan.3\"",
            &json!({ "reason": "The person no longer wants a plan." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = pdf(
        &app,
        &format!("/v1/care-plans/{id}/document"),
        Role::Clinician,
        None,
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e:?}"));
    let file = dir.path().join("plan.pdf");
    std::fs::write(&file, res.bytes().await.unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let path = file.to_string_lossy().into_owned();
    let info = tool("pdfinfo", &[&path]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    for page in 1..=pages {
        let p = page.to_string();
        let text = tool("pdftotext", &["-f", &p, "-l", &p, &path, "-"]);
        assert!(
            text.contains("WITHDRAWN - DO NOT ACT ON THIS PLAN"),
            "page {page}:\n{text}"
        );
    }
    let text = tool("pdftotext", &[&path, "-"]);
    assert!(
        text.contains("No CPR decision: this plan is not active."),
        "{text}"
    );
    assert!(!text.contains("NOT FOR CPR"), "{text}");
    // Nor on a later page, in the form's own fields.
    let flat = text.to_lowercase();
    assert!(
        !flat.contains("attempts-not-recommended") && !flat.contains("cpr recommendation"),
        "{text}"
    );
    assert!(
        text.contains("Not printed: this plan was withdrawn."),
        "{text}"
    );
}
