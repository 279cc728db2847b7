import type { Actor } from "../actor.ts";
import type { Store } from "../store.ts";

export interface Ctx {
  store: Store;
  actor: Actor;
  region: string;
  /** The Region the request was signed for (SigV4 credential scope): the endpoint's Region, as AWS sees it. */
  requestRegion: string;
  /** Force STS credential lifetime (seconds), for expiry tests. */
  sessionDurationOverrideSeconds?: number;
}
