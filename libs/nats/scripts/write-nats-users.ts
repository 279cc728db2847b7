// Writes deploy/nats/grantline-users.conf from natsPermissions() (`npm run gen:nats-conf`). The subject prefix
// is GL_SUBJECT_PREFIX (default gl): a deployment with another prefix renders its own file the same way.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderNatsUsers } from "../src/render-nats-users.ts";

const target = fileURLToPath(new URL("../../../deploy/nats/grantline-users.conf", import.meta.url));
const out = process.argv[2] ?? target;
writeFileSync(out, renderNatsUsers(process.env.GL_SUBJECT_PREFIX || "gl"));
process.stdout.write(`wrote ${out}\n`);
