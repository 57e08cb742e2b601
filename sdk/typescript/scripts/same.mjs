// Fails when the checked-in generated code differs from what the generator makes now.
import { readFileSync, rmSync } from "node:fs";
const [committed, fresh] = process.argv.slice(2);
const same = readFileSync(committed, "utf8") === readFileSync(fresh, "utf8");
rmSync(fresh);
if (!same) {
  console.error(`${committed} is stale: run \`make sdk\` and commit it`);
  process.exit(1);
}
