import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dueExpiries, endHolds, isActive, STANDING_HOLDER, type Holder } from "./grant-holders.ts";

/** A seeded generator (sha256 of seed and counter), so a failing case is reproduced by its seed. */
function random(seed: number): () => number {
  let n = 0;
  return () => createHash("sha256").update(`${seed}:${n++}`).digest().readUInt32BE(0) / 2 ** 32;
}

interface Scenario {
  standing: boolean;
  requests: Array<{ id: string; joinAt: number; expiresAt: number | null }>;
  /** Sweeper runs: irregular, with gaps (a scheduler down for a while, then restarted). */
  sweeps: number[];
  /** Explicit revokes of one request's hold. */
  revokes: Array<{ at: number; id: string }>;
}

function scenario(rand: () => number): Scenario {
  const int = (n: number) => Math.floor(rand() * n);
  const requests = Array.from({ length: 1 + int(6) }, (_, i) => {
    const joinAt = int(100);
    return { id: `r${i}`, joinAt, expiresAt: rand() < 0.2 ? null : joinAt + 1 + int(60) };
  });
  const sweeps = [...new Set(Array.from({ length: 10 + int(60) }, () => int(200)))].sort((a, b) => a - b);
  const revokes = rand() < 0.3 ? [{ at: int(200), id: requests[int(requests.length)]!.id }] : [];
  return { standing: rand() < 0.35, requests, sweeps, revokes };
}

/** Plays a scenario on the holder logic; checks the invariants after every step. */
function play(s: Scenario): void {
  const holders: Holder[] = s.standing
    ? [{ holder: STANDING_HOLDER, standing: true, expiresAt: null, endedAt: null }]
    : [];
  let access = s.standing;
  const check = (t: number) => {
    expect(access, `access at ${t}`).toBe(holders.some(isActive));
    const standing = holders.find((h) => h.standing);
    if (standing) {
      expect(standing.endedAt, "a standing holder is never ended by an expiry").toBeNull();
      expect(access, "a standing assignment is never revoked").toBe(true);
    }
  };
  const end = (ending: string[], revoke: boolean, t: number) => {
    for (const id of ending) {
      const h = holders.find((x) => x.holder === id)!;
      expect(h.endedAt, `${id} ends once`).toBeNull();
      h.endedAt = t;
    }
    if (revoke) access = false;
  };
  const times = [
    ...new Set([...s.sweeps, ...s.requests.map((r) => r.joinAt), ...s.revokes.map((r) => r.at)]),
  ].sort((a, b) => a - b);
  for (const t of times) {
    for (const r of s.requests.filter((x) => x.joinAt === t)) {
      holders.push({ holder: r.id, standing: false, expiresAt: r.expiresAt, endedAt: null });
      access = true;
    }
    for (const r of s.revokes.filter((x) => x.at === t)) {
      const e = endHolds(holders, { holder: r.id });
      end(e.ending, e.revoke && e.ending.length > 0, t);
    }
    if (s.sweeps.includes(t)) {
      const e = dueExpiries(holders, t);
      end(e.ending, e.revoke, t);
      // Every expiry due is fired by the sweep that sees it: nothing due remains.
      expect(dueExpiries(holders, t).ending).toEqual([]);
    }
    check(t);
  }
}

describe("grant holders", () => {
  it("access is present exactly while a holder is active; standing is never revoked (500 random cases)", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const s = scenario(random(seed));
      try {
        play(s);
      } catch (err) {
        throw new Error(`seed ${seed}: ${JSON.stringify(s)}\n${(err as Error).message}`);
      }
    }
  });

  it("overlapping requests: the first expiry keeps the access, the last revokes it", () => {
    const h: Holder[] = [
      { holder: "a", standing: false, expiresAt: 10, endedAt: null },
      { holder: "b", standing: false, expiresAt: 20, endedAt: null },
    ];
    expect(dueExpiries(h, 10)).toEqual({ ending: ["a"], revoke: false });
    h[0]!.endedAt = 10;
    expect(dueExpiries(h, 25)).toEqual({ ending: ["b"], revoke: true });
  });

  it("a standing holder outlives every expiry; an explicit revoke of all ends it too", () => {
    const h: Holder[] = [
      { holder: STANDING_HOLDER, standing: true, expiresAt: null, endedAt: null },
      { holder: "a", standing: false, expiresAt: 10, endedAt: null },
    ];
    expect(dueExpiries(h, 100)).toEqual({ ending: ["a"], revoke: false });
    expect(endHolds(h, { all: true })).toEqual({ ending: [STANDING_HOLDER, "a"], revoke: true });
    expect(endHolds([], { all: true })).toEqual({ ending: [], revoke: true });
  });
});
