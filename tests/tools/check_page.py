"""The printed-copy check page in a real browser, as the person holding the paper sees it.

Against a live `ucp serve` with the demo people: prints plans through the API as a clinician,
reads the check link off each PDF (pdftotext), makes one copy out of date by changing the plan,
then opens a current, a superseded and a not-current copy's page in headless Chromium (Debian's
package, driven by Playwright through `executable_path`) at phone width (390 px) and at desktop
width. For each it asserts the words a crew must see, runs axe-core (WCAG 2.0/2.1/2.2 A and AA
rules) and saves a screenshot. Exits non-zero on any failure.

    check_page.py BASE_URL CLINICIAN_TOKEN AXE_JS OUT_DIR
"""

import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE, TOKEN, AXE, OUT = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
OUT.mkdir(parents=True, exist_ok=True)
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Purpose-Of-Use": "direct-care"}
# Demo people (see `ucp seed --demo`): an active plan, and one withdrawn.
ACTIVE, WITHDRAWN = "9990000018", "9990000913"


def call(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    for k, v in {**HEADERS, **(headers or {})}.items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.status, dict(res.headers), res.read()


def plan_of(nhs):
    _, _, body = call("GET", f"/v1/patients/{nhs}/care-plan")
    return json.loads(body)


def printed_link(plan_id):
    """Prints the plan as a clinician would and reads the check link off its first page."""
    _, _, pdf = call("GET", f"/v1/care-plans/{plan_id}/document")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        text = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "1", f.name, "-"],
            check=True, capture_output=True, text=True,
        ).stdout
    found = re.search(r"(https?://\S+/check/[A-Za-z0-9_-]+)", text)
    if not found:
        sys.exit(f"check-page: no check link on the printed plan:\n{text}")
    # The printed link names the public address; the test server is this one.
    return BASE + "/check/" + found.group(1).rsplit("/check/", 1)[1]


def change_recommendations(plan_id):
    """A clinician changes the focus of care on the Emergency Treatment Plan."""
    plan = plan_of(ACTIVE)
    form = plan["sections"]["emergency-treatment-plan"]
    content = dict(form["content"])
    content["clinicalFocus"] = "balanced" if content["clinicalFocus"] != "balanced" else "symptom-control"
    content.pop("decisionDigest", None)
    status, _, _ = call("PUT", f"/v1/care-plans/{plan_id}/sections/emergency-treatment-plan",
                        content, {"If-Match": form["etag"]})
    assert status == 200, status


def change_own_words(plan_id):
    """The person's own What Matters form: not a recommendation."""
    plan = plan_of(ACTIVE)
    etag = plan["sections"]["what-matters"]["etag"] if "what-matters" in plan["sections"] else plan["etag"]
    status, _, _ = call("PUT", f"/v1/care-plans/{plan_id}/sections/what-matters",
                        {"inTheirOwnWords": "Being at home, with my cat on the bed."}, {"If-Match": etag})
    assert status == 200, status


active = plan_of(ACTIVE)
superseded_link = printed_link(active["id"])
change_recommendations(active["id"])
unchanged_link = printed_link(active["id"])
change_own_words(active["id"])
current_link = printed_link(active["id"])
not_current_link = printed_link(plan_of(WITHDRAWN)["id"])

cases = [
    ("current", current_link, [r"This printed plan \(version \d+, printed \d{1,2} \w{3} \d{4}\) is CURRENT"]),
    ("superseded", superseded_link, [
        r"SUPERSEDED on \d{1,2} \w{3} \d{4} \u2014 do not rely on this copy",
        r"The current plan is available to professionals through the Universal Care Plan",
    ]),
    ("superseded-unchanged", unchanged_link, [
        r"SUPERSEDED on \d{1,2} \w{3} \d{4} \u2014 its recommendations are unchanged",
        r"Ask for a new copy",
    ]),
    ("not-current", not_current_link, [r"NOT CURRENT: withdrawn on \d{1,2} \w{3} \d{4}",
                                       r"Do not act on this printed plan"]),
]
axe_source = AXE.read_text()
failures = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    for width, height, device in [(390, 844, "phone"), (1280, 900, "desktop")]:
        # The page's own CSP forbids scripts; axe is injected past it (bypass_csp), the page is
        # also read with JavaScript off below.
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
        for state, link, words in cases:
            page = context.new_page()
            response = page.goto(link)
            if response is None or response.status != 200:
                failures.append(f"{state} at {device}: status {response and response.status}")
                continue
            h1 = page.locator("h1").inner_text()
            body = page.locator("body").inner_text()
            for pattern in words:
                if not re.search(pattern, body):
                    failures.append(f"{state} at {device}: no {pattern!r} in:\n{body}")
            if page.locator("h1").count() != 1:
                failures.append(f"{state} at {device}: {page.locator('h1').count()} h1")
            if page.evaluate("document.documentElement.lang") != "en-GB":
                failures.append(f"{state} at {device}: no en-GB language")
            # Nothing scrolls sideways on a phone.
            if page.evaluate("document.documentElement.scrollWidth") > width:
                failures.append(f"{state} at {device}: wider than the screen")
            # The verdict's type is large: at least 24 px.
            size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
            if size < 24:
                failures.append(f"{state} at {device}: h1 at {size}px")
            page.add_script_tag(content=axe_source)
            result = page.evaluate(
                """async () => await axe.run(document, {runOnly: {type: 'tag', values:
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
            )
            for v in result["violations"]:
                failures.append(f"{state} at {device}: axe {v['id']} ({v['impact']}): {v['help']}")
            shot = OUT / f"check-page-{state}-{device}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"check-page: {state} at {device} ({width} px): {h1!r}; "
                  f"axe: {len(result['passes'])} rules passed, {len(result['violations'])} violations; {shot}")
            page.close()
        context.close()
    # Without JavaScript, as some phones and readers browse: the same verdicts.
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    for state, link, words in cases:
        page = context.new_page()
        page.goto(link)
        body = page.locator("body").inner_text()
        for pattern in words:
            if not re.search(pattern, body):
                failures.append(f"{state} without JavaScript: no {pattern!r}")
        page.close()
    print("check-page: the three verdicts read the same with JavaScript off")
    context.close()
    browser.close()

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
