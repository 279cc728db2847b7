// `npm run bench -- --provisioning`: many callers ask for account assignments at once against aws-sim, whose
// assignment operations stay IN_PROGRESS a random while and whose outstanding cap is AWS's (15). Measures request
// → reply and request → `provisioning.confirmed` event, and checks what the issue demands: aws-sim never sees
// more outstanding operations than grantline's cap, every request ends confirmed, no ConflictException reaches
// a caller.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { InstanceProvisioning, OrgDocument, ProvisioningCounters } from "@grantline/aws-sim";
import { GrantReply } from "@grantline/contracts";
import { NATS_URL, log } from "./bench-env.ts";
import type { BenchSettings } from "./bench-settings.ts";
import { sec } from "./format.ts";
import { startPipeline } from "./run-pipeline.ts";
import { startSim, type Counters } from "./sim-process.ts";

export interface ProvisioningOptions {
  requests: number;
  callers: number;
  /** aws-sim's IN_PROGRESS time (its `--assignment-delay`). */
  assignmentDelay: string;
  /** grantline's outstanding-operation cap (PROVISIONING_OUTSTANDING_CAP). */
  cap: number;
}

export interface ProvisioningResult {
  options: ProvisioningOptions;
  replicas: number;
  firstSyncMs: number;
  wallMs: number;
  states: Record<string, number>;
  /** Replies that mention a conflict (none may). */
  conflictReplies: number;
  replyMs: number[];
  confirmedMs: number[];
  sim: InstanceProvisioning;
  awsCalls: Record<string, number>;
}

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** `n` (principal, permission set, account) triples aws-sim has no assignment for. */
function freeAssignments(org: OrgDocument, n: number) {
  const ic = org.identityCenter;
  if (!ic) throw new Error("the organization has no Identity Center");
  const taken = new Set(ic.assignments.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalId}`));
  const out: Array<{ principal: string; permissionSet: string; account: string }> = [];
  for (const a of org.accounts.filter((x) => x.status === "ACTIVE"))
    for (const ps of ic.permissionSets)
      for (const u of ic.users) {
        if (out.length === n) return out;
        if (!taken.has(`${a.id}|${ps.arn}|${u.userId}`))
          out.push({ principal: u.userId, permissionSet: ps.arn, account: a.id });
      }
  if (out.length < n) throw new Error(`only ${out.length} free assignments for ${n} requests`);
  return out;
}

export async function runProvisioning(
  settings: BenchSettings,
  o: ProvisioningOptions,
): Promise<ProvisioningResult> {
  const sim = await startSim({ ...settings, assignmentDelay: o.assignmentDelay });
  const org = await sim.get<OrgDocument>("/_sim/org");
  const env = { ...settings.env, PROVISIONING_OUTSTANDING_CAP: String(o.cap) };
  const p = await startPipeline(sim, { ...settings, env });
  const callers: NatsConnection[] = [];
  try {
    const runId = await p.requestSync();
    const t0 = Date.now();
    const status = await p.waitForRun(runId);
    if (status !== "succeeded") throw new Error(`the first full sync ended ${status}`);
    const firstSyncMs = Date.now() - t0;
    log(`first full sync in ${sec(firstSyncMs)}; ${o.requests} grant requests from ${o.callers} callers`);
    const targets = freeAssignments(org, o.requests);
    await sim.post("/_sim/provisioning/reset", {});
    await sim.post("/_sim/counters/reset", {});
    // Confirmed events as a subscriber sees them: a core subscription on the events subject.
    const confirmedAt = new Map<string, number>();
    const sub = p.nc.subscribe(p.subjects.event(p.sourceId, "provisioning.confirmed"), {
      callback: (_e, m) => {
        const id = m.json<{ data: { requestId: string } }>().data.requestId;
        if (!confirmedAt.has(id)) confirmedAt.set(id, Date.now());
      },
    });
    for (let i = 0; i < o.callers; i++) callers.push(await connect({ servers: NATS_URL }));
    const sentAt = new Map<string, number>();
    const start = Date.now();
    const replies = await Promise.all(
      targets.map(async (t, i) => {
        const id = `bench-${i}`;
        const nc = callers[i % callers.length]!;
        const body = { id, target: { kind: "account-assignment", ...t }, waitSeconds: 900 };
        sentAt.set(id, Date.now());
        const m = await nc.request(p.subjects.ctl("grant"), JSON.stringify(body), { timeout: 960_000 });
        return { id, at: Date.now(), text: m.string(), reply: GrantReply.parse(m.json()) };
      }),
    );
    const wallMs = Date.now() - start;
    await p.nc.flush();
    sub.unsubscribe();
    const states: Record<string, number> = {};
    for (const r of replies) {
      const k = r.reply.ok ? r.reply.state : `refused: ${r.reply.error}`;
      states[k] = (states[k] ?? 0) + 1;
    }
    const simCounters = await sim.get<ProvisioningCounters>("/_sim/provisioning");
    const counters = await sim.get<Counters>("/_sim/counters");
    return {
      options: o,
      replicas: settings.replicas,
      firstSyncMs,
      wallMs,
      states,
      conflictReplies: replies.filter((r) => /conflict/i.test(r.text)).length,
      replyMs: replies.map((r) => r.at - sentAt.get(r.id)!),
      confirmedMs: replies
        .filter((r) => confirmedAt.has(r.id))
        .map((r) => confirmedAt.get(r.id)! - sentAt.get(r.id)!),
      sim: Object.values(simCounters)[0]!,
      awsCalls: Object.fromEntries(
        Object.entries(counters.operations)
          .filter(([k]) =>
            /AccountAssignment(Creation|Deletion)?Status|(Create|Delete)AccountAssignment/.test(k),
          )
          .map(([k, v]) => [k, v.calls]),
      ),
    };
  } finally {
    await Promise.all(callers.map((c) => c.close()));
    await p.stop();
    await sim.stop();
  }
}

/** The report appended to docs/benchmarks.md. */
export function provisioningReport(r: ProvisioningResult): string[] {
  const o = r.options;
  const ok = r.states.active === o.requests;
  const capKept = r.sim.peakOutstanding <= o.cap;
  const ms = (xs: number[]) =>
    `p50 ${sec(pct(xs, 0.5))}, p95 ${sec(pct(xs, 0.95))}, max ${sec(Math.max(...xs))}`;
  return [
    `## ${new Date().toISOString()} — provisioning, ${o.requests} grant requests from ${o.callers} callers, ${r.replicas} fetcher replicas`,
    "",
    `aws-sim assignment operations IN_PROGRESS for ${o.assignmentDelay} ms; its outstanding cap 15 (AWS's); grantline's cap ${o.cap}. First full sync ${sec(r.firstSyncMs)}.`,
    "",
    "| figure | value | target |",
    "| --- | --- | --- |",
    `| requests ending confirmed (\`active\`) | ${r.states.active ?? 0} of ${o.requests}${ok ? "" : ` (${JSON.stringify(r.states)})`} | all ${ok ? "✅" : "❌"} |`,
    `| peak outstanding operations aws-sim saw | ${r.sim.peakOutstanding} | ≤ ${o.cap} ${capKept ? "✅" : "❌"} |`,
    `| operations refused over aws-sim's cap | ${r.sim.refusedOverCap} | 0 ${r.sim.refusedOverCap === 0 ? "✅" : "❌"} |`,
    `| ConflictException answered by aws-sim (retried inside grantline) | ${r.sim.conflicts} | |`,
    `| replies mentioning a conflict | ${r.conflictReplies} | 0 ${r.conflictReplies === 0 ? "✅" : "❌"} |`,
    `| request → reply | ${ms(r.replyMs)} | |`,
    `| request → \`provisioning.confirmed\` event | ${ms(r.confirmedMs)} (${r.confirmedMs.length} seen) | |`,
    `| all ${o.requests} done | ${sec(r.wallMs)} | |`,
    `| AWS write/status calls | ${Object.entries(r.awsCalls)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} | |`,
    "",
  ];
}
