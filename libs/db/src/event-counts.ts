import type { EventType } from "@grantline/contracts";

/** How many change events of each kind a run (or one of its steps) put in the outbox. */
export interface EventCounts {
  grantsCreated: number;
  grantsRevoked: number;
  resourcesCreated: number;
  resourcesUpdated: number;
  resourcesDeleted: number;
}

const COUNTED: Partial<Record<EventType, keyof EventCounts>> = {
  "grant.created": "grantsCreated",
  "grant.revoked": "grantsRevoked",
  "resource.created": "resourcesCreated",
  "resource.updated": "resourcesUpdated",
  "resource.deleted": "resourcesDeleted",
};

export function noEvents(): EventCounts {
  return {
    grantsCreated: 0,
    grantsRevoked: 0,
    resourcesCreated: 0,
    resourcesUpdated: 0,
    resourcesDeleted: 0,
  };
}

export function addEvents(...counts: EventCounts[]): EventCounts {
  const sum = noEvents();
  for (const c of counts) for (const k of Object.keys(sum) as Array<keyof EventCounts>) sum[k] += c[k];
  return sum;
}

export function totalEvents(c: EventCounts): number {
  return Object.values(c).reduce((n, v) => n + v, 0);
}

/** Counts events by type; run events and page requests are not changes and are not counted. */
export function countEvents(types: Iterable<EventType | undefined>): EventCounts {
  const c = noEvents();
  for (const t of types) {
    const k = t === undefined ? undefined : COUNTED[t];
    if (k) c[k]++;
  }
  return c;
}
