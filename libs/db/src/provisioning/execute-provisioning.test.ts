import { randomUUID } from "node:crypto";
import type { ProvisioningDone, ProvisioningExec } from "@grantline/contracts";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { useMigratedTestDb } from "../migrated-test-db.fixture.ts";
import {
  confirmProvisioning,
  recordProvisioningDone,
  republishStalledProvisioning,
  startProvisioningCalls,
} from "./execute-provisioning.ts";
import { provisioningHelpers, SEED, subjects, syncGrant } from "./provisioning.fixture.ts";

// Its own database: the sweeps act on every request in it.
const t = useMigratedTestDb({ poolSize: 4 });
const { source, assignment, grant, revoke, auditOf, events } = provisioningHelpers(t);

async function sourceRow(): Promise<string> {
  const s = await source();
  await t.db.insertInto("sources").values({ id: s }).execute();
  return s;
}

/** What the fetchers were handed, by test. */
function outbox() {
  const sent: ProvisioningExec[] = [];
  return { sent, publish: async (e: ProvisioningExec) => void sent.push(e) };
}

const done = (exec: ProvisioningExec, outcome: ProvisioningDone["outcome"]): ProvisioningDone => ({
  callId: exec.callId,
  attempt: exec.attempt,
  sourceId: exec.call.sourceId,
  requestIds: exec.call.requestIds,
  action: exec.call.action,
  outcome,
  ms: 1200,
});

const stateOf = async (id: string) =>
  (await t.db.selectFrom("provisioning_requests").selectAll().where("id", "=", id).executeTakeFirstOrThrow())
    .state;

/** What the writer's re-read leaves: the access's grant row (live), or its revocation. */
async function syncedGrant(grantKey: string, sourceId: string, live: boolean): Promise<void> {
  await syncGrant(t.db, sourceId, grantKey.slice(sourceId.length + 1), live);
}

/** A finished re-read: a refresh run that started now. */
async function finishedRefresh(sourceId: string): Promise<void> {
  await t.db
    .insertInto("runs")
    .values({
      id: randomUUID(),
      source_id: sourceId,
      kind: "refresh",
      status: "succeeded",
      finished_at: new Date(),
      stats: "{}",
      warnings: "[]",
    })
    .execute();
}

describe("executing provisioning requests", () => {
  it("grant: handed to the fetcher once, recorded, re-read, then confirmed — events in that order", async () => {
    const s = await sourceRow();
    const r = await grant(s, { id: `g-${s}`, target: assignment(SEED.user) });
    expect(r).toMatchObject({ ok: true, state: "accepted" });
    const { sent, publish } = outbox();
    expect(await startProvisioningCalls(t.db, subjects, publish)).toBeGreaterThanOrEqual(1);
    const exec = sent.find((e) => e.call.sourceId === s)!;
    expect(exec).toMatchObject({ attempt: 1, call: { action: "create", requestIds: [`g-${s}`] } });
    expect(await stateOf(`g-${s}`)).toBe("executing");
    // A second tick (or a second leader) does not hand it over again.
    const again = outbox();
    await startProvisioningCalls(t.db, subjects, again.publish);
    expect(again.sent.filter((e) => e.call.sourceId === s)).toEqual([]);

    expect(
      await recordProvisioningDone(t.db, subjects, done(exec, { outcome: "succeeded", requestId: "op-1" })),
    ).toBe(1);
    // A repeated answer (redelivered message) changes nothing.
    expect(await recordProvisioningDone(t.db, subjects, done(exec, { outcome: "succeeded" }))).toBe(0);
    const queued = await t.db.selectFrom("refresh_queue").selectAll().where("source_id", "=", s).execute();
    expect(queued).toMatchObject([
      {
        requested_by: `provisioning:g-${s}`,
        intent: {
          kind: "assignments",
          instanceArn: SEED.instance,
          accountId: SEED.account,
          permissionSetArn: SEED.ps,
        },
      },
    ]);
    // AWS said yes, but the synced rows do not show it yet: not confirmed.
    expect(await confirmProvisioning(t.db, subjects, { maxReads: 3 })).toMatchObject({ confirmed: 0 });
    expect(await stateOf(`g-${s}`)).toBe("executing");
    if (!r.ok) throw new Error("refused");
    await syncedGrant(r.grantKey, s, true);
    expect(await confirmProvisioning(t.db, subjects, { maxReads: 3 })).toMatchObject({ confirmed: 1 });
    expect(await stateOf(`g-${s}`)).toBe("active");
    expect((await events(s)).map((e) => e.type.replace("dev.grantline.", ""))).toEqual([
      "provisioning.requested",
      "provisioning.executing",
      "provisioning.confirmed",
    ]);
    expect((await auditOf(`g-${s}`)).map((a) => `${a.action} ${a.outcome}`)).toEqual([
      "requested ok",
      "accepted ok",
      "executing executing",
      "aws-call succeeded",
      "confirmed confirmed",
    ]);
  });

  it("revoke: the access's absence counts only after a re-read that started after AWS answered", async () => {
    const s = await sourceRow();
    const r = await revoke(s, { id: `r-${s}`, target: assignment(SEED.user2) });
    expect(r).toMatchObject({ ok: true, state: "accepted" });
    const { sent, publish } = outbox();
    await startProvisioningCalls(t.db, subjects, publish);
    const exec = sent.find((e) => e.call.sourceId === s)!;
    expect(exec.call.action).toBe("delete");
    await recordProvisioningDone(t.db, subjects, done(exec, { outcome: "succeeded" }));
    if (!r.ok) throw new Error("refused");
    await syncedGrant(r.grantKey, s, false);
    expect(await confirmProvisioning(t.db, subjects, { maxReads: 3 })).toMatchObject({ confirmed: 0 });
    await finishedRefresh(s);
    expect(await confirmProvisioning(t.db, subjects, { maxReads: 3 })).toMatchObject({ confirmed: 1 });
    expect(await stateOf(`r-${s}`)).toBe("done");
  });

  it("AWS's refusal fails the request with AWS's reason verbatim, and its hold ends", async () => {
    const s = await sourceRow();
    await grant(s, { id: `f-${s}`, target: assignment(SEED.user) });
    const { sent, publish } = outbox();
    await startProvisioningCalls(t.db, subjects, publish);
    const exec = sent.find((e) => e.call.sourceId === s)!;
    const reason = "Received a 403 status error: Not authorized to perform sts:AssumeRole";
    await recordProvisioningDone(t.db, subjects, done(exec, { outcome: "failed", reason, code: "FAILED" }));
    const row = await t.db
      .selectFrom("provisioning_requests")
      .selectAll()
      .where("id", "=", `f-${s}`)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "failed", detail: reason });
    const holders = await t.db
      .selectFrom("grant_holders")
      .selectAll()
      .where("holder", "=", `f-${s}`)
      .execute();
    expect(holders.every((h) => h.ended_at !== null)).toBe(true);
    expect((await events(s)).at(-1)).toMatchObject({
      type: "dev.grantline.provisioning.failed",
      state: "failed",
    });
  });

  it("an execution whose answer never came is handed over again, then fails after the last attempt", async () => {
    const s = await sourceRow();
    await grant(s, { id: `l-${s}`, target: assignment(SEED.user) });
    const { sent, publish } = outbox();
    await startProvisioningCalls(t.db, subjects, publish);
    const stale = sql<Date>`now() - interval '1 hour'`;
    await t.db
      .updateTable("provisioning_requests")
      .set({ exec_at: stale })
      .where("id", "=", `l-${s}`)
      .execute();
    const o = { stallMs: 60_000, maxAttempts: 2 };
    expect(await republishStalledProvisioning(t.db, subjects, publish, o)).toMatchObject({ republished: 1 });
    const mine = sent.filter((e) => e.call.sourceId === s);
    expect(mine.map((e) => e.attempt)).toEqual([1, 2]);
    expect(mine[0]!.callId).toBe(mine[1]!.callId);
    // Not stalled again until another stallMs passes.
    expect(await republishStalledProvisioning(t.db, subjects, publish, o)).toMatchObject({ republished: 0 });
    await t.db
      .updateTable("provisioning_requests")
      .set({ exec_at: stale })
      .where("id", "=", `l-${s}`)
      .execute();
    expect(await republishStalledProvisioning(t.db, subjects, publish, o)).toMatchObject({ failed: 1 });
    expect(await stateOf(`l-${s}`)).toBe("failed");
    // The late answer of attempt 1 changes nothing now.
    expect(await recordProvisioningDone(t.db, subjects, done(mine[0]!, { outcome: "succeeded" }))).toBe(0);
  });

  it("re-reads that keep not showing the change are queued again, then the request fails", async () => {
    const s = await sourceRow();
    await grant(s, { id: `n-${s}`, target: assignment(SEED.user) });
    const { sent, publish } = outbox();
    await startProvisioningCalls(t.db, subjects, publish);
    await recordProvisioningDone(
      t.db,
      subjects,
      done(
        sent.find((e) => e.call.sourceId === s)!,
        { outcome: "succeeded" },
      ),
    );
    await finishedRefresh(s);
    expect(await confirmProvisioning(t.db, subjects, { maxReads: 2 })).toMatchObject({ reread: 1 });
    expect(
      await t.db.selectFrom("refresh_queue").select("id").where("source_id", "=", s).execute(),
    ).toHaveLength(1);
    await t.db.updateTable("refresh_queue").set({ done_at: new Date() }).where("source_id", "=", s).execute();
    await finishedRefresh(s);
    expect(await confirmProvisioning(t.db, subjects, { maxReads: 2 })).toMatchObject({ failed: 1 });
    const row = await t.db
      .selectFrom("provisioning_requests")
      .selectAll()
      .where("id", "=", `n-${s}`)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe("failed");
    expect(row.detail).toContain("2 re-reads do not show it");
  });
});
