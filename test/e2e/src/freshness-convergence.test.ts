import { describe, expect, it } from "vitest";
import {
  diffStates,
  foldEvents,
  suspects,
  type KeyedState,
  type SequencedEvent,
} from "./freshness-convergence.ts";

let n = 0;
function ev(type: string, subject: string, sequence: string | undefined, data: Record<string, unknown> = {}) {
  const e: SequencedEvent = {
    id: `e${++n}`,
    source: "grantline/live",
    type: `dev.grantline.${type}`,
    subject,
    grantlinerunid: "r",
    data,
    ...(sequence === undefined ? {} : { sequence }),
  };
  return e;
}
const grant = { entitlementId: "e", principalType: "sso_user", principalId: "u", attrs: {} };
const user = (name: string) => ({ name, parentType: null, parentId: null, attrs: { n: name } });

describe("foldEvents", () => {
  it("keeps per subject only the event with the greatest sequence, whatever the arrival order", () => {
    const start: KeyedState = new Map([["resource/sso_user/a", user("A")]]);
    const folded = foldEvents(start, [
      ev("resource.updated", "resource/sso_user/a", "00000000000000000009", user("A3")),
      ev("resource.updated", "resource/sso_user/a", "00000000000000000005", user("A2")),
      ev("grant.revoked", "grant/g", "00000000000000000012", grant),
      ev("grant.created", "grant/g", "00000000000000000010", grant),
      ev("resource.created", "resource/sso_user/b", "00000000000000000011", user("B")),
      ev("run.completed", "run/r", "00000000000000000013"),
    ]);
    expect(
      diffStates(
        new Map([
          ["resource/sso_user/a", user("A3")],
          ["resource/sso_user/b", user("B")],
        ]),
        folded,
      ),
    ).toEqual([]);
  });

  it("rejects a change event without a sequence", () => {
    expect(() => foldEvents(new Map(), [ev("grant.created", "grant/g", undefined, grant)])).toThrow(
      /no sequence/,
    );
  });
});

describe("diffStates and suspects", () => {
  it("names the differing keys and the mutations whose arguments appear in them", () => {
    const d = diffStates(new Map([["grant/x|u-123456", grant]]), new Map());
    expect(d).toEqual([{ key: "grant/x|u-123456", expected: grant, actual: undefined }]);
    expect(
      suspects("grant/x|u-123456", [
        { kind: "addGroupMembership", args: { userId: "u-123456" } },
        { kind: "createIamUser", args: { userName: "other-user" } },
      ]),
    ).toEqual(["#0 addGroupMembership"]);
  });
});
