import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient } from "@aws-sdk/client-iam";
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsSim } from "./sim.ts";

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Real SDK v3 clients pointed at the simulator (tests only). */
export function clients(sim: AwsSim, credentials: Creds = sim.managementCredentials, maxAttempts = 3) {
  const c = { endpoint: sim.url, region: sim.region, credentials, maxAttempts };
  return {
    iam: new IAMClient(c),
    sts: new STSClient(c),
    org: new OrganizationsClient(c),
    sso: new SSOAdminClient(c),
    ids: new IdentitystoreClient(c),
    trail: new CloudTrailClient(c),
  };
}

/** Collects every item of an SDK paginator. */
export async function collect<P, T>(
  pages: AsyncIterable<P>,
  pick: (p: P) => T[] | undefined,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let n = 0;
  for await (const p of pages) {
    n++;
    items.push(...(pick(p) ?? []));
  }
  return { items, pages: n };
}

/** Polls until `fn` returns a value other than undefined (no fixed sleeps). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
  stepMs = 20,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("waitFor: timed out");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
