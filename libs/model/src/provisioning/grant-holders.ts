/**
 * Who holds a grant, and when ending a hold must take the access away. A grant is held by grant requests (each
 * until its expiry, or forever) and by `standing`: an assignment that existed before any request, which no
 * expiry ends. The access must be present exactly while at least one holder is active, so a hold ending revokes
 * the grant only when it was the last.
 */
export interface Holder {
  holder: string;
  standing: boolean;
  /** Epoch ms; null: held until revoked. A standing holder has none. */
  expiresAt: number | null;
  /** Epoch ms when the hold ended; null: active. */
  endedAt: number | null;
}

/** The holder name of an assignment that existed before any request. */
export const STANDING_HOLDER = "standing";

export const isActive = (h: Holder): boolean => h.endedAt === null;

/** Whether a hold is due to end by expiry at `now` (a standing hold never is). */
export const isDue = (h: Holder, now: number): boolean =>
  isActive(h) && !h.standing && h.expiresAt !== null && h.expiresAt <= now;

export interface HoldEnding {
  /** The holders whose hold ends. */
  ending: string[];
  /** True when no holder remains after them: the grant must be revoked in AWS. */
  revoke: boolean;
}

/**
 * The expiries due at `now`: every due hold ends (of those in `only`, when given: the ones a sweeper has locked);
 * the grant is revoked when no active holder remains. A standing holder is never due, so while one exists an
 * expiry never revokes.
 */
export function dueExpiries(holders: readonly Holder[], now: number, only?: ReadonlySet<string>): HoldEnding {
  const ending = holders.filter((h) => isDue(h, now) && (only?.has(h.holder) ?? true)).map((h) => h.holder);
  return { ending, revoke: ending.length > 0 && remainingAfter(holders, ending) === 0 };
}

/**
 * An explicit revoke: the named holds end (`all`: every active hold, the standing one included — an operator's
 * revoke is not an expiry). Revokes the grant when no holder remains, or when there was none (an assignment
 * grantline never recorded a holder for).
 */
export function endHolds(holders: readonly Holder[], which: { all: true } | { holder: string }): HoldEnding {
  const active = holders.filter(isActive);
  const ending =
    "all" in which
      ? active.map((h) => h.holder)
      : active.filter((h) => h.holder === which.holder).map((h) => h.holder);
  return { ending, revoke: remainingAfter(holders, ending) === 0 };
}

function remainingAfter(holders: readonly Holder[], ending: readonly string[]): number {
  const gone = new Set(ending);
  return holders.filter((h) => isActive(h) && !gone.has(h.holder)).length;
}
