import { describe, expect, it } from "vitest";
import { useMigratedTestDb } from "../migrated-test-db.fixture.ts";
import { expireDueGrants } from "./expire-grants.ts";
import { listGrantRequests } from "./list-grant-requests.ts";
import { pendingProvisioning, recordProvisioningOutcome } from "./pending-provisioning.ts";
import { at, provisioningHelpers, SEED, subjects } from "./provisioning.fixture.ts";

// Its own database: the sweeper fires every due expiry, whichever test recorded it.
const t = useMigratedTestDb({ poolSize: 4 });
const { source, assignment, grant, auditOf, events } = provisioningHelpers(t);

describe("time-bound grants", () => {
  it("overlapping requests: the first expiry keeps the access, the last one revokes it — each fires once", async () => {
    const s = await source();
    const target = assignment(SEED.user);
    await grant(s, { id: "a", target, durationSeconds: 3600 });
    // The second joins the first's pending create: one AWS call carries both.
    expect(await grant(s, { id: "b", target, durationSeconds: 7200 }, at(60))).toMatchObject({
      ok: true,
      state: "accepted",
      changes: [],
      holders: [{ holder: "a" }, { holder: "b" }],
    });
    const call = (await pendingProvisioning(t.db)).find((c) => c.sourceId === s);
    expect(call?.requestIds).toEqual(["a", "b"]);
    await recordProvisioningOutcome(t.db, subjects, {
      requestIds: call!.requestIds,
      outcome: "executing",
      now: at(61),
    });
    expect(
      await recordProvisioningOutcome(t.db, subjects, {
        requestIds: call!.requestIds,
        outcome: "confirmed",
        awsCall: { operation: "CreateAccountAssignment", status: "SUCCEEDED" },
        now: at(62),
      }),
    ).toBe(2);
    // Joining a confirmed grant is active at once: no AWS call. It ends with b.
    expect(await grant(s, { id: "c", target, durationSeconds: 7160 }, at(100))).toMatchObject({
      ok: true,
      state: "active",
      changes: [],
    });
    expect(await expireDueGrants(t.db, subjects, at(3599))).toEqual({ expired: 0, revokes: 0 });
    expect(await expireDueGrants(t.db, subjects, at(3601))).toEqual({ expired: 1, revokes: 0 });
    expect(await expireDueGrants(t.db, subjects, at(3602))).toEqual({ expired: 0, revokes: 0 });
    expect((await pendingProvisioning(t.db)).filter((c) => c.sourceId === s)).toEqual([]);
    // A restart after the last expiry was due: the next sweep fires it, once.
    expect(await expireDueGrants(t.db, subjects, at(9000))).toEqual({ expired: 2, revokes: 1 });
    expect(await expireDueGrants(t.db, subjects, at(9001))).toEqual({ expired: 0, revokes: 0 });
    expect((await pendingProvisioning(t.db)).filter((c) => c.sourceId === s)).toMatchObject([
      { action: "delete", requestIds: ["expiry:b"] },
    ]);
    const types = (await events(s)).map((e) => `${e.type.replace("dev.grantline.", "")} ${e.requestId}`);
    expect(types.filter((x) => x.startsWith("provisioning.expired"))).toEqual([
      "provisioning.expired a",
      "provisioning.expired b",
      "provisioning.expired c",
    ]);
    expect(await auditOf("a")).toMatchObject([
      { action: "requested" },
      { action: "accepted" },
      { action: "executing" },
      { action: "aws-call", outcome: "confirmed", state: "active" },
      { action: "expired", state: "expired" },
    ]);
  });

  it("concurrent sweeps fire each expiry once", async () => {
    const s = await source();
    for (const [i, user] of [SEED.user, "u-dup-1"].entries())
      await grant(s, {
        id: `c${i}`,
        target: { kind: "group-membership", user, group: SEED.group },
        durationSeconds: 10,
      });
    const sweeps = await Promise.all([0, 1, 2, 3].map(() => expireDueGrants(t.db, subjects, at(20))));
    expect(sweeps.reduce((n, r) => n + r.expired, 0)).toBe(2);
    expect((await events(s)).filter((e) => e.type.endsWith("expired"))).toHaveLength(2);
    // Never carried out: nothing in AWS to revoke.
    expect(sweeps.reduce((n, r) => n + r.revokes, 0)).toBe(0);
  });

  it("a standing assignment outlives a time-bound holder: its expiry never revokes", async () => {
    const s = await source();
    const key = `${s}/${SEED.standingGrant}`;
    // Recorded as standing by the first request that found it.
    await grant(s, { id: "finds-standing", target: assignment(SEED.user2) });
    // A time-bound holder recorded beside it (as by a request accepted before the sync saw the assignment).
    await t.db
      .insertInto("grant_holders")
      .values({ grant_key: key, holder: "tb", standing: false, expires_at: at(10) })
      .execute();
    await t.db
      .insertInto("provisioning_requests")
      .values({
        id: "tb",
        source_id: s,
        verb: "grant",
        kind: "account-assignment",
        target: JSON.stringify(assignment(SEED.user2)),
        grant_key: key,
        change: JSON.stringify({}),
        requester: "operator",
        reason: null,
        duration_seconds: 10,
        expires_at: at(10),
        state: "active",
        idempotency_key: "k",
        detail: null,
      })
      .execute();
    expect(await expireDueGrants(t.db, subjects, at(11))).toEqual({ expired: 1, revokes: 0 });
    expect((await listGrantRequests(t.db, { sourceId: s, all: true }))[0]).toMatchObject({
      id: "tb",
      state: "expired",
      holders: [{ holder: "standing", standing: true }],
    });
  });
});
