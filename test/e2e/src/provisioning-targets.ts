import type { AwsSim } from "@grantline/aws-sim";
import type { GrantReply, ProvisioningTarget } from "@grantline/contracts";
import type { Pipeline } from "./pipeline-harness.ts";

/** An account assignment aws-sim does not have yet (the n-th free one), and a check of whether it has it now. */
export function freeAssignment(
  sim: AwsSim,
  n = 0,
): { target: Extract<ProvisioningTarget, { kind: "account-assignment" }>; has: () => boolean } {
  const org = sim.exportOrg();
  const ic = org.identityCenter!;
  const taken = new Set(ic.assignments.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalId}`));
  const accounts = org.accounts.filter((a) => a.status === "ACTIVE" && a.id !== sim.managementAccountId);
  let i = 0;
  for (const account of accounts)
    for (const u of ic.users)
      for (const ps of ic.permissionSets) {
        if (taken.has(`${account.id}|${ps.arn}|${u.userId}`) || i++ < n) continue;
        return {
          target: {
            kind: "account-assignment",
            principal: u.userId,
            permissionSet: ps.arn,
            account: account.id,
          },
          has: () =>
            sim
              .exportOrg()
              .identityCenter!.assignments.some(
                (a) =>
                  a.accountId === account.id && a.permissionSetArn === ps.arn && a.principalId === u.userId,
              ),
        };
      }
  throw new Error(`no free assignment #${n}`);
}

/** A grant or revoke through ctl, waiting up to `waitSeconds` for its final state; refusals throw. */
export async function provision(
  p: Pipeline,
  verb: "grant" | "revoke",
  body: Record<string, unknown>,
): Promise<Extract<GrantReply, { ok: true }>> {
  const wait = typeof body.waitSeconds === "number" ? body.waitSeconds : 120;
  const r = await p.request<GrantReply>(
    verb,
    { waitSeconds: wait, ...body },
    { timeoutMs: wait * 1000 + 30_000 },
  );
  if (!r.ok) throw new Error(`${verb} refused: ${r.error}\n${p.logs("scheduler").slice(-3000)}`);
  return r;
}

/** A request's row (state, attempts, AWS answer time). */
export async function requestRow(p: Pipeline, id: string) {
  return p.db.selectFrom("provisioning_requests").selectAll().where("id", "=", id).executeTakeFirst();
}
