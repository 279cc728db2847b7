// Members AWS published after the pinned models in /work/shared/aws-models (commit 56c8953) and that aws-sim
// serves because AWS does: the installed SDK clients (client-organizations 3.1175, client-identitystore 3.1138)
// already carry them. Each addition is applied to the loaded model so the conformance tests hold the
// emulator to these members too instead of flagging them as unknown.
import type { Shape } from "./smithy-model.ts";

const enumShape = (values: string[]): Shape => ({
  type: "enum",
  members: Object.fromEntries(
    values.map((v) => [v, { target: "smithy.api#Unit", traits: { "smithy.api#enumValue": v } }]),
  ),
});

interface Addition {
  /** New shapes, by absolute id; an existing shape of that id is left as published. */
  shapes?: Record<string, Shape>;
  /** New members of existing structures: structure id → member name → target shape id. */
  members?: Record<string, Record<string, string>>;
}

export const MODEL_ADDITIONS: Record<string, Addition> = {
  // Account.State (September 2025): ACTIVE, PENDING_ACTIVATION, SUSPENDED, PENDING_CLOSURE, CLOSED.
  "organizations-2016-11-28": {
    shapes: {
      "com.amazonaws.organizations#AccountState": enumShape([
        "PENDING_ACTIVATION",
        "ACTIVE",
        "SUSPENDED",
        "PENDING_CLOSURE",
        "CLOSED",
      ]),
    },
    members: { "com.amazonaws.organizations#Account": { State: "com.amazonaws.organizations#AccountState" } },
  },
  // User.UserStatus / DescribeUserResponse.UserStatus: ENABLED | DISABLED.
  "identitystore-2020-06-15": {
    shapes: { "com.amazonaws.identitystore#UserStatus": enumShape(["ENABLED", "DISABLED"]) },
    members: {
      "com.amazonaws.identitystore#User": { UserStatus: "com.amazonaws.identitystore#UserStatus" },
      "com.amazonaws.identitystore#DescribeUserResponse": {
        UserStatus: "com.amazonaws.identitystore#UserStatus",
      },
    },
  },
};

/** Applies the additions for one model to its (freshly parsed) shapes. */
export function applyModelAdditions(name: string, shapes: Map<string, Shape>): void {
  const add = MODEL_ADDITIONS[name];
  if (add === undefined) return;
  for (const [id, shape] of Object.entries(add.shapes ?? {})) if (!shapes.has(id)) shapes.set(id, shape);
  for (const [id, members] of Object.entries(add.members ?? {})) {
    const s = shapes.get(id);
    if (s?.members === undefined) throw new Error(`${name}: cannot add members to ${id}`);
    for (const [m, target] of Object.entries(members)) s.members[m] ??= { target };
  }
}
