/**
 * The Universal Care Plan API for TypeScript. Every operation of the OpenAPI document is on
 * `client.raw`, typed from the generated schema (openapi-typescript + openapi-fetch); the
 * methods here add what every consumer would otherwise write by hand: tokens that refresh,
 * problem+json as a typed error, ETags carried into If-Match, 304 re-checks, idempotent creates,
 * a feed follower, and webhook signature checks.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

import createFetchClient from "openapi-fetch";

import type { components, paths } from "./generated/schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type PlanView = Schemas["PlanView"];
export type SectionView = Schemas["SectionView"];
export type EmergencySummary = Schemas["EmergencySummary"];
export type Change = Schemas["Change"];
export type ErrorCode = Schemas["ErrorCode"];
export type FieldError = Schemas["FieldError"];
export type SectionName = Schemas["PlanSection"];

/** The body of each section, by the section's name in URLs. */
/** The path of one section: each section is its own path in the document. */
export type SectionPath<S extends SectionName> = `/v1/care-plans/{id}/sections/${S}`;

/** Each section's body, as the document states it for that section's PUT. */
export type SectionBodies = {
  [S in SectionName]: NonNullable<paths[SectionPath<S>]["put"]["requestBody"]>["content"]["application/json"];
};

// Every section's GET and PUT answer the same SectionView, so one section's path stands for any
// in the calls below (openapi-fetch types a call by one literal path); the body is the section's.
type AnySectionPath = SectionPath<"what-matters">;

// A compile-time check that every section has a body type.
type MissingSections = Exclude<SectionName, keyof SectionBodies>;
const everySectionTyped: MissingSections extends never ? true : never = true;
void everySectionTyped;

/** A document and its entity tag (send it back in If-Match or If-None-Match). */
export interface Tagged<T> {
  etag: string;
  value: T;
}

/** The answer to a re-check when nothing changed (304). */
export interface Unchanged {
  unchanged: true;
  etag: string;
}

/**
 * A problem+json answer, typed: switch on `code` (stable), show `detail` to a person, point at
 * fields with `errors`.
 */
export class UcpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: ErrorCode | string;
  readonly detail: string;
  readonly errors: FieldError[];

  constructor(status: number, body: Partial<Schemas["Problem"]> | undefined) {
    super(body?.detail ?? `HTTP ${status}`);
    this.name = "UcpError";
    this.status = status;
    this.type = body?.type ?? "about:blank";
    this.code = body?.code ?? "unknown";
    this.detail = body?.detail ?? `HTTP ${status}`;
    this.errors = body?.errors ?? [];
  }
}

/** A write refused because the plan changed since the ETag sent (412): `current` is the plan now. */
export class ConflictError extends UcpError {
  readonly current: Tagged<PlanView> | undefined;

  constructor(status: number, body: Partial<Schemas["Problem"]> | undefined, current?: Tagged<PlanView>) {
    super(status, body);
    this.name = "ConflictError";
    this.current = current;
  }
}

/** Why a record is read: the service's fixed list. */
export type PurposeOfUse = "direct-care" | "emergency" | "audit";

/** Returns a bearer token; called before every request, so tokens can be refreshed. */
export type TokenProvider = () => string | Promise<string>;

export interface ClientOptions {
  baseUrl: string;
  token: TokenProvider;
  /**
   * `X-Purpose-Of-Use`, recorded in the access log. Every read by a clinician, crew, 111,
   * out-of-hours or admin caller must state one (the server answers 400
   * `purpose_of_use_required` otherwise); dispatch's is always `emergency`, and the person
   * need not say.
   */
  purpose?: PurposeOfUse;
  fetch?: typeof fetch;
}

export interface FollowOptions {
  /** Resume after this cursor (the one you stored); absent: from the start. */
  after?: string;
  /** Called after each change with its cursor: store it to resume after a restart. */
  onCursor?: (cursor: string) => void | Promise<void>;
  /** How long a page waits for a change (0–60 s; default 30). */
  waitSeconds?: number;
  /** Stops the follower. */
  signal?: AbortSignal;
  /** First and longest delay between retries after an error (default 500 ms and 30 s). */
  backoff?: { initialMs: number; maxMs: number };
}

/** The problem+json body openapi-fetch parsed for a failed response (if it was one). */
function problemOf(error: unknown): Partial<Schemas["Problem"]> | undefined {
  return typeof error === "object" && error !== null ? (error as Partial<Schemas["Problem"]>) : undefined;
}

function etagOf(response: Response): string {
  return response.headers.get("etag") ?? "";
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A client of the Universal Care Plan API. */
export class UcpClient {
  /** Every operation of the OpenAPI document, typed. */
  readonly raw: ReturnType<typeof createFetchClient<paths>>;

  constructor(options: ClientOptions) {
    this.raw = createFetchClient<paths>({
      baseUrl: options.baseUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.raw.use({
      async onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${await options.token()}`);
        if (options.purpose) request.headers.set("X-Purpose-Of-Use", options.purpose);
        return request;
      },
    });
  }

  private fail(response: Response, error: unknown): never {
    throw new UcpError(response.status, problemOf(error));
  }

  /** Creates a plan; the `Idempotency-Key` is generated unless given, so a retry is safe. */
  async createPlan(
    body: Schemas["CreateCarePlanRequest"],
    options: { idempotencyKey?: string } = {},
  ): Promise<Tagged<PlanView>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans", {
      body,
      params: { header: { "Idempotency-Key": options.idempotencyKey ?? randomUUID() } },
    });
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /** A plan now, at a version, or at an instant. */
  async getPlan(id: string, asOf: { version?: number; at?: string } = {}): Promise<Tagged<PlanView>> {
    const { data, error, response } = await this.raw.GET("/v1/care-plans/{id}", {
      params: { path: { id }, query: asOf },
    });
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /** Re-checks a plan you hold: `unchanged` (304) or the new version. */
  async recheckPlan(id: string, etag: string): Promise<Unchanged | Tagged<PlanView>> {
    const { data, error, response } = await this.raw.GET("/v1/care-plans/{id}", {
      params: { path: { id }, header: { "If-None-Match": etag } },
    });
    if (response.status === 304) return { unchanged: true, etag: etagOf(response) || etag };
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /** One section, with its own ETag. */
  async getSection(id: string, section: SectionName): Promise<Tagged<SectionView>> {
    const path = `/v1/care-plans/{id}/sections/${section}` as AnySectionPath;
    const { data, error, response } = await this.raw.GET(path, {
      params: { path: { id } },
    });
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /**
   * Replaces a section, carrying the ETag you read into If-Match. When someone changed it since,
   * throws a {@link ConflictError} holding the plan as it is now.
   */
  async putSection<S extends SectionName>(
    id: string,
    section: S,
    body: SectionBodies[S],
    etag: string,
  ): Promise<Tagged<SectionView>> {
    const path = `/v1/care-plans/{id}/sections/${section}` as AnySectionPath;
    const { data, error, response } = await this.raw.PUT(path, {
      params: { path: { id }, header: { "If-Match": etag } },
      body: body as SectionBodies["what-matters"],
    });
    if (data) return { etag: etagOf(response), value: data };
    if (response.status === 412) {
      const current = await this.getPlan(id).catch(() => undefined);
      throw new ConflictError(412, problemOf(error), current);
    }
    return this.fail(response, error);
  }

  /**
   * Read, change, write: reads the section, lets `change` make the new content from the
   * current one (`undefined` when never filled), and writes it with the ETag read. Retries on
   * a conflict, up to `attempts` times, with the fresh content.
   */
  async updateSection<S extends SectionName>(
    id: string,
    section: S,
    change: (current: SectionBodies[S] | undefined) => SectionBodies[S],
    attempts = 3,
  ): Promise<Tagged<SectionView>> {
    for (let attempt = 1; ; attempt++) {
      const plan = await this.getPlan(id);
      const held = plan.value.sections[section];
      const etag = held?.etag ?? `"${section}.0"`;
      try {
        return await this.putSection(id, section, change(held?.content as SectionBodies[S] | undefined), etag);
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= attempts) throw e;
      }
    }
  }

  /** Records a review with the plan's ETag. */
  async review(id: string, etag: string, body: Schemas["PlanReviewed"]): Promise<Tagged<PlanView>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans/{id}/review", {
      params: { path: { id }, header: { "If-Match": etag } },
      body,
    });
    if (data) return { etag: etagOf(response), value: data };
    if (response.status === 412) {
      throw new ConflictError(412, problemOf(error), await this.getPlan(id).catch(() => undefined));
    }
    return this.fail(response, error);
  }

  /**
   * Countersigns the Emergency Treatment Plan as it stands, as the signed-in clinician (their
   * name comes from their token). `body.digest` is the form's `decisionDigest` as you read it:
   * a decision that changed since is a 409 `decision_changed`, never signed unseen.
   */
  async countersign(
    id: string,
    etag: string,
    body: Schemas["Countersignature"],
  ): Promise<Tagged<Schemas["SectionView"]>> {
    const { data, error, response } = await this.raw.POST(
      "/v1/care-plans/{id}/sections/emergency-treatment-plan/signatures",
      { params: { path: { id }, header: { "If-Match": etag } }, body },
    );
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /**
   * Records that the person withdrew their consent to share (as a clinician of an organisation
   * caring for them). The plan stays active; others are told consent was withdrawn.
   */
  async withdrawConsent(id: string, etag: string, reason: string): Promise<Tagged<PlanView>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans/{id}/consent/withdraw", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { reason },
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** Every change to a plan, oldest first. */
  async history(id: string): Promise<Schemas["HistoryEntry"][]> {
    const { data, error, response } = await this.raw.GET("/v1/care-plans/{id}/history", {
      params: { path: { id } },
    });
    return data ?? this.fail(response, error);
  }

  /** What changed since the version you hold, as JSON Patches over the plan document. */
  async changesSince(id: string, since: number, until?: number): Promise<Schemas["PlanChanges"]> {
    const { data, error, response } = await this.raw.GET("/v1/care-plans/{id}/changes", {
      params: { path: { id }, query: { since, ...(until === undefined ? {} : { until }) } },
    });
    return data ?? this.fail(response, error);
  }

  /** What a crew needs first. */
  async summary(nhsNumber: string): Promise<Tagged<EmergencySummary>> {
    const { data, error, response } = await this.raw.GET("/v1/patients/{nhsNumber}/emergency-summary", {
      params: { path: { nhsNumber } },
    });
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /** Re-checks a summary you hold: `unchanged` (304) while nothing in it changed. */
  async recheckSummary(nhsNumber: string, etag: string): Promise<Unchanged | Tagged<EmergencySummary>> {
    const { data, error, response } = await this.raw.GET("/v1/patients/{nhsNumber}/emergency-summary", {
      params: { path: { nhsNumber }, header: { "If-None-Match": etag } },
    });
    if (response.status === 304) return { unchanged: true, etag: etagOf(response) || etag };
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /** The plan on paper (a PDF), now or as it was at a version: clinicians, and the person. */
  async printedPlan(id: string, version?: number): Promise<Uint8Array> {
    const { data, error, response } = await this.raw.GET("/v1/care-plans/{id}/document", {
      params: { path: { id }, query: version === undefined ? {} : { version } },
      parseAs: "arrayBuffer",
    });
    if (!data) return this.fail(response, error);
    return new Uint8Array(data as ArrayBuffer);
  }

  /**
   * Whether a printed copy is still the plan, from the link printed under its QR code (or the
   * code alone): `current`, `superseded` (with when) or `not-current` (with why and since).
   * The check needs no sign-in and is recorded in the person's access log.
   */
  async checkPrintedCopy(linkOrCode: string): Promise<Schemas["PrintedCopyCheck"]> {
    const code = linkOrCode.split("/check/").pop() ?? linkOrCode;
    const { data, error, response } = await this.raw.GET("/check/{code}", {
      params: { path: { code } },
      headers: { Accept: "application/json" },
    });
    // Asked for JSON, the answer is JSON (the page's other form is text/html).
    if (data && typeof data !== "string") return data;
    return this.fail(response, error);
  }

  /** Finds people by name, date of birth and postcode (two criteria at least). */
  async search(query: { family?: string; given?: string; birthDate?: string; postcode?: string }): Promise<
    Schemas["PatientCandidate"][]
  > {
    const { data, error, response } = await this.raw.GET("/v1/patients", { params: { query } });
    return data ?? this.fail(response, error);
  }

  /**
   * A care home admits a resident (care-home tokens): the NHS number and date of birth must match
   * their plan together. The home's staff read the plan from now; a clinician confirms it.
   */
  async admitResident(body: Schemas["AdmitResidentRequest"]): Promise<Schemas["Resident"]> {
    const { data, error, response } = await this.raw.POST("/v1/care-home/residents", { body });
    return data ?? this.fail(response, error);
  }

  /** The people who live at the caller's care home (care-home tokens). */
  async residents(): Promise<Schemas["Resident"][]> {
    const { data, error, response } = await this.raw.GET("/v1/care-home/residents");
    return data ?? this.fail(response, error);
  }

  /** A clinician confirms the residence a care home declared, naming the home. */
  async confirmResidence(id: string, etag: string, odsCode: string): Promise<Tagged<Schemas["ResidenceOutcome"]>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans/{id}/residence/confirm", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { odsCode },
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** The person left the care home (a clinician, or the home itself): its staff read the plan no longer. */
  async endResidence(id: string, etag: string, body: Schemas["ResidenceEnded"]): Promise<Tagged<Schemas["ResidenceOutcome"]>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans/{id}/residence/end", {
      params: { path: { id }, header: { "If-Match": etag } },
      body,
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** A clinician marks the record sensitive: every professional's read of it raises a privacy alert. */
  async markSensitive(id: string, etag: string, reason: Schemas["SensitivityReason"]): Promise<Tagged<Schemas["SensitivityOutcome"]>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans/{id}/sensitivity", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { reason },
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** A clinician clears the record's sensitivity mark (the plan's ETag binds it to the mark they saw). */
  async clearSensitive(id: string, etag: string): Promise<Tagged<Schemas["SensitivityOutcome"]>> {
    const { data, error, response } = await this.raw.POST("/v1/care-plans/{id}/sensitivity/clear", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: {},
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** The privacy officer's alerts, newest first (privacy-officer tokens, stating a purpose). */
  async privacyAlerts(
    query: NonNullable<paths["/v1/privacy/alerts"]["get"]["parameters"]["query"]> = {},
  ): Promise<Schemas["PrivacyAlertPage"]> {
    const { data, error, response } = await this.raw.GET("/v1/privacy/alerts", { params: { query } });
    return data ?? this.fail(response, error);
  }

  /** One alert with its evidence (the access-log entries) and its outcomes; the ETag to record an outcome with. */
  async privacyAlert(alertId: string): Promise<Tagged<Schemas["PrivacyAlertDetail"]>> {
    const { data, error, response } = await this.raw.GET("/v1/privacy/alerts/{alertId}", {
      params: { path: { alertId } },
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** The privacy officer's outcome on an alert as they read it (its ETag). */
  async recordAlertOutcome(
    alertId: string,
    etag: string,
    body: Schemas["AlertOutcomeRequest"],
  ): Promise<Tagged<Schemas["PrivacyAlert"]>> {
    const { data, error, response } = await this.raw.POST("/v1/privacy/alerts/{alertId}/outcome", {
      params: { path: { alertId }, header: { "If-Match": etag } },
      body,
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** Whether the person is told of changes to their plan through the NHS App (patient tokens), with its ETag. */
  async myNotifications(): Promise<Tagged<Schemas["NotificationChoice"]>> {
    const { data, error, response } = await this.raw.GET("/v1/me/notifications");
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** The person chooses whether they are told of changes (never a proxy); `etag` is the choice as read. */
  async setMyNotifications(etag: string, messages: Schemas["Messages"]): Promise<Tagged<Schemas["NotificationChoice"]>> {
    const { data, error, response } = await this.raw.PUT("/v1/me/notifications", {
      params: { header: { "If-Match": etag } },
      body: { messages },
    });
    if (data) return { etag: etagOf(response), value: data };
    return this.fail(response, error);
  }

  /** The caller's own plan (patient tokens). */
  async myPlan(): Promise<Tagged<PlanView>> {
    const { data, error, response } = await this.raw.GET("/v1/me/care-plan");
    if (!data) return this.fail(response, error);
    return { etag: etagOf(response), value: data };
  }

  /**
   * Every change of the feed, in commit order, forever (until `signal` aborts): long-polls,
   * resumes from the cursor you stored, and backs off on errors. Store the cursor given to
   * `onCursor` after you have applied the change.
   */
  async *followFeed(options: FollowOptions = {}): AsyncGenerator<Change> {
    let after = options.after ?? "";
    const initial = options.backoff?.initialMs ?? 500;
    const max = options.backoff?.maxMs ?? 30_000;
    let delay = initial;
    while (!options.signal?.aborted) {
      try {
        const { data, error, response } = await this.raw.GET("/v1/feed", {
          params: { query: { after: after || undefined, waitSeconds: options.waitSeconds ?? 30, limit: 200 } },
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (!data) this.fail(response, error);
        delay = initial;
        for (const change of data?.changes ?? []) {
          yield change;
          after = change.cursor;
          await options.onCursor?.(after);
        }
        if (data) after = data.next;
      } catch (e) {
        if (options.signal?.aborted) return;
        if (e instanceof UcpError && e.status >= 400 && e.status < 500 && e.status !== 429) throw e;
        await sleep(delay, options.signal);
        delay = Math.min(delay * 2, max);
      }
    }
  }
}

/** A client; `token` is called for every request. */
export function createUcpClient(options: ClientOptions): UcpClient {
  return new UcpClient(options);
}

/**
 * Checks a webhook delivery: `X-UCP-Signature` is `v1=` + hex HMAC-SHA256(secret,
 * "<X-UCP-Timestamp>.<raw body>"), compared in constant time, and the timestamp must be within
 * `toleranceSeconds` (default 300) of now, so a captured delivery cannot be replayed later.
 */
export function verifyWebhook(args: {
  secret: string;
  timestamp: string;
  body: Uint8Array | string;
  signature: string;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): boolean {
  const ts = Number(args.timestamp);
  const now = args.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(ts) || Math.abs(now - ts) > (args.toleranceSeconds ?? 300)) return false;
  const mac = createHmac("sha256", args.secret);
  mac.update(`${args.timestamp}.`);
  mac.update(args.body);
  const expected = Buffer.from(`v1=${mac.digest("hex")}`);
  const given = Buffer.from(args.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
