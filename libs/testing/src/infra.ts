import { randomBytes } from "node:crypto";
import { inject } from "vitest";

export interface TestInfra {
  natsUrl: string;
  redisUrl: string;
  databaseUrl: string;
}

// Declared beside `inject` (not in the global setup that provides them) so every program that type-checks a
// test — each workspace's own tsconfig — sees the keys.
declare module "vitest" {
  export interface ProvidedContext {
    natsUrl: string;
    redisUrl: string;
    databaseUrl: string;
  }
}

/** The NATS, Redis and Postgres URLs chosen by the global setup. */
export function testInfra(): TestInfra {
  return { natsUrl: inject("natsUrl"), redisUrl: inject("redisUrl"), databaseUrl: inject("databaseUrl") };
}

/** A name no other test uses: lower-case letters and digits, safe for stream, subject, database and key names. */
export function uniqueName(prefix = "t"): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}
