import { writeFileSync } from "node:fs";
import { z } from "zod";
import { OrgDocument } from "../src/org-document.ts";

const schema = z.toJSONSchema(OrgDocument, { io: "input" });
const out = new URL("../org.schema.json", import.meta.url);
writeFileSync(out, JSON.stringify({ title: "aws-sim OrgDocument", ...schema }, null, 2) + "\n");
console.log(`wrote ${out.pathname}`);
