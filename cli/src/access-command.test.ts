import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, migrateToLatest, refreshGrantChains, type Db } from "@grantline/db";
import { createTestDatabase, testInfra, type TestDatabase } from "@grantline/testing";

const BIN = fileURLToPath(new URL("../bin/grantline.js", import.meta.url));
const SRC = "cli";
const run = randomUUID();
const ACME = "123456789012";
const SHUT = "210987654321"; // suspended
const PS = "arn:aws:sso:::permissionSet/ssoins-9/ps-ro";
const ROLE = `arn:aws:iam::${ACME}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_feedfacecafebeef`;
const AUDIT = `arn:aws:iam::${ACME}:role/audit`;
const AUDITOR = "arn:aws:iam::999999999999:user/auditor";
let tdb: TestDatabase;
let db: Db;

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: tdb.url, NATS_URL: testInfra().natsUrl },
    });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.once("exit", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

const row = { source_id: SRC, first_seen_run: run, last_seen_run: run };

/**
 * Team ro (ann; ben, disabled) has ReadOnly on acme and so the reserved role; ann also has it on shut
 * (suspended). The audit role trusts the reserved role, and the auditor of another organization under an
 * ExternalId condition.
 */
beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url, poolSize: 2 });
  const m = await migrateToLatest(db);
  if (m.error) throw new Error(String(m.error));
  const resources: Array<[string, string, string, object?]> = [
    ["account", ACME, "acme"],
    ["account", SHUT, "shut", { suspended: true }],
    ["sso_group", "ro", "ReadOnlyTeam"],
    ["sso_user", "ann", "ann@example.com"],
    ["sso_user", "ben", "ben@example.com", { status: "DISABLED" }],
    ["iam_role", ROLE, "AWSReservedSSO_ReadOnly_feedfacecafebeef"],
    ["iam_role", AUDIT, "audit"],
  ];
  await db
    .insertInto("resources")
    .values(
      resources.map(([type, id, name, attrs]) => ({
        ...row,
        type,
        id,
        name,
        attrs: JSON.stringify(attrs ?? {}),
      })),
    )
    .execute();
  const onAccount = (a: string) => [`${a}|${PS}`, "account", a, `permission-set:${PS}`] as const;
  const ents = [
    onAccount(ACME),
    onAccount(SHUT),
    ["ro-member", "sso_group", "ro", "member"],
    ["role-assume", "iam_role", ROLE, "assignment"],
    ["audit-assume", "iam_role", AUDIT, "assignment"],
  ] as const;
  await db
    .insertInto("entitlements")
    .values(
      ents.map(([id, resource_type, resource_id, slug]) => ({
        ...row,
        id,
        resource_type,
        resource_id,
        slug,
        name: `${slug} ${resource_id}`,
        attrs: JSON.stringify(
          slug === "member" || slug === "assignment" ? {} : { permissionSetName: "ReadOnly" },
        ),
      })),
    )
    .execute();
  const ic = {
    derivedFrom: "identity-center",
    accountId: ACME,
    permissionSetArn: PS,
    viaEntitlement: `${ACME}|${PS}`,
  };
  const grants: Array<[string, string, string, boolean, object?]> = [
    ["ro-member", "sso_user", "ann", false],
    ["ro-member", "sso_user", "ben", false],
    [`${ACME}|${PS}`, "sso_group", "ro", true],
    [`${SHUT}|${PS}`, "sso_user", "ann", false],
    ["role-assume", "sso_group", "ro", true, { ...ic, conditional: false }],
    [
      "audit-assume",
      "iam_role",
      ROLE,
      true,
      { actions: ["sts:AssumeRole"], statements: [1], conditional: false },
    ],
    [
      "audit-assume",
      "iam_user",
      AUDITOR,
      false,
      { actions: ["sts:AssumeRole"], statements: [0], conditional: true, conditions: { ext: "x" } },
    ],
  ];
  await db
    .insertInto("grants")
    .values(
      grants.map(([entitlement_id, principal_type, principal_id, expandable, attrs]) => ({
        ...row,
        id: `${entitlement_id}:${principal_type}:${principal_id}`,
        entitlement_id,
        principal_type,
        principal_id,
        expandable,
        attrs: JSON.stringify(attrs ?? {}),
      })),
    )
    .execute();
  // Written straight into the tables, not by a run: refresh the 2+-hop paths as a run's end would.
  await refreshGrantChains(db, SRC);
});
afterAll(async () => {
  await db?.destroy();
  await tdb?.drop();
});

describe("grantline access", () => {
  it("who: a table of principals, permission set and via, inactive ones counted; --json; --include-inactive", async () => {
    const who = await cli("access", "who", ACME);
    expect(who.code).toBe(0);
    const lines = who.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^PRINCIPAL\s+PERMISSION SET\s+VIA\s+MARKERS$/);
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^ReadOnlyTeam \(sso_group ro\)\s+ReadOnly\s+direct$/),
      expect.stringMatching(/^ann@example.com \(sso_user ann\)\s+ReadOnly\s+sso_group\/ro$/),
    ]);
    expect(lines.at(-1)).toBe(
      "2 paths; 1 inactive hidden (disabled users, suspended accounts: --include-inactive shows them)",
    );
    const all = await cli("access", "who", ACME, "--include-inactive", "--json");
    const json = JSON.parse(all.out) as { rows: Array<Record<string, unknown>>; hiddenInactive: number };
    expect(json.hiddenInactive).toBe(0);
    expect(json.rows).toContainEqual(
      expect.objectContaining({
        principal_id: "ben",
        via_id: "ro",
        active: false,
        entitlement_name: "ReadOnly",
      }),
    );
    const inactive = await cli("access", "who", SHUT, "--include-inactive");
    expect(inactive.out).toMatch(/ann@example.com \(sso_user ann\)\s+ReadOnly\s+direct\s+inactive/);
  });

  it("of: by id or by name, the reserved role marked as derived", async () => {
    const byName = await cli("access", "of", "ann@example.com");
    expect(byName.code).toBe(0);
    expect(byName.out).toMatch(
      /AWSReservedSSO_ReadOnly_feedfacecafebeef \(iam_role in 123456789012\)\s+assignment \S+\s+sso_group\/ro\s+derived:identity-center/,
    );
    expect(byName.out).toMatch(/1 inactive hidden/); // ReadOnly on the suspended account
    const byId = JSON.parse((await cli("access", "of", "ann", "--json")).out) as { rows: unknown[] };
    expect(byId.rows).toHaveLength(4); // acme, the reserved role, audit (through it), the group
  });

  it("can-assume: each path step by step, with trust statements and conditions; --json structured", async () => {
    const r = await cli("access", "can-assume", AUDIT);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`iam_user ${AUDITOR} → audit (iam_role in ${ACME})  [conditional]`);
    expect(r.out).toContain(
      `1. iam_user ${AUDITOR} may assume audit (iam_role in ${ACME}): its trust policy names it (statement 0), actions sts:AssumeRole if {"ext":"x"}`,
    );
    // ann: member of the team → the team's assignment gives the reserved role → which the audit role trusts.
    const ann = r.out.split("\n\n").find((p) => p.startsWith("ann@example.com"));
    expect(ann?.split("\n").slice(1)).toEqual([
      "  1. ann@example.com (sso_user ann) is a member of ReadOnlyTeam (sso_group ro)",
      `  2. ReadOnlyTeam (sso_group ro) may assume AWSReservedSSO_ReadOnly_feedfacecafebeef (iam_role in ${ACME}): the Identity Center reserved role of permission set ReadOnly in account ${ACME}`,
      `  3. AWSReservedSSO_ReadOnly_feedfacecafebeef (iam_role in ${ACME}) may assume audit (iam_role in ${ACME}): its trust policy names it (statement 1), actions sts:AssumeRole`,
    ]);
    const json = JSON.parse((await cli("access", "can-assume", AUDIT, "--json")).out) as {
      paths: Array<{ principal: { id: string }; steps: Array<{ kind: string }>; derivedFrom: string | null }>;
      hiddenInactive: number;
    };
    expect(json.hiddenInactive).toBe(1); // ben
    expect(json.paths.find((p) => p.principal.id === "ann")).toMatchObject({
      derivedFrom: "identity-center",
      steps: [{ kind: "member" }, { kind: "identity-center" }, { kind: "trust" }],
    });
  });

  it("explain: every path from a principal to an account, the roles in it included", async () => {
    const r = await cli("access", "explain", "ann", ACME, "--json");
    expect(r.code).toBe(0);
    const { paths } = JSON.parse(r.out) as { paths: Array<{ target: { id: string } }> };
    expect(paths.map((p) => p.target.id)).toEqual([ACME, AUDIT, ROLE]);
    const none = await cli("access", "explain", "ann", `arn:aws:iam::${ACME}:role/none`);
    expect(none.out).toMatch(/^no path from ann to arn:aws:iam::123456789012:role\/none\n\n0 paths\n$/);
  });

  it("names the bad argument in a usage error (exit 2)", async () => {
    for (const [args, message] of [
      [["who", "12345"], '<accountId> must be a 12-digit AWS account id, not "12345"'],
      [
        ["explain", "ann", "acme"],
        '<accountId|roleArn> must be a 12-digit account id or an IAM role ARN, not "acme"',
      ],
      [
        ["can-assume", AUDIT, "--timeout", "soon"],
        '--timeout must be a whole number of milliseconds ≥ 1, not "soon"',
      ],
    ] as const) {
      const r = await cli("access", ...args);
      expect(r.code).toBe(2);
      expect(r.err.split("\n")[0]).toContain(message);
    }
  });

  it("a query past --timeout: a clear message, exit code 3, no stack trace", async () => {
    // A schema change in an open transaction holds grants' ACCESS EXCLUSIVE lock until it rolls back, so the
    // CLI's query waits on it — and the statement timeout counts the wait.
    let locked = (): void => undefined;
    let release = (): void => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    const locking = db
      .transaction()
      .execute(async (tx) => {
        await tx.schema.alterTable("grants").addColumn("lock_probe", "text").execute();
        locked();
        await held;
        throw new Error("roll back");
      })
      .catch(() => undefined);
    await isLocked;
    const r = await cli("access", "who", ACME, "--timeout", "200");
    release();
    await locking;
    expect(r.code).toBe(3);
    expect(r.err).toContain(`grantline: access who ${ACME} timed out`);
    expect(r.err).toContain("200 ms statement timeout");
    expect(r.err).toContain("ANALYZE");
    expect(r.err).toContain("--timeout <ms>");
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
