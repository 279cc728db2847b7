import { randomUUID } from "node:crypto";
import {
  GrantReply,
  GrantsReply,
  MAX_GRANT_SECONDS,
  RevokeReply,
  type ProvisioningRequestSummary,
  type ProvisioningTarget,
} from "@grantline/contracts";
import { UsageError } from "./usage-error.ts";

export interface ProvisioningFlags {
  json?: boolean;
  source?: string;
  for?: string;
  reason?: string;
  id?: string;
  "dry-run"?: boolean;
  holder?: string;
  all?: boolean;
  "wait-for"?: string;
  "no-wait"?: boolean;
}

/** How long `grant`/`revoke` wait for the request to end by default (the scheduler allows up to 15 min). */
const DEFAULT_WAIT_SECONDS = 300;
const MAX_WAIT_SECONDS = 900;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `--for`: `90m`, `2h`, `1d`, `1h30m` → seconds; a usage error for anything else. */
export function parseDuration(text: string, option = "--for", max = MAX_GRANT_SECONDS): number {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    throw new UsageError(`${option}: "${text}" is not a duration (e.g. 30m, 2h, 1d, 1h30m)`);
  const seconds = parts.reduce((n, p) => n + Number(p[1]) * UNITS[p[2]!]!, 0);
  if (seconds <= 0 || seconds > max)
    throw new UsageError(
      `${option}: ${text} must be more than 0 and at most ${max >= 86400 ? `${max / 86400}d` : `${max / 60}m`}`,
    );
  return seconds;
}

/** `--wait-for <d>` / `--no-wait`: how long the reply may wait for the AWS change to be made and confirmed. */
export function waitSecondsOf(flags: ProvisioningFlags): number {
  if (flags["no-wait"] && flags["wait-for"] !== undefined)
    throw new UsageError("--no-wait and --wait-for exclude each other");
  if (flags["no-wait"]) return 0;
  return flags["wait-for"] === undefined
    ? DEFAULT_WAIT_SECONDS
    : parseDuration(flags["wait-for"], "--wait-for", MAX_WAIT_SECONDS);
}

const KINDS: Record<string, { kind: ProvisioningTarget["kind"]; args: string[] }> = {
  assignment: { kind: "account-assignment", args: ["principal", "permissionSet", "accountId"] },
  membership: { kind: "group-membership", args: ["user", "group"] },
  "iam-membership": { kind: "iam-group-membership", args: ["user", "group"] },
};

/** `<kind> <args…>` → the request's target. */
export function parseTarget(verb: string, args: string[]): ProvisioningTarget {
  const [kind, ...rest] = args;
  const spec = Object.entries(KINDS).find(([k, v]) => k === kind || v.kind === kind)?.[1];
  const kinds = Object.entries(KINDS)
    .map(([k, v]) => `${k} ${v.args.map((a) => `<${a}>`).join(" ")}`)
    .join(" | ");
  if (!spec) throw new UsageError(`${verb} needs a kind: ${kinds}`);
  if (rest.length !== spec.args.length)
    throw new UsageError(`${verb} ${kind} needs ${spec.args.map((a) => `<${a}>`).join(" ")}`);
  if (spec.kind === "account-assignment") {
    const [principal, permissionSet, account] = rest as [string, string, string];
    if (!/^\d{12}$/.test(account))
      throw new UsageError(
        `${verb} ${kind}: <accountId> must be a 12-digit AWS account id, not "${account}"`,
      );
    return { kind: spec.kind, principal, permissionSet, account };
  }
  const [user, group] = rest as [string, string];
  return { kind: spec.kind, user, group };
}

/**
 * The body of a `grant` or `revoke` request. Without `--id` one is generated here, not by the scheduler, so the
 * reply names it and re-running with `--id <it>` is the same request.
 */
export function provisioningBody(
  verb: "grant" | "revoke",
  args: string[],
  flags: ProvisioningFlags,
): Record<string, unknown> {
  if (verb === "grant" && flags.holder !== undefined) throw new UsageError("--holder is an option of revoke");
  if (verb === "revoke" && flags.for !== undefined) throw new UsageError("--for is an option of grant");
  return {
    target: parseTarget(verb, args),
    id: flags.id ?? randomUUID(),
    dryRun: flags["dry-run"] ?? false,
    waitSeconds: waitSecondsOf(flags),
    ...(flags.source ? { sourceId: flags.source } : {}),
    ...(flags.reason ? { reason: flags.reason } : {}),
    ...(flags.for ? { durationSeconds: parseDuration(flags.for) } : {}),
    ...(flags.holder ? { holder: flags.holder } : {}),
  };
}

const holdersText = (h: ProvisioningRequestSummary["holders"]) =>
  h.length === 0
    ? "none"
    : h
        .map((x) => (x.standing ? "standing" : `${x.holder}${x.expiresAt ? ` until ${x.expiresAt}` : ""}`))
        .join(", ");

/** A grant or revoke reply in words; refusals are errors (exit code 1). */
export function provisioningReplyText(
  verb: "grant" | "revoke",
  raw: unknown,
): { value: unknown; text: string; failed: boolean } {
  const reply = (verb === "grant" ? GrantReply : RevokeReply).parse(raw);
  if (!reply.ok) throw new Error(reply.error);
  const pending = reply.state === "accepted" || reply.state === "executing";
  const head = reply.dryRun
    ? `dry run, nothing recorded: ${verb} ${reply.requestId} would be ${reply.state}`
    : reply.existing
      ? `${verb} ${reply.requestId} already recorded: ${reply.state}`
      : `${verb} ${reply.requestId}: ${reply.state}`;
  return {
    value: reply,
    failed: reply.state === "failed",
    text: [
      head,
      ...(reply.detail ? [`  ${reply.state === "failed" ? "AWS" : "detail"}: ${reply.detail}`] : []),
      ...(pending && !reply.dryRun
        ? [`  still ${reply.state}: it goes on; \`grantline grants\` shows when it ends`]
        : []),
      ...(reply.changes.length ? reply.changes.map((c) => `  change: ${c}`) : ["  change: none in AWS"]),
      ...(reply.expiresAt ? [`  expires: ${reply.expiresAt}`] : []),
      `  holders: ${holdersText(reply.holders)}`,
    ].join("\n"),
  };
}

/** `grantline grants`: one line per request, then its holders. */
export function grantsText(raw: unknown): { value: unknown; text: string } {
  const reply = GrantsReply.parse(raw);
  if (!reply.ok) throw new Error(reply.error);
  const lines = reply.requests.map((r) => {
    const t = r.target;
    const what =
      t.kind === "account-assignment"
        ? `${t.principal} ${t.permissionSet} on ${t.account}`
        : `${t.user} in ${t.group}`;
    return `${r.id.padEnd(36)} ${r.verb.padEnd(6)} ${r.state.padEnd(9)} ${(r.expiresAt ?? "-").padEnd(24)} ${r.requester.padEnd(12)} ${t.kind} ${what}\n    holders: ${holdersText(r.holders)}${r.reason ? `; reason: ${r.reason}` : ""}`;
  });
  return {
    value: reply.requests,
    text: lines.length ? lines.join("\n") : "no provisioning requests in force (--all: ended ones too)",
  };
}
