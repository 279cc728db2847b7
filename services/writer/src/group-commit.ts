import type { BatchLane, ResultBatch } from "@grantline/contracts";

/** How batches reach Postgres: alone, or several in one transaction (libs/db `applyBatch`, `applyBatches`). */
export interface GroupApply<R> {
  one(batch: ResultBatch): Promise<R>;
  /** All commit or none does; throws when any batch does. */
  many(batches: ResultBatch[]): Promise<R[]>;
  /** Batches with the same key may share a transaction; `null`: this one goes alone. */
  key(batch: ResultBatch): string | null;
}

export interface GroupCommitOptions {
  /** Batches per transaction at most; 1 turns grouping off. */
  maxBatches: number;
  /** How long the first batch of a group waits for others to join it, ms; 0: only those already waiting. */
  waitMs: number;
  /** Transactions at once. */
  concurrency: number;
  /** After each group: its size, and whether it committed whole or was split to be applied one by one. */
  observe?(batches: number, outcome: "committed" | "split"): void;
}

interface Waiting<R> {
  batch: ResultBatch;
  key: string | null;
  /** It (or its page) queues tasks — a chain's next page, an object's details: more work waits for its commit. */
  unblocks: boolean;
  since: number;
  resolve(r: R): void;
  reject(err: unknown): void;
}

/**
 * The writer's group commit: batches handed in while a transaction is busy — or within `waitMs` of the first —
 * are applied together, one transaction for up to `maxBatches` batches of one run. Each caller's promise settles
 * after the commit that holds its batch, so the consume loop acks only committed work, as before. A group that
 * fails rolls back whole and its batches are applied one by one, each in its own transaction, so a poison batch
 * fails alone, with the error it would have had alone, and never takes its neighbours with it.
 *
 * At the rate-limit floor batches arrive a few tens of milliseconds apart, so without the wait most groups would
 * be one batch. A batch that queues tasks does not wait, and starts its group with whatever already waits: its
 * commit is what the next page of a chain, or the details of what it listed, wait for — a large organization's
 * 200-page ListUsers chain paid the wait on every page, 20 s at the end of the run when nothing else was left.
 * Leaves (a page whose tasks are all queued already) wait to be joined; an event pays the wait on top of
 * CloudTrail's own seconds; a busy writer fills its groups without waiting.
 */
export function createGroupCommit<R>(apply: GroupApply<R>, opts: GroupCommitOptions) {
  const queue: Array<Waiting<R>> = [];
  let running = 0;
  let timer: NodeJS.Timeout | null = null;

  /** Starts the oldest batch's group if it is due (full, waited long enough, or one that goes alone). */
  function schedule(): void {
    if (queue.length === 0 || running >= opts.concurrency) return;
    const oldest = queue[0]!;
    const due = oldest.since + opts.waitMs - Date.now();
    if (due <= 0 || oldest.key === null || queue.some((w) => w.unblocks) || fullGroupWaiting(oldest.key)) {
      startGroup();
      return;
    }
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      schedule();
    }, due);
  }

  function fullGroupWaiting(key: string): boolean {
    let n = 0;
    for (const w of queue) if (w.key === key && ++n >= opts.maxBatches) return true;
    return false;
  }

  /**
   * Takes a group: seeded by the oldest batch that unblocks work if one waits, else by the oldest; then the other
   * batches of its run that unblock work, then the rest of its run, up to `maxBatches`. Applied in arrival order,
   * so the parts of one page keep theirs. Behind a queue of leaves larger than a group, a chain's page would
   * otherwise wait for the groups ahead of it.
   */
  function takeGroup(): Array<Waiting<R>> {
    const seed = queue.find((w) => w.unblocks) ?? queue[0]!;
    const chosen = new Set([seed]);
    if (seed.key !== null)
      for (const pass of [true, false])
        for (const w of queue) {
          if (chosen.size >= opts.maxBatches) break;
          if (w.key === seed.key && w.unblocks === pass) chosen.add(w);
        }
    const group = queue.filter((w) => chosen.has(w));
    for (let i = queue.length - 1; i >= 0; i--) if (chosen.has(queue[i]!)) queue.splice(i, 1);
    return group;
  }

  function startGroup(): void {
    if (queue.length === 0 || running >= opts.concurrency) return;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    const group = takeGroup();
    running++;
    void run(group).finally(() => {
      running--;
      schedule();
    });
    schedule();
  }

  async function run(group: Array<Waiting<R>>): Promise<void> {
    if (group.length > 1) {
      const results = await apply.many(group.map((w) => w.batch)).catch(() => null);
      opts.observe?.(group.length, results ? "committed" : "split");
      if (results) {
        group.forEach((w, i) => w.resolve(results[i]!));
        return;
      }
    } else opts.observe?.(1, "committed");
    // One by one: what a batch alone succeeds or fails with is what its caller learns.
    for (const w of group) await apply.one(w.batch).then(w.resolve, w.reject);
  }

  return {
    /**
     * Resolves after the commit that holds `batch`. It unblocks work when it came by the chain lane — every part
     * of a page that queues tasks, though only the last part carries them: a group seeded with the last part
     * alone could not apply it before the earlier ones and would fall back to one by one — or carries tasks.
     */
    apply(batch: ResultBatch, lane: BatchLane = "bulk"): Promise<R> {
      if (opts.maxBatches <= 1) return apply.one(batch);
      return new Promise<R>((resolve, reject) => {
        queue.push({
          batch,
          key: apply.key(batch),
          unblocks: lane === "chain" || batch.children.length > 0,
          since: Date.now(),
          resolve,
          reject,
        });
        schedule();
      });
    },
    /** Batches waiting for a transaction (a gauge for /metrics, and for tests). */
    waiting: () => queue.length,
  };
}
