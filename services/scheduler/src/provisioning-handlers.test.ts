import { describe, expect, it } from "vitest";
import { GrantRequest, GrantsRequest, RevokeRequest, type ProvisioningState } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createExpiryTick } from "./expiry-tick.ts";
import { createProvisioningHandlers, type ProvisioningStore } from "./provisioning-handlers.ts";

const logger = createLogger({ service: "test", level: "silent" });
const ctx = { logger, user: "alice", signal: new AbortController().signal };
const target = { kind: "group-membership", user: "ann", group: "ops" } as const;

function fixture(sources: string[], states: ProvisioningState[] = ["active"]) {
  const calls: Array<[string, string, string]> = [];
  const seen: ProvisioningState[] = [];
  const store: ProvisioningStore = {
    grant: async (sourceId, req, requester) => {
      calls.push(["grant", sourceId, requester]);
      return {
        ok: true,
        requestId: req.id ?? "generated",
        dryRun: req.dryRun,
        existing: false,
        state: "accepted",
        grantKey: `${sourceId}/k`,
        changes: ["grant it"],
        expiresAt: null,
        holders: [],
      };
    },
    revoke: async (sourceId, _req, requester) => {
      calls.push(["revoke", sourceId, requester]);
      return { ok: false, refusal: "not-granted", error: "not granted" };
    },
    list: async () => [],
    state: async () => {
      const state = states[Math.min(seen.length, states.length - 1)]!;
      seen.push(state);
      return { state, detail: state === "failed" ? "AWS said no" : null };
    },
  };
  return { handlers: createProvisioningHandlers(new Set(sources), store), calls, seen };
}

describe("the provisioning handlers", () => {
  it("reply once the request is final: after the AWS change and its confirming re-read", async () => {
    const { handlers, seen } = fixture(["acme"], ["accepted", "executing", "executing", "active"]);
    const reply = await handlers.grant(GrantRequest.parse({ id: "r1", target }), ctx);
    expect(reply).toMatchObject({ ok: true, requestId: "r1", state: "active" });
    expect(seen).toEqual(["accepted", "executing", "executing", "active"]);
  });

  it("a failed change: the reply carries AWS's reason, and the request no longer holds the grant", async () => {
    const { handlers } = fixture(["acme"], ["executing", "failed"]);
    const reply = await handlers.grant(GrantRequest.parse({ id: "r1", target }), ctx);
    expect(reply).toMatchObject({ ok: true, state: "failed", detail: "AWS said no" });
  });

  it("waitSeconds 0 replies at once with the recorded state; a dry run never waits", async () => {
    const { handlers, seen } = fixture(["acme"], ["executing"]);
    expect(await handlers.grant(GrantRequest.parse({ id: "r1", target, waitSeconds: 0 }), ctx)).toMatchObject(
      { state: "accepted" },
    );
    expect(await handlers.grant(GrantRequest.parse({ id: "r2", target, dryRun: true }), ctx)).toMatchObject({
      state: "accepted",
      dryRun: true,
    });
    expect(seen).toEqual([]);
  });

  it("a wait that runs out replies with the state so far", async () => {
    const { handlers } = fixture(["acme"], ["executing"]);
    const reply = await handlers.grant(GrantRequest.parse({ id: "r1", target, waitSeconds: 1 }), ctx);
    expect(reply).toMatchObject({ ok: true, state: "executing" });
  });

  it("send grant and revoke to the only source, as the NATS user that asked", async () => {
    const { handlers, calls } = fixture(["acme"]);
    expect(await handlers.grant(GrantRequest.parse({ id: "r1", target }), ctx)).toMatchObject({
      ok: true,
      requestId: "r1",
    });
    expect(await handlers.revoke(RevokeRequest.parse({ target }), ctx)).toMatchObject({
      ok: false,
      refusal: "not-granted",
    });
    expect(calls).toEqual([
      ["grant", "acme", "alice"],
      ["revoke", "acme", "alice"],
    ]);
  });

  it("refuse an unknown source, and a request that names none among several", async () => {
    const { handlers, calls } = fixture(["a", "b"]);
    expect(await handlers.grant(GrantRequest.parse({ target }), ctx)).toMatchObject({
      ok: false,
      refusal: "unknown-source",
      error: expect.stringContaining("several sources are configured"),
    });
    expect(await handlers.revoke(RevokeRequest.parse({ target, sourceId: "c" }), ctx)).toMatchObject({
      ok: false,
      error: expect.stringContaining('unknown source "c"'),
    });
    expect(await handlers.grants(GrantsRequest.parse({ sourceId: "c" }), ctx)).toMatchObject({ ok: false });
    expect(await handlers.grants(GrantsRequest.parse({}), ctx)).toEqual({ ok: true, requests: [] });
    expect(calls).toEqual([]);
  });
});

describe("the expiry tick", () => {
  it("runs on the leader only and wakes the outbox when something expired", async () => {
    let kicks = 0;
    let sweeps = 0;
    const tick = (leader: boolean, expired: number) =>
      createExpiryTick({
        isLeader: () => leader,
        expire: async () => (sweeps++, { expired, revokes: 0 }),
        kickOutbox: () => void kicks++,
        logger,
      });
    await tick(false, 1)();
    expect([sweeps, kicks]).toEqual([0, 0]);
    await tick(true, 0)();
    expect([sweeps, kicks]).toEqual([1, 0]);
    await tick(true, 2)();
    expect([sweeps, kicks]).toEqual([2, 1]);
  });
});
