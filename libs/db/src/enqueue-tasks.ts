import type { Transaction } from "kysely";
import type { PageRequest, Subjects } from "@grantline/contracts";
import type { Database } from "./database.ts";
import { insertOutbox, requestRow } from "./outbox-rows.ts";

const CHUNK = 1000;

/**
 * Inserts tasks (idempotently: the id is deterministic) and an outbox row for each one that is new. Returns
 * how many were new.
 */
export async function enqueueTasks(
  tx: Transaction<Database>,
  subjects: Subjects,
  requests: PageRequest[],
  parentId: string | null,
): Promise<number> {
  let created = 0;
  for (let i = 0; i < requests.length; i += CHUNK) {
    const chunk = requests.slice(i, i + CHUNK);
    const inserted = await tx
      .insertInto("tasks")
      .values(
        chunk.map((r) => ({
          id: r.taskId,
          run_id: r.runId,
          source_id: r.sourceId,
          service: r.service,
          operation: r.operation,
          params: JSON.stringify(r.params),
          page_token: r.pageToken,
          account_id: r.accountId,
          scope: r.scope,
          page_index: r.pageIndex,
          parent_id: parentId,
        })),
      )
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .execute();
    const fresh = new Set(inserted.map((r) => r.id));
    await insertOutbox(
      tx,
      chunk.filter((r) => fresh.has(r.taskId)).map((r) => requestRow(subjects, r)),
    );
    created += fresh.size;
  }
  return created;
}
