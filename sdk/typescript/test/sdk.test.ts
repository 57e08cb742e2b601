// The SDK against a live `ucp serve` started by scripts/sdk-test.sh (tokens and address come
// from its environment).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  ConflictError,
  createUcpClient,
  UcpError,
  verifyWebhook,
  type Change,
  type Schemas,
} from "../src/index.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with scripts/sdk-test.sh`);
  return value;
};

const baseUrl = env("UCP_BASE_URL");
const as = (role: string) =>
  createUcpClient({ baseUrl, token: () => env(`UCP_TOKEN_${role}`), purpose: "direct-care" });
const clinician = as("CLINICIAN");
const crew = as("AMBULANCE");
const dispatch = as("DISPATCH");

/** A valid NHS number of the 999 test range, different for each `i`. */
function nhs(i: number): string {
  for (let stem = 999_200_000 + i * 17; ; stem++) {
    const digits = String(stem).split("").map(Number);
    const sum = digits.reduce((acc, d, k) => acc + d * (10 - k), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${stem}${check === 11 ? 0 : check}`;
  }
}

function planBody(nhsNumber: string): Schemas["CreateCarePlanRequest"] {
  return {
    personalInformation: {
      nhsNumber,
      familyName: "Sdk",
      givenName: "Ada",
      birthDate: "1940-05-06",
      address: { lines: ["1 Test Street"], postcode: "SE1 7EH" },
    },
    consentToShare: { basis: "person-agreed", date: "2026-11-01" },
    whatMatters: { inTheirOwnWords: "My garden." },
  };
}

const etp: Schemas["EmergencyTreatmentPlan"] = {
  sharedUnderstanding: "Advanced heart failure.",
  clinicalFocus: "symptom-control",
  cprRecommendation: "attempts-not-recommended",
  capacity: "has-capacity",
  involvement: ["A"],
  interventions: [],
  // The saving clinician signs, named from their token.
  signAs: { role: "GP", registrationNumber: "GMC 1234567", seniorResponsible: true },
  emergencyContacts: [],
};

test("create, update a section with If-Match, a conflict, then review", async () => {
  const created = await clinician.createPlan(planBody(nhs(1)));
  assert.equal(created.value.version, 2);
  const id = created.value.id;
  const saved = await clinician.putSection(id, "emergency-treatment-plan", etp, `"emergency-treatment-plan.0"`);
  assert.equal(saved.value.version, 3);
  // Someone else's ETag: a typed conflict holding the plan as it is now.
  await assert.rejects(
    clinician.putSection(id, "what-matters", { inTheirOwnWords: "Stale" }, `"what-matters.1"`),
    (e: unknown) => e instanceof ConflictError && e.status === 412 && e.current?.value.version === 3,
  );
  const changed = await clinician.updateSection(id, "what-matters", (current) => ({
    inTheirOwnWords: `${current?.inTheirOwnWords ?? ""} And my cat.`,
  }));
  assert.equal((changed.value.content as Schemas["WhatMatters"]).inTheirOwnWords, "My garden. And my cat.");
  const now = await clinician.getPlan(id);
  const reviewed = await clinician.review(id, now.etag, { nextReviewDate: "2099-01-01" });
  assert.equal(reviewed.value.lastReview?.nextReviewDate, "2099-01-01");
  // A retried create with the same key is the same plan.
  const key = crypto.randomUUID();
  const first = await clinician.createPlan(planBody(nhs(2)), { idempotencyKey: key });
  const again = await clinician.createPlan(planBody(nhs(2)), { idempotencyKey: key });
  assert.equal(again.value.id, first.value.id);
});

test("a signature is the signer's act; consent to share withdrawn is told, not hidden", async () => {
  const created = await clinician.createPlan(planBody(nhs(41)));
  const id = created.value.id;
  const saved = await clinician.putSection(id, "emergency-treatment-plan", etp, `"emergency-treatment-plan.0"`);
  const digest = (saved.value.content as Schemas["EmergencyTreatmentPlan"]).decisionDigest ?? "";
  assert.ok(digest.startsWith("sha256:"));
  // The one who signed by saving cannot sign the same decision twice.
  await assert.rejects(
    clinician.countersign(id, saved.etag, { role: "GP", seniorResponsible: true, digest }),
    (e: unknown) => e instanceof UcpError && e.status === 409 && e.code === "already_signed",
  );
  // A digest that is not the form's: the decision changed since it was read.
  await assert.rejects(
    clinician.countersign(id, saved.etag, { role: "GP", digest: "sha256:00" }),
    (e: unknown) => e instanceof UcpError && e.status === 409 && e.code === "decision_changed",
  );
  const plan = await clinician.getPlan(id);
  const withdrawn = await clinician.withdrawConsent(id, plan.etag, "Told their GP they do not want it shared.");
  assert.equal(withdrawn.value.status, "active");
  assert.ok(withdrawn.value.consentWithdrawn);
  await assert.rejects(
    crew.summary(nhs(41)),
    (e: unknown) => e instanceof UcpError && e.status === 410 && e.code === "plan_not_shared",
  );
});

test("the emergency summary, search and history", async () => {
  const number = nhs(3);
  const created = await clinician.createPlan({ ...planBody(number), emergencyTreatmentPlan: etp });
  const summary = await crew.summary(number);
  assert.equal(summary.value.cpr?.status, "not-for-cpr");
  assert.equal(summary.value.cpr?.recordedBy?.organisation, "F84001");
  const found = await crew.search({ family: "sdk", birthDate: "1940-05-06", postcode: "se17eh" });
  assert.ok(found.some((c) => c.nhsNumber === number));
  const history = await clinician.history(created.value.id);
  assert.deepEqual(
    history.map((h) => h.eventType),
    ["CarePlanCreated", "WhatMattersUpdated", "EmergencyTreatmentPlanRecorded"],
  );
});

test("changes since a version and 304 re-checks", async () => {
  const number = nhs(4);
  const created = await clinician.createPlan(planBody(number));
  const id = created.value.id;
  const held = await crew.summary(number);
  assert.deepEqual(await crew.recheckSummary(number, held.etag), { unchanged: true, etag: held.etag });
  const plan = await clinician.getPlan(id);
  assert.ok("unchanged" in (await clinician.recheckPlan(id, plan.etag)));
  await clinician.putSection(id, "what-matters", { inTheirOwnWords: "The sea." }, plan.etag);
  const fresh = await crew.recheckSummary(number, held.etag);
  assert.ok(!("unchanged" in fresh));
  const changes = await clinician.changesSince(id, 2);
  assert.equal(changes.until, 3);
  assert.equal(changes.changes[0]?.eventType, "WhatMattersUpdated");
  assert.ok(changes.changes[0]?.patch.length);
});

test("the feed follower sees every change and resumes after a restart", async () => {
  const number = nhs(5);
  const created = await clinician.createPlan(planBody(number));
  const id = created.value.id;
  // Follow to the end of what is there now, storing the cursor.
  let stored = "";
  const seen: Change[] = [];
  const deadline = Date.now() + 20_000;
  const first = new AbortController();
  for await (const change of dispatch.followFeed({
    waitSeconds: 1,
    signal: first.signal,
    onCursor: (c) => {
      stored = c;
    },
  })) {
    seen.push(change);
    if (change.planId === id && change.planVersion === 2) first.abort();
    if (Date.now() > deadline) throw new Error("the follower did not reach the new plan");
  }
  assert.ok(seen.some((c) => c.planId === id));
  // "Restarted": a new follower from the stored cursor gets only what came after.
  await clinician.putSection(id, "what-matters", { inTheirOwnWords: "Later." }, `"what-matters.2"`);
  const second = new AbortController();
  const after: Change[] = [];
  for await (const change of dispatch.followFeed({ after: stored, waitSeconds: 1, signal: second.signal })) {
    after.push(change);
    if (change.planId === id && change.planVersion === 3) second.abort();
    if (Date.now() > deadline) throw new Error("the resumed follower missed the change");
  }
  const ids = new Set(seen.map((c) => c.changeId));
  assert.ok(after.every((c) => !ids.has(c.changeId)), "nothing repeated");
  assert.equal(after.at(-1)?.changeType, "WhatMattersUpdated");
});

test("a patient token sees only its own plan", async () => {
  const own = env("UCP_PATIENT_NHS");
  await clinician.createPlan(planBody(own));
  const other = await clinician.createPlan(planBody(nhs(6)));
  const patient = as("PATIENT");
  const mine = await patient.myPlan();
  assert.equal(mine.value.nhsNumber, own);
  await assert.rejects(patient.getPlan(other.value.id), (e: unknown) => e instanceof UcpError && e.status === 404);
});

test("a care home admits a resident, reads their summary, and loses it when they leave", async () => {
  const number = nhs(61);
  const created = await clinician.createPlan({ ...planBody(number), emergencyTreatmentPlan: etp });
  const home = as("CARE_HOME");
  const admitted = await home.admitResident({
    nhsNumber: number,
    birthDate: "1940-05-06",
    since: new Date().toISOString().slice(0, 10),
  });
  assert.equal(admitted.planId, created.value.id);
  assert.equal(admitted.residence.basis, "admitted-by-home");
  assert.ok((await home.residents()).some((r) => r.nhsNumber === number));
  const summary = await home.summary(number);
  assert.equal(summary.value.cpr?.status, "not-for-cpr");
  const now = await clinician.getPlan(created.value.id);
  const confirmed = await clinician.confirmResidence(created.value.id, now.etag, admitted.residence.careHome.odsCode);
  assert.equal(confirmed.value.residence?.confirmed, true);
  await home.endResidence(created.value.id, confirmed.etag, {
    odsCode: admitted.residence.careHome.odsCode,
    date: new Date().toISOString().slice(0, 10),
  });
  await assert.rejects(home.summary(number), (e: unknown) => e instanceof UcpError && e.status === 404);
});

test("a read of a record marked sensitive is an alert the privacy officer closes", async () => {
  const number = nhs(71);
  const created = await clinician.createPlan({ ...planBody(number), emergencyTreatmentPlan: etp });
  const marked = await clinician.markSensitive(created.value.id, created.etag, "public-figure");
  assert.equal(marked.value.sensitive, true);
  await crew.summary(number);
  const officer = createUcpClient({ baseUrl, token: () => env("UCP_TOKEN_PRIVACY_OFFICER"), purpose: "audit" });
  // The scanner reads the access log every second: wait 15 s at most.
  const deadline = Date.now() + 15_000;
  let alerts = await officer.privacyAlerts({ kind: "sensitive-record", nhsNumber: number });
  while (alerts.alerts.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    alerts = await officer.privacyAlerts({ kind: "sensitive-record", nhsNumber: number });
  }
  const [raised] = alerts.alerts;
  assert.ok(raised && alerts.alerts.length === 1, "one alert");
  const alert = await officer.privacyAlert(raised.alertId);
  assert.equal(alert.value.evidence[0]?.action, "getEmergencySummary");
  const closed = await officer.recordAlertOutcome(alert.value.alert.alertId, alert.etag, {
    outcome: "reviewed-appropriate",
    note: "The crew attended a 999 call at the address.",
  });
  assert.equal(closed.value.state, "reviewed-appropriate");
  await assert.rejects(
    officer.recordAlertOutcome(alert.value.alert.alertId, alert.etag, { outcome: "referred", note: "again" }),
    (e: unknown) => e instanceof UcpError && e.status === 412,
  );
});

test("the person chooses not to be told of changes, and a stale choice is refused", async () => {
  const patient = as("PATIENT");
  const choice = await patient.myNotifications();
  const off = await patient.setMyNotifications(choice.etag, choice.value.messages === "on" ? "off" : "on");
  assert.notEqual(off.value.messages, choice.value.messages);
  await assert.rejects(
    patient.setMyNotifications(choice.etag, "on"),
    (e: unknown) => e instanceof UcpError && e.status === 412,
  );
  await patient.setMyNotifications(off.etag, choice.value.messages);
});

test("a bad NHS number is a typed error", async () => {
  await assert.rejects(crew.summary("1234567890"), (e: unknown) => {
    assert.ok(e instanceof UcpError);
    assert.equal(e.status, 400);
    assert.equal(e.code, "bad_nhs_number");
    assert.equal(e.errors[0]?.pointer, "/nhsNumber");
    return true;
  });
});

test("a webhook signature round trip", async () => {
  const secret = "sdk-webhook-secret-0123456789";
  let resolveDelivery: (v: { headers: Record<string, string>; body: Buffer }) => void = () => {};
  const delivered = new Promise<{ headers: Record<string, string>; body: Buffer }>((r) => {
    resolveDelivery = r;
  });
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      resolveDelivery({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const address = receiver.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const admin = as("ADMIN");
  const { response } = await admin.raw.POST("/v1/subscriptions", {
    body: { name: "SDK receiver", targetUrl: `http://127.0.0.1:${port}/`, secret, changeTypes: ["CarePlanCreated"] },
  });
  assert.equal(response.status, 201);
  await clinician.createPlan(planBody(nhs(7)));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no delivery")), 20_000));
  const { headers, body } = await Promise.race([delivered, timeout]);
  receiver.close();
  const args = {
    secret,
    timestamp: headers["x-ucp-timestamp"] ?? "",
    body,
    signature: headers["x-ucp-signature"] ?? "",
  };
  assert.ok(verifyWebhook(args), "the server's signature verifies");
  assert.ok(!verifyWebhook({ ...args, body: Buffer.concat([body, Buffer.from(" ")]) }), "a changed body does not");
  assert.ok(!verifyWebhook({ ...args, secret: "another-secret-0123456789" }), "another secret does not");
  assert.ok(!verifyWebhook({ ...args, nowSeconds: Number(args.timestamp) + 3600 }), "an old delivery does not");
});

test("a printed plan's link says whether the copy is still the plan", async () => {
  const created = await clinician.createPlan(planBody(nhs(51)));
  const id = created.value.id;
  const pdf = await clinician.printedPlan(id);
  assert.equal(new TextDecoder().decode(pdf.slice(0, 5)), "%PDF-");
  // The link is printed on the page, as a reader would copy it (poppler's pdftotext).
  const file = join(mkdtempSync(join(tmpdir(), "ucp-sdk-")), "plan.pdf");
  writeFileSync(file, pdf);
  const text = execFileSync("pdftotext", ["-f", "1", "-l", "1", file, "-"]).toString();
  const link = /\S+\/check\/[A-Za-z0-9_-]+/.exec(text)?.[0] ?? "";
  assert.ok(link, text);
  const check = await clinician.checkPrintedCopy(link);
  assert.equal(check.state, "current");
  assert.equal(check.printedVersion, created.value.version);
  assert.match(check.message, /is CURRENT$/);
  await clinician.updateSection(id, "what-matters", () => ({ inTheirOwnWords: "At home, with the radio on." }));
  const later = await clinician.checkPrintedCopy(link);
  assert.equal(later.state, "superseded");
  await assert.rejects(
    clinician.checkPrintedCopy("not-a-code"),
    (e: unknown) => e instanceof UcpError && e.status === 404,
  );
});
