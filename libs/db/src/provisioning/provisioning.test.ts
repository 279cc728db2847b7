import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { ProvisioningTarget } from "@grantline/contracts";
import { useMigratedTestDb } from "../migrated-test-db.fixture.ts";
import { listGrantRequests } from "./list-grant-requests.ts";
import { pendingProvisioning, recordProvisioningOutcome } from "./pending-provisioning.ts";
import { at, provisioningHelpers, SEED, subjects } from "./provisioning.fixture.ts";

const t = useMigratedTestDb({ poolSize: 4 });
const { source, assignment, grant, revoke, auditOf, events } = provisioningHelpers(t);

describe("grant requests", () => {
  it("an assignment by names is validated, recorded with its holder and audit, and handed to the executor", async () => {
    const s = await source();
    const reply = await grant(s, {
      id: "req-1",
      target: assignment("ann@example.com"),
      reason: "on call",
      durationSeconds: 7200,
    });
    expect(reply).toMatchObject({
      ok: true,
      requestId: "req-1",
      state: "accepted",
      existing: false,
      grantKey: `${s}/${SEED.account}|${SEED.ps}:sso_user:${SEED.user}`,
      expiresAt: at(7200).toISOString(),
      holders: [{ holder: "req-1", standing: false, expiresAt: at(7200).toISOString() }],
    });
    expect(reply.ok && reply.changes[0]).toContain("grant permission set ReadOnly");
    expect(await auditOf("req-1")).toMatchObject([
      { action: "requested", requester: "operator", reason: "on call" },
      { action: "accepted", state: "accepted" },
    ]);
    expect(await events(s)).toMatchObject([
      { type: "dev.grantline.provisioning.requested", requestId: "req-1" },
    ]);
    const pending = (await pendingProvisioning(t.db)).filter((c) => c.sourceId === s);
    expect(pending).toEqual([
      {
        sourceId: s,
        grantKey: `${s}/${SEED.account}|${SEED.ps}:sso_user:${SEED.user}`,
        requestIds: ["req-1"],
        action: "create",
        change: {
          kind: "account-assignment",
          instanceArn: SEED.instance,
          accountId: SEED.account,
          permissionSetArn: SEED.ps,
          principalType: "USER",
          principalId: SEED.user,
        },
      },
    ]);
  });

  it("the same id twice is one request; the same id with another body is refused", async () => {
    const s = await source();
    const body = { id: "same", target: assignment(SEED.user), durationSeconds: 60 };
    expect(await grant(s, body)).toMatchObject({ ok: true, existing: false });
    expect(await grant(s, body, at(5))).toMatchObject({
      ok: true,
      existing: true,
      state: "accepted",
      requestId: "same",
    });
    expect(await grant(s, { ...body, durationSeconds: 120 })).toMatchObject({
      ok: false,
      refusal: "id-reused",
    });
    expect(
      await t.db.selectFrom("provisioning_requests").select("id").where("source_id", "=", s).execute(),
    ).toHaveLength(1);
  });

  it("a dry run says what would change and records nothing", async () => {
    const s = await source();
    const reply = await grant(s, {
      id: "dry",
      target: { kind: "group-membership", user: "ann@example.com", group: "Ops" },
      dryRun: true,
    });
    expect(reply).toMatchObject({ ok: true, dryRun: true, state: "accepted" });
    expect(reply.ok && reply.changes).toEqual([expect.stringContaining("membership of ann@example.com")]);
    expect(await auditOf("dry")).toEqual([]);
    expect(
      await t.db.selectFrom("provisioning_requests").select("id").where("id", "=", "dry").execute(),
    ).toEqual([]);
  });

  it.each([
    [
      "an unknown principal",
      assignment("nobody"),
      "unknown-principal",
      /no Identity Center user or group "nobody"/,
    ],
    ["an ambiguous name", assignment("dup"), "ambiguous-name", /names 2/],
    [
      "an unknown account",
      assignment(SEED.user, { account: "999999999999" } as Partial<ProvisioningTarget>),
      "unknown-account",
      /no account/,
    ],
    [
      "a suspended account",
      assignment(SEED.user, { account: SEED.suspended } as Partial<ProvisioningTarget>),
      "account-not-active",
      /is SUSPENDED/,
    ],
    [
      "a permission set of another instance",
      assignment(SEED.user, { permissionSet: "Other" } as Partial<ProvisioningTarget>),
      "permission-set-not-in-instance",
      /not in the Identity Center instance/,
    ],
    [
      "an unknown group",
      { kind: "group-membership", user: SEED.user, group: "g-none" },
      "unknown-group",
      /no Identity Center group/,
    ],
    [
      "an unknown IAM user",
      { kind: "iam-group-membership", user: "dave", group: "admins" },
      "unknown-principal",
      /no IAM user "dave"/,
    ],
  ] as const)(
    "refuses %s with a clear reply, audited and published",
    async (_what, target, refusal, message) => {
      const s = await source();
      const id = `refused-${randomUUID()}`;
      const reply = await grant(s, { id, target });
      expect(reply).toMatchObject({ ok: false, refusal });
      expect(!reply.ok && reply.error).toMatch(message);
      expect(await auditOf(id)).toMatchObject([{ action: "refused", state: "failed" }]);
      expect(await events(s)).toMatchObject([{ type: "dev.grantline.provisioning.refused", requestId: id }]);
    },
  );

  it("an assignment that already exists is a no-op naming what grants it, and becomes a standing holder", async () => {
    const s = await source();
    const reply = await grant(s, { id: "noop", target: assignment("bob@example.com"), durationSeconds: 60 });
    expect(reply).toMatchObject({
      ok: false,
      refusal: "already-granted",
      grantId: SEED.standingGrant,
      heldBy: [{ holder: "standing", standing: true, expiresAt: null }],
    });
    expect(!reply.ok && reply.error).toContain("standing assignment");
    const holders = await t.db
      .selectFrom("grant_holders")
      .selectAll()
      .where("grant_key", "=", `${s}/${SEED.standingGrant}`)
      .execute();
    expect(holders).toMatchObject([{ holder: "standing", standing: true, ended_at: null }]);
  });

  it("IAM group membership resolves user and group by name", async () => {
    const s = await source();
    const reply = await grant(s, {
      id: "iam-1",
      target: { kind: "iam-group-membership", user: "carol", group: "admins" },
    });
    expect(reply).toMatchObject({
      ok: true,
      grantKey: `${s}/iam_group:${SEED.iamGroup}:member:iam_user:${SEED.iamUser}`,
    });
    const call = (await pendingProvisioning(t.db)).find((c) => c.requestIds.includes("iam-1"));
    expect(call?.change).toEqual({
      kind: "iam-group-membership",
      accountId: SEED.account,
      groupName: "admins",
      userName: "carol",
    });
  });
});

describe("revoke requests", () => {
  it("ends every holder; the access goes; revoking nothing is refused", async () => {
    const s = await source();
    const target = assignment(SEED.user);
    await grant(s, { id: "g1", target });
    await recordProvisioningOutcome(t.db, subjects, { requestIds: ["g1"], outcome: "confirmed" });
    const dry = await revoke(s, { id: "r0", target, dryRun: true });
    expect(dry).toMatchObject({ ok: true, dryRun: true, state: "accepted", holders: [] });
    expect(await revoke(s, { id: "r1", target, reason: "left the team" })).toMatchObject({
      ok: true,
      state: "accepted",
      changes: [expect.stringContaining("revoke permission set ReadOnly")],
      holders: [],
    });
    expect((await listGrantRequests(t.db, { sourceId: s, all: true })).map((r) => [r.id, r.state])).toEqual(
      expect.arrayContaining([
        ["g1", "revoked"],
        ["r1", "accepted"],
      ]),
    );
    expect((await pendingProvisioning(t.db)).find((c) => c.sourceId === s)).toMatchObject({
      action: "delete",
      requestIds: ["r1"],
    });
    expect(await revoke(s, { id: "r2", target: assignment("u-dup-1") })).toMatchObject({
      ok: false,
      refusal: "not-granted",
    });
    expect(await revoke(s, { id: "r3", target, holder: "nobody" })).toMatchObject({
      ok: false,
      refusal: "unknown-holder",
    });
  });

  it("one request's hold ends without revoking while another holds the grant", async () => {
    const s = await source();
    const target = assignment(SEED.user);
    await grant(s, { id: "h1", target, durationSeconds: 600 });
    await grant(s, { id: "h2", target, durationSeconds: 1200 });
    await recordProvisioningOutcome(t.db, subjects, { requestIds: ["h1", "h2"], outcome: "confirmed" });
    expect(await revoke(s, { id: "rh", target, holder: "h1" })).toMatchObject({
      ok: true,
      state: "done",
      changes: [],
      holders: [{ holder: "h2" }],
    });
    expect(await listGrantRequests(t.db, { sourceId: s })).toMatchObject([
      { id: "h2", holders: [{ holder: "h2" }] },
    ]);
  });
});

describe("provisioning_audit", () => {
  it("is append-only", async () => {
    await grant(await source(), { id: "audited", target: assignment("nobody") });
    await expect(sql`UPDATE provisioning_audit SET outcome = 'x'`.execute(t.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM provisioning_audit`.execute(t.db)).rejects.toThrow(/append-only/);
  });
});
