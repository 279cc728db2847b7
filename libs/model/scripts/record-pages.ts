/**
 * Records IAM/STS pages from aws-sim (`tiny` preset, seed 1) with the real SDK clients, as the fetcher hands
 * them to the mapper (no `$metadata`, Dates as ISO strings), into `src/aws/__fixtures__/`.
 *
 *   node --import tsx libs/model/scripts/record-pages.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAccountAliasesCommand,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { startAwsSim } from "@grantline/aws-sim";

const OUT = fileURLToPath(new URL("../src/aws/__fixtures__/", import.meta.url));

function jsonPage(output: object): Record<string, unknown> {
  const page = JSON.parse(
    JSON.stringify(output, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v)),
  ) as Record<string, unknown>;
  delete page.$metadata;
  return page;
}

function save(name: string, page: Record<string, unknown>): void {
  writeFileSync(`${OUT}${name}.json`, `${JSON.stringify(page, null, 2)}\n`);
  console.log(`wrote ${name}.json`);
}

const sim = await startAwsSim({ preset: "tiny", seed: 1 });
try {
  const cfg = { endpoint: sim.url, region: sim.region, credentials: sim.managementCredentials };
  const iam = new IAMClient(cfg);
  const sts = new STSClient(cfg);
  mkdirSync(OUT, { recursive: true });
  save("sts-get-caller-identity", jsonPage(await sts.send(new GetCallerIdentityCommand({}))));
  const gaad = await iam.send(
    new GetAccountAuthorizationDetailsCommand({
      Filter: ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"],
      MaxItems: 1000,
    }),
  );
  save("iam-gaad", jsonPage(gaad));
  save("iam-list-account-aliases", jsonPage(await iam.send(new ListAccountAliasesCommand({}))));
  const org = sim.exportOrg();
  const users = org.accounts.find((a) => a.id === sim.managementAccountId)?.iam.users ?? [];
  const user = users.find(
    (u) => u.accessKeys.some((k) => k.lastUsed) && u.accessKeys.some((k) => !k.lastUsed),
  );
  const withKeys = user ?? users.find((u) => u.accessKeys.length > 0);
  if (!withKeys) throw new Error("no user with access keys in the tiny org");
  save(
    "iam-list-access-keys",
    jsonPage(await iam.send(new ListAccessKeysCommand({ UserName: withKeys.name }))),
  );
  const used = withKeys.accessKeys.find((k) => k.lastUsed);
  const never = users.flatMap((u) => u.accessKeys).find((k) => !k.lastUsed);
  if (used)
    save(
      "iam-get-access-key-last-used",
      jsonPage(await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: used.id }))),
    );
  if (never)
    save(
      "iam-get-access-key-last-used-never",
      jsonPage(await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: never.id }))),
    );
} finally {
  await sim.close();
}
