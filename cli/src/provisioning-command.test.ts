import { describe, expect, it } from "vitest";
import { GrantRequest, RevokeRequest } from "@grantline/contracts";
import {
  grantsText,
  parseDuration,
  provisioningBody,
  provisioningReplyText,
} from "./provisioning-command.ts";
import { UsageError } from "./usage-error.ts";

describe("grant and revoke arguments", () => {
  it("durations: s, m, h, d and combinations; anything else is a usage error", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("2h")).toBe(7200);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("1d")).toBe(86400);
    for (const bad of ["", "2", "2 h", "h", "-1h", "1y", "0m", "400d", "2h!"])
      expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });

  it("an assignment with every option becomes a valid grant request", () => {
    const body = provisioningBody("grant", ["assignment", "ann@example.com", "ReadOnly", "123456789012"], {
      for: "2h",
      reason: "incident 42",
      id: "inc-42",
      "dry-run": true,
      source: "acme",
    });
    expect(GrantRequest.parse(body)).toEqual({
      sourceId: "acme",
      id: "inc-42",
      target: {
        kind: "account-assignment",
        principal: "ann@example.com",
        permissionSet: "ReadOnly",
        account: "123456789012",
      },
      reason: "incident 42",
      dryRun: true,
      durationSeconds: 7200,
      waitSeconds: 300,
    });
  });

  it("--wait-for and --no-wait bound how long the reply waits for the confirmed change", () => {
    const args = ["membership", "ann", "Ops"];
    expect(provisioningBody("grant", args, { "wait-for": "10m" }).waitSeconds).toBe(600);
    expect(provisioningBody("grant", args, { "no-wait": true }).waitSeconds).toBe(0);
    expect(() => provisioningBody("grant", args, { "wait-for": "1h" })).toThrow(/at most 15m/);
    expect(() => provisioningBody("grant", args, { "wait-for": "10m", "no-wait": true })).toThrow(
      /exclude each other/,
    );
  });

  it("memberships by short or full kind name; a generated id when none is given", () => {
    const a = provisioningBody("revoke", ["membership", "ann", "Ops"], { holder: "inc-42" });
    expect(RevokeRequest.parse(a)).toMatchObject({
      target: { kind: "group-membership", user: "ann", group: "Ops" },
      holder: "inc-42",
      dryRun: false,
    });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(provisioningBody("grant", ["iam-group-membership", "carol", "admins"], {}).target).toEqual({
      kind: "iam-group-membership",
      user: "carol",
      group: "admins",
    });
  });

  it.each([
    [["grant", []], /grant needs a kind: assignment <principal> <permissionSet> <accountId>/],
    [["grant", ["role", "x"]], /grant needs a kind/],
    [["grant", ["assignment", "ann", "ReadOnly"]], /needs <principal> <permissionSet> <accountId>/],
    [["grant", ["assignment", "ann", "ReadOnly", "12345"]], /12-digit AWS account id, not "12345"/],
    [["revoke", ["membership", "ann"]], /revoke membership needs <user> <group>/],
  ] as const)("%j is a usage error: %s", ([verb, args], message) => {
    expect(() => provisioningBody(verb, [...args], {})).toThrow(message);
  });

  it("options of the other verb are refused", () => {
    expect(() => provisioningBody("grant", ["membership", "a", "b"], { holder: "x" })).toThrow(/--holder/);
    expect(() => provisioningBody("revoke", ["membership", "a", "b"], { for: "1h" })).toThrow(/--for/);
  });
});

describe("replies", () => {
  it("an accepted grant says what changes, when it expires and who holds it", () => {
    const r = provisioningReplyText("grant", {
      ok: true,
      requestId: "inc-42",
      dryRun: false,
      existing: false,
      state: "accepted",
      grantKey: "acme/k",
      changes: ["grant permission set ReadOnly for ann on account prod"],
      expiresAt: "2026-12-01T12:00:00.000Z",
      holders: [{ holder: "inc-42", standing: false, expiresAt: "2026-12-01T12:00:00.000Z" }],
    });
    expect(r.text).toBe(
      [
        "grant inc-42: accepted",
        "  still accepted: it goes on; `grantline grants` shows when it ends",
        "  change: grant permission set ReadOnly for ann on account prod",
        "  expires: 2026-12-01T12:00:00.000Z",
        "  holders: inc-42 until 2026-12-01T12:00:00.000Z",
      ].join("\n"),
    );
    expect(r.failed).toBe(false);
  });

  it("a failed change says AWS's reason and fails the command", () => {
    const r = provisioningReplyText("grant", {
      ok: true,
      requestId: "inc-43",
      dryRun: false,
      existing: false,
      state: "failed",
      grantKey: "acme/k",
      changes: ["grant permission set ReadOnly for ann on account prod"],
      expiresAt: null,
      holders: [],
      detail: "Received a 403 status error: not authorized",
    });
    expect(r.text).toContain("  AWS: Received a 403 status error: not authorized");
    expect(r.failed).toBe(true);
  });

  it("a refusal is an error carrying the scheduler's words", () => {
    expect(() =>
      provisioningReplyText("grant", {
        ok: false,
        refusal: "account-not-active",
        error: "account old is SUSPENDED",
      }),
    ).toThrow("account old is SUSPENDED");
  });

  it("grants lists requests with their holders", () => {
    const r = grantsText({
      ok: true,
      requests: [
        {
          id: "inc-42",
          sourceId: "acme",
          verb: "grant",
          target: { kind: "group-membership", user: "u-1", group: "g-1" },
          grantKey: "acme/k",
          requester: "alice",
          reason: "incident",
          state: "active",
          createdAt: "2026-12-01T10:00:00.000Z",
          updatedAt: "2026-12-01T10:00:00.000Z",
          expiresAt: "2026-12-01T12:00:00.000Z",
          holders: [
            { holder: "standing", standing: true, expiresAt: null },
            { holder: "inc-42", standing: false, expiresAt: "2026-12-01T12:00:00.000Z" },
          ],
        },
      ],
    });
    expect(r.text).toContain("u-1 in g-1");
    expect(r.text).toContain("holders: standing, inc-42 until 2026-12-01T12:00:00.000Z; reason: incident");
    expect(grantsText({ ok: true, requests: [] }).text).toMatch(/no provisioning requests/);
  });
});
