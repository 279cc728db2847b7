/**
 * Test helpers shared by every package: infrastructure URLs from the global setup, per-file isolation
 * (unique names, fresh databases, Redis key prefixes), condition waits instead of fixed sleeps, and type-checks of
 * scratch modules (what `tsc` says about a file changed in a way the repo must never contain).
 *
 * @example
 * const env = testInfra();
 * const db = await createTestDatabase(env.databaseUrl);
 * await waitFor(async () => (await count()) === 3);
 * await db.drop();
 */
export { testInfra, uniqueName } from "./infra.ts";
export type { TestInfra } from "./infra.ts";
export { asDatabaseAdmin, createTestDatabase } from "./test-database.ts";
export type { TestDatabase } from "./test-database.ts";
export { waitFor } from "./wait-for.ts";
export type { WaitForOptions } from "./wait-for.ts";
export { NATS_SERVER_BINARY, startNatsServer } from "./nats-server.ts";
export type { StartNatsServerOptions, TestNatsServer } from "./nats-server.ts";
export { freePort } from "./free-port.ts";
export { makeTestCertificates, OPENSSL_BINARY } from "./test-certificates.ts";
export type { TestCertificates } from "./test-certificates.ts";
export { typeCheckScratch } from "./type-check-scratch.ts";
export type { ScratchModule, TypeDiagnostic } from "./type-check-scratch.ts";
