import type { Actor } from "../actor.ts";
import type { Store } from "../store.ts";

export interface Ctx {
  store: Store;
  actor: Actor;
  region: string;
  /** Force STS credential lifetime (seconds), for expiry tests. */
  sessionDurationOverrideSeconds?: number;
}
