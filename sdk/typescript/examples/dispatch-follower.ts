// A dispatch-side follower written with the SDK: keeps a flag table (NHS number → CPR status,
// postcode, plan version) from the feed, storing the cursor after every change so that a restart
// resumes where it stopped. Run after `npm run build`:
//   UCP_BASE_URL=http://127.0.0.1:8080 UCP_TOKEN=<dispatch token> node dist/examples/dispatch-follower.js flags.json
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

import { createUcpClient } from "../src/index.js";

interface Flag {
  planId: string;
  planVersion: number;
  cpr: string | undefined;
  postcode: string | undefined;
}

interface Saved {
  cursor: string;
  flags: Record<string, Flag>;
}

const file = process.argv[2] ?? "flags.json";
const saved: Saved = existsSync(file)
  ? (JSON.parse(readFileSync(file, "utf8")) as Saved)
  : { cursor: "", flags: {} };

function save(): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(saved, null, 2));
  renameSync(`${file}.tmp`, file);
}

const client = createUcpClient({
  baseUrl: process.env.UCP_BASE_URL ?? "http://127.0.0.1:8080",
  // A dispatch system's purpose of use is fixed (emergency): it need not state one.
  token: () => process.env.UCP_TOKEN ?? "",
});

const stop = new AbortController();
process.on("SIGINT", () => stop.abort());

for await (const change of client.followFeed({
  after: saved.cursor,
  signal: stop.signal,
  onCursor: (cursor) => {
    saved.cursor = cursor;
    save();
  },
})) {
  const held = saved.flags[change.nhsNumber];
  if (held && held.planId === change.planId && held.planVersion >= change.planVersion) continue;
  if (change.action === "drop") {
    // Withdrawn, died or voided as made in error: nothing of it may stay on screen.
    if (held?.planId === change.planId) delete saved.flags[change.nhsNumber];
  } else {
    saved.flags[change.nhsNumber] = {
      planId: change.planId,
      planVersion: change.planVersion,
      cpr: change.summary?.cpr?.status,
      postcode: change.summary?.postcode,
    };
  }
}
