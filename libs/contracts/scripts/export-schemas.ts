// Writes docs/json-schema/<Message>.json and docs/asyncapi.json from the zod schemas (npm run gen:contracts).
// A test checks the committed files are current, so docs cannot drift from the code.
import { mkdirSync, writeFileSync } from "node:fs";
import { asyncApiDocument, messageJsonSchemas } from "@grantline/contracts";

const docs = new URL("../../../docs/", import.meta.url);
mkdirSync(new URL("json-schema/", docs), { recursive: true });
for (const [name, schema] of Object.entries(messageJsonSchemas())) {
  writeFileSync(new URL(`json-schema/${name}.json`, docs), JSON.stringify(schema, null, 2) + "\n");
}
writeFileSync(new URL("asyncapi.json", docs), JSON.stringify(asyncApiDocument(), null, 2) + "\n");
console.log("wrote docs/json-schema/*.json and docs/asyncapi.json");
