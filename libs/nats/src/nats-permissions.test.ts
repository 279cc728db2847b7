// grantline's NATS users against a nats-server started here with the project's own users file
// (deploy/nats/grantline-users.conf): what each user may do, what the server refuses, and how a service with
// wrong credentials or a missing permission stops at start-up.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { NATS_SERVER_BINARY, startNatsServer, type TestNatsServer } from "@grantline/testing";
import { openBlobStore } from "./blob-store.ts";
import { connectNats, NatsCredentialsError } from "./connect-nats.ts";
import { ensureConsumer, ensureStreams } from "./ensure-topology.ts";
import { natsAuth } from "./nats-auth.ts";
import { checkNatsPermissions, permissionViolationIn } from "./nats-permission-check.ts";
import { inboxPrefixOf, NATS_ROLES, type NatsRole } from "./nats-permissions.ts";
import { natsPasswordVariable, renderNatsUsers } from "./render-nats-users.ts";
import { serveControl, type ControlAuditEntry } from "./serve-control.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const usersFile = readFileSync(join(repo, "deploy/nats/grantline-users.conf"), "utf8");
const logger = createLogger({ service: "test", level: "silent" });
const subjects = createSubjects("gl");
const passwords = Object.fromEntries(
  NATS_ROLES.map((r) => [r, `p${randomBytes(12).toString("hex")}`]),
) as Record<NatsRole, string>;

const haveServer = existsSync(NATS_SERVER_BINARY);
let server: TestNatsServer | null;
const open: NatsConnection[] = [];

async function as(role: NatsRole, password = passwords[role]): Promise<NatsConnection> {
  const nc = await connectNats({
    servers: server!.url,
    name: `test-${role}`,
    logger,
    auth: natsAuth({ NATS_USER: role, NATS_PASSWORD: password }),
    inboxPrefix: inboxPrefixOf(role),
  });
  open.push(nc);
  return nc;
}

/** Resolves to the refused subject, or null when the server accepted. */
async function refused(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (err) {
    const v = permissionViolationIn(err);
    if (!v) throw err;
    return v.subject;
  }
}

const batch = (source: string) => subjects.batch(source);

beforeAll(async () => {
  server = await startNatsServer({
    config: "include ./grantline-users.conf",
    files: { "grantline-users.conf": usersFile },
    env: Object.fromEntries(NATS_ROLES.map((r) => [natsPasswordVariable(r), passwords[r]])),
  });
  if (!server) return;
  // The scheduler is the one user that creates the streams.
  const nc = await as("scheduler");
  await ensureStreams(await jetstreamManager(nc), subjects, { hopMaxBytes: 1024 ** 2 });
}, 30_000);

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close()));
  await server?.stop();
});

describe("deploy/nats/grantline-users.conf", () => {
  it("is what natsPermissions() renders (npm run gen:nats-conf writes it)", () => {
    expect(usersFile).toBe(renderNatsUsers("gl"));
  });
});

if (!haveServer)
  console.warn(`skipped: no nats-server at ${NATS_SERVER_BINARY} (GL_TEST_NATS_SERVER names another)`);

describe.skipIf(!haveServer)("NATS users against a server with the project's configuration", () => {
  it("lets every service pass its start-up permission check", async () => {
    for (const role of ["scheduler", "fetcher", "mapper", "writer"] as const) {
      const nc = await as(role);
      await checkNatsPermissions({ nc, jsm: await jetstreamManager(nc), subjects, role });
    }
  });

  it("refuses a batch from every user but the mapper (a forged batch), and stores the mapper's", async () => {
    for (const role of NATS_ROLES.filter((r) => r !== "mapper")) {
      const js = jetstream(await as(role));
      expect(await refused(js.publish(batch("acme"), "{}", { msgID: `forged-${role}` })), role).toBe(
        batch("acme"),
      );
    }
    const js = jetstream(await as("mapper"));
    const ack = await js.publish(batch("acme"), "{}", { msgID: "real" });
    expect(ack.stream).toBe(subjects.streams.batches);
    const jsm = await jetstreamManager(await as("scheduler"));
    expect((await jsm.streams.info(subjects.streams.batches)).state.messages).toBe(1);
    await jsm.streams.purge(subjects.streams.batches);
  });

  it("lets the fetcher publish page results but not batches, page requests or events", async () => {
    const js = jetstream(await as("fetcher"));
    await js.publish(subjects.pageResult("acme", "iam"), "{}", { msgID: "r1" });
    for (const s of [
      batch("acme"),
      subjects.pageRequest("acme", "iam"),
      subjects.event("acme", "grant.created"),
    ])
      expect(await refused(js.publish(s, "{}")), s).toBe(s);
    await (await jetstreamManager(await as("scheduler"))).streams.purge(subjects.streams.pageResults);
  });

  it("lets the subscriber read events through its own durable consumer and nothing else", async () => {
    const nc = await as("subscriber");
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    for (const s of [
      subjects.event("acme", "grant.created"),
      subjects.pageRequest("acme", "iam"),
      subjects.pageResult("acme", "iam"),
      batch("acme"),
      subjects.deadLetter("writer"),
      subjects.ctl("sync", "subscriber"),
      subjects.ctl("sync", "operator"),
    ])
      expect(await refused(js.publish(s, "{}")), s).toBe(s);
    await jsm.consumers.add(subjects.streams.events, {
      durable_name: "siem",
      ack_policy: "explicit" as never,
    });
    await jetstream(await as("writer")).publish(subjects.event("acme", "grant.created"), '{"n":1}');
    const c = await js.consumers.get(subjects.streams.events, "siem");
    const m = await c.next({ expires: 5_000 });
    expect(m?.json()).toEqual({ n: 1 });
    m?.ack();
    expect(await refused(jsm.streams.purge(subjects.streams.events))).toMatch(/STREAM\.PURGE/);
    expect(await refused(jsm.consumers.delete(subjects.streams.events, "siem"))).toMatch(/CONSUMER\.DELETE/);
    expect(await refused(jsm.streams.delete(subjects.streams.events))).toMatch(/STREAM\.DELETE/);
    expect(await refused(jsm.consumers.add(subjects.streams.batches, { durable_name: "peek" }))).toMatch(
      /CONSUMER\.CREATE/,
    );
    // Core subscriptions: events yes, the pipeline's subjects and other users' inboxes no.
    const errors: string[] = [];
    for (const s of [subjects.all.batches, `${inboxPrefixOf("writer")}.>`, subjects.all.ctl])
      nc.subscribe(s, {
        callback: (err) => {
          if (err) errors.push(permissionViolationIn(err)?.subject ?? "");
        },
      });
    await nc.flush();
    expect(errors.sort()).toEqual(
      [subjects.all.batches, `${inboxPrefixOf("writer")}.>`, subjects.all.ctl].sort(),
    );
  });

  it("lets the operator start a sync and nobody else; each request is audited with the server-enforced user", async () => {
    const audits: ControlAuditEntry[] = [];
    const control = serveControl({
      nc: await as("scheduler"),
      subjects,
      logger,
      queue: "grantline-scheduler",
      audit: async (e) => void audits.push(e),
      handlers: {
        sync: async () => ({
          ok: true,
          runId: "00000000-0000-4000-8000-000000000001",
          alreadyRunning: false,
        }),
        status: async () => ({ ok: true, runs: [] }),
        cancel: async () => ({ ok: false, error: "no" }),
        refresh: async () => ({ ok: false, error: "no" }),
        grant: async () => ({ ok: false, error: "no" }),
        revoke: async () => ({ ok: false, error: "no" }),
        grants: async () => ({ ok: true, requests: [] }),
      },
    });
    const op = await as("operator");
    const reply = await op.request(subjects.ctl("sync", "operator"), '{"sourceId":"acme"}', {
      timeout: 5_000,
    });
    expect(reply.json()).toMatchObject({ ok: true });
    expect(audits).toEqual([{ user: "operator", verb: "sync", args: { sourceId: "acme" }, outcome: "ok" }]);
    // The operator cannot speak for another user; the others cannot send control requests at all.
    expect(await refused(op.request(subjects.ctl("sync", "mapper"), "{}", { timeout: 5_000 }))).toBe(
      subjects.ctl("sync", "mapper"),
    );
    for (const role of NATS_ROLES.filter((r) => r !== "operator")) {
      const nc = await as(role);
      for (const user of [role, "operator"]) {
        const s = subjects.ctl("sync", user);
        expect(
          await refused(nc.request(s, '{"sourceId":"acme"}', { timeout: 5_000 })),
          `${role} as ${user}`,
        ).toBe(s);
      }
    }
    expect(audits).toHaveLength(1);
    await control.stop(1_000);
  });

  it("grant and revoke come only from the operator; AWS changes go only scheduler → fetcher → scheduler", async () => {
    for (const verb of ["grant", "revoke"] as const)
      for (const role of NATS_ROLES.filter((r) => r !== "operator")) {
        const s = subjects.ctl(verb, role);
        expect(await refused((await as(role)).request(s, "{}", { timeout: 5_000 })), `${role} ${verb}`).toBe(
          s,
        );
      }
    const exec = subjects.provisioningExec("acme");
    const done = subjects.provisioningDone("acme");
    await jetstream(await as("scheduler")).publish(exec, "{}", { msgID: "e1" });
    await jetstream(await as("fetcher")).publish(done, "{}", { msgID: "d1" });
    for (const role of ["fetcher", "mapper", "writer", "operator", "subscriber"] as const)
      expect(await refused(jetstream(await as(role)).publish(exec, "{}")), `${role} exec`).toBe(exec);
    for (const role of ["scheduler", "mapper", "writer", "operator", "subscriber"] as const)
      expect(await refused(jetstream(await as(role)).publish(done, "{}")), `${role} done`).toBe(done);
  });

  it("lets fetcher, mapper and writer consume their own stage and share blobs, not another stage", async () => {
    const mapper = await as("mapper");
    const mjsm = await jetstreamManager(mapper);
    await ensureConsumer(mjsm, {
      stream: subjects.streams.pageResults,
      durable: "mapper",
      filterSubject: subjects.all.pageResults,
    });
    expect(
      await refused(
        ensureConsumer(mjsm, {
          stream: subjects.streams.batches,
          durable: "writer",
          filterSubject: subjects.all.batches,
        }),
      ),
    ).toMatch(/CONSUMER\.(INFO|CREATE)/);
    const put = await openBlobStore(mapper, subjects);
    await put.put("big", new TextEncoder().encode("x".repeat(2_000_000)));
    const get = await openBlobStore(await as("writer"), subjects);
    expect((await get.get("big"))?.length).toBe(2_000_000);
  });

  it("refuses a wrong password at connect with one line naming the user", async () => {
    const err = await as("fetcher", "wrong").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsCredentialsError);
    expect((err as Error).message).toMatch(/^NATS at nats:\/\/127\.0\.0\.1:\d+ refused user "fetcher": /);
  });

  it("stops a service at start-up with one line when its password is wrong or it lacks a permission", async () => {
    const mapper = (url: string, password: string) =>
      new Promise<{ code: number | null; lines: string[] }>((resolve) => {
        const env = {
          PATH: process.env.PATH ?? "",
          NATS_URL: url,
          NATS_USER: "mapper",
          NATS_PASSWORD: password,
        };
        execFile(
          process.execPath,
          ["--import", "tsx", join(repo, "services/mapper/src/main.ts")],
          {
            env: {
              ...env,
              PROBE_PORT: "0",
              NATS_HOP_MAX_BYTES: String(1024 ** 2),
              OTEL_SDK_DISABLED: "true",
            },
            timeout: 60_000,
          },
          (err, stdout, stderr) =>
            resolve({
              code: err ? ((err as { code?: number }).code ?? null) : 0,
              // The failure is the one line above info (the probe server's start is logged before NATS).
              lines: `${stdout}${stderr}`
                .split("\n")
                .filter((l) => l.trim() !== "" && !l.includes('"level":"info"')),
            }),
        );
      });
    const wrong = await mapper(server!.url, "wrong");
    expect(wrong.code).toBe(1);
    expect(wrong.lines).toHaveLength(1);
    expect(wrong.lines[0]).toMatch(
      /mapper failed to start: NATS at nats:\/\/127\.0\.0\.1:\d+ refused user \\"mapper\\"/,
    );

    // A server whose configuration lacks one permission the mapper needs: publishing batches.
    const tampered = await startNatsServer({
      config: "include ./grantline-users.conf",
      files: { "grantline-users.conf": usersFile.replace(/\n {10}"gl\.batch\.>",/, "") },
      env: Object.fromEntries(NATS_ROLES.map((r) => [natsPasswordVariable(r), passwords[r]])),
    });
    try {
      const nc = await connectNats({
        servers: tampered!.url,
        name: "test-scheduler",
        logger,
        auth: natsAuth({ NATS_USER: "scheduler", NATS_PASSWORD: passwords.scheduler }),
        inboxPrefix: inboxPrefixOf("scheduler"),
      });
      await ensureStreams(await jetstreamManager(nc), subjects, { hopMaxBytes: 1024 ** 2 });
      await nc.close();
      const lacking = await mapper(tampered!.url, passwords.mapper);
      expect(lacking.code).toBe(1);
      expect(lacking.lines, lacking.lines.join("\n")).toHaveLength(1);
      expect(lacking.lines[0]).toContain(
        'mapper failed to start: NATS user \\"mapper\\" may not publish to \\"gl.batch.gl-permission-check\\"',
      );
    } finally {
      await tampered?.stop();
    }
  }, 120_000);
});
