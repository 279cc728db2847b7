import { setTimeout as sleep } from "node:timers/promises";
import { connect, RequestError, TimeoutError, type NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import {
  ANONYMOUS_CTL_USER,
  CancelReply,
  createSubjects,
  RefreshReply,
  StatusReply,
  SyncReply,
  type FeedStatus,
  type CtlVerb,
  type RunSummary,
} from "@grantline/contracts";
import type { CliConfig } from "@grantline/config";
import { createDb, dbOptions, ensureDatabase, migrateToLatest } from "@grantline/db";
import { inboxPrefixOf, natsAuth } from "@grantline/nats";
import { runAccess, type AccessFlags } from "./access-command.ts";
import { progressBar } from "./progress-bar.ts";
import {
  grantsText,
  provisioningBody,
  provisioningReplyText,
  type ProvisioningFlags,
} from "./provisioning-command.ts";
import { UsageError } from "./usage-error.ts";

/**
 * A control request that waits for the scheduler to come up: "no responders" right after a deploy or a
 * restart is not worth failing a command for. Gives up after `waitMs`. An idempotent request (`status`,
 * which changes nothing) is also asked again when one goes unanswered (a scheduler busy on a loaded machine: seen in the
 * compose smoke test, `sync --wait` failing on one poll); any other verb is not, lest it act twice.
 */
async function ask(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  {
    idempotent = false,
    waitMs = 30_000,
    timeoutMs = 10_000,
  }: { idempotent?: boolean; waitMs?: number; timeoutMs?: number } = {},
): Promise<unknown> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return (await nc.request(subject, JSON.stringify(body), { timeout: timeoutMs })).json();
    } catch (err) {
      const noResponders = err instanceof RequestError && err.isNoResponders();
      const unanswered = idempotent && err instanceof TimeoutError;
      if (!(noResponders || unanswered) || Date.now() > deadline) {
        throw new Error(
          noResponders ? `no scheduler answers on ${subject}: is it running?` : (err as Error).message,
        );
      }
      await sleep(500);
    }
  }
}

export const USAGE = `Usage: grantline <command> [options]

Commands:
  migrate                      create the database if needed and apply every migration
  sync <source> [--wait]       start a full run (with --wait: live progress until it ends)
  refresh <type>:<id> [--source S] [--wait]
                               re-read one object now (sso_user, sso_group, permission_set, account,
                               organizational_unit, org_policy, iam_account, iam_role, iam_user, iam_group,
                               iam_policy): a targeted refresh run; --wait prints its stats when it ends
  status [--source S]          recent runs and their progress, then the change feeds (docs/freshness.md)
  status feeds [--source S]    the change feeds only: cursor age, events seen/translated/ignored/unknown, lags
  cancel <runId>               cancel a running run: its pending tasks are dropped, nothing more is fetched
  events tail [--source S] [--type T] [--from-start]
                               print change events as they are published (T e.g. grant.created)
  grant <kind> <args…> [--for 2h] [--reason R] [--id ID] [--dry-run] [--source S]
                               request access, validated against the synced data (docs/provisioning-requests.md);
                               kinds: assignment <principal> <permissionSet> <accountId> | membership <user> <group>
                               | iam-membership <user> <group>; the same --id twice is one request. Replies once
                               AWS made the change and a re-read confirmed it (exit 1 if AWS refused it);
                               --wait-for 10m (default 5m, at most 15m) or --no-wait (reply when recorded)
  revoke <kind> <args…> [--holder ID] [--reason R] [--id ID] [--dry-run] [--source S] [--wait-for D|--no-wait]
                               end access (every holder, or only request ID's hold)
  grants [--source S] [--all]  provisioning requests in force, their holders and expiries (--all: ended ones too)
  access who <accountId>       who can reach the account: principal, permission set, via which group or role
  access of <principal>        what a user, group or role (id, ARN or name) can reach
  access can-assume <roleArn>  who can assume the role, by which path, under which conditions
  access explain <principal> <accountId|roleArn>
                               every path from the principal to the account (or role), step by step
    access options: --include-inactive (also disabled users, suspended accounts; hidden and counted otherwise)
                    --timeout <ms> (statement timeout of each query, default 10000; exit code 3 when hit)

Options: --json (machine-readable output), -h/--help
Environment: NATS_URL, DATABASE_URL, GL_SUBJECT_PREFIX, NATS_USER with NATS_PASSWORD[_FILE] (or NATS_CREDS_FILE,
  NATS_NKEY_SEED_FILE), NATS_TLS_* (see docs/configuration.md)
`;

type Flags = AccessFlags &
  ProvisioningFlags & {
    json?: boolean;
    wait?: boolean;
    source?: string;
    type?: string;
    "from-start"?: boolean;
    limit?: string;
  };

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

function runLine(r: RunSummary): string {
  const cancelled = r.stats.tasksCancelled ?? 0;
  const total = r.tasksDone + r.tasksPending + r.tasksFailed + cancelled;
  return `${r.sourceId.padEnd(16)} ${(r.kind ?? "full").padEnd(8)} ${r.status.padEnd(10)} ${r.startedAt}  tasks ${r.tasksDone}/${total}${r.tasksFailed ? ` (${r.tasksFailed} failed)` : ""}${cancelled ? ` (${cancelled} cancelled)` : ""}  ${r.runId}${r.warnings.length ? `\n    warnings: ${r.warnings.slice(0, 5).join("; ")}${r.warnings.length > 5 ? ` (+${r.warnings.length - 5})` : ""}` : ""}`;
}

/** Live progress of a run until it ends, then its summary; exit code 0 when it succeeded. */
async function waitForRun(
  nc: NatsConnection,
  ctl: (verb: CtlVerb) => string,
  runId: string,
  json: boolean,
): Promise<number> {
  const bar = progressBar(process.stderr, !json && process.stderr.isTTY === true);
  for (;;) {
    const st = StatusReply.parse(await ask(nc, ctl("status"), { runId }, { idempotent: true }));
    if (!st.ok) throw new Error(st.error);
    const run = st.runs[0];
    if (run) {
      bar.update(
        run.tasksDone + run.tasksFailed,
        run.tasksDone + run.tasksPending + run.tasksFailed,
        `${run.sourceId} ${run.status}`,
      );
      if (run.status !== "running") {
        bar.done();
        print(json, run, () => runLine(run));
        return run.status === "succeeded" ? 0 : 1;
      }
    }
    await sleep(500);
  }
}

const seconds = (ms: number | null): string => (ms === null ? "-" : `${(ms / 1000).toFixed(1)}s`);

/** The feeds as a table: cursor age, events by outcome, lag to refresh queued and to refresh done. */
function feedLines(feeds: FeedStatus[]): string {
  const head = `${"feed".padEnd(62)} ${"age".padStart(8)} ${"seen".padStart(6)} ${"transl".padStart(6)} ${"ignored".padStart(7)} ${"unknown".padStart(7)} ${"queued".padStart(8)} ${"refreshed".padStart(9)}`;
  return [
    head,
    ...feeds.map(
      (f) =>
        `${`${f.sourceId} ${f.feedId}${f.windowOpen ? " *" : ""}`.padEnd(62)} ${seconds(f.cursorAgeMs).padStart(8)} ${String(f.eventsSeen).padStart(6)} ${String(f.eventsTranslated).padStart(6)} ${String(f.eventsIgnored).padStart(7)} ${String(f.eventsUnknown).padStart(7)} ${seconds(f.queueLagMs).padStart(8)} ${seconds(f.refreshLagMs).padStart(9)}`,
    ),
    "(* window open; age: now − committed cursor; queued/refreshed: event time → refresh queued / done)",
  ].join("\n");
}

export async function runCommand(args: string[], flags: Flags, config: CliConfig): Promise<number> {
  const [cmd, sub] = args;
  const json = flags.json ?? false;
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);

  if (cmd === "migrate") {
    const created = await ensureDatabase(dbOptions(config));
    const db = createDb({ ...dbOptions(config), poolSize: 1 });
    try {
      const r = await migrateToLatest(db);
      if (r.error) throw r.error instanceof Error ? r.error : new Error(String(r.error));
      const applied = (r.results ?? []).filter((x) => x.status === "Success").map((x) => x.migrationName);
      print(
        json,
        { createdDatabase: created, applied },
        () =>
          `${created ? "created database; " : ""}${applied.length ? `applied ${applied.join(", ")}` : "schema is up to date"}`,
      );
      return 0;
    } finally {
      await db.destroy();
    }
  }

  if (
    cmd === "sync" ||
    cmd === "refresh" ||
    cmd === "status" ||
    cmd === "cancel" ||
    cmd === "grant" ||
    cmd === "revoke" ||
    cmd === "grants" ||
    (cmd === "events" && sub === "tail")
  ) {
    // The user names the control subjects: the server lets each operator user publish only on its own.
    const auth = natsAuth(config);
    const user = auth.user ?? (auth.authenticated ? "operator" : ANONYMOUS_CTL_USER);
    const ctl = (verb: CtlVerb) => subjects.ctl(verb, user);
    const nc = await connect({
      servers: config.NATS_URL.split(","),
      maxReconnectAttempts: -1,
      ...auth.options,
      ...(auth.authenticated ? { inboxPrefix: inboxPrefixOf(user) } : {}),
    });
    try {
      if (cmd === "sync") {
        if (!sub) throw new UsageError("sync needs a source id");
        const reply = SyncReply.parse(await ask(nc, ctl("sync"), { sourceId: sub }));
        if (!reply.ok) throw new Error(reply.error);
        if (!flags.wait) {
          print(
            json,
            reply,
            () => `${reply.alreadyRunning ? "already running" : "started"}: run ${reply.runId}`,
          );
          return 0;
        }
        return await waitForRun(nc, ctl, reply.runId, json);
      }
      if (cmd === "refresh") {
        if (!sub) throw new UsageError("refresh needs a target <resourceType>:<id>, e.g. sso_user:<userId>");
        const reply = RefreshReply.parse(
          await ask(nc, ctl("refresh"), {
            target: sub,
            ...(flags.source ? { sourceId: flags.source } : {}),
          }),
        );
        if (!reply.ok) throw new Error(reply.error);
        if (!flags.wait || reply.runId === null) {
          print(json, reply, () =>
            reply.runId === null
              ? `queued ${reply.queued} refresh(es); run ${reply.waitingFor ?? "?"} is active: they start when it ends`
              : `started: run ${reply.runId} (${reply.queued} refresh(es) queued)`,
          );
          return 0;
        }
        return await waitForRun(nc, ctl, reply.runId, json);
      }
      if (cmd === "cancel") {
        if (!sub) throw new UsageError("cancel needs a run id (see grantline status)");
        const reply = CancelReply.parse(await ask(nc, ctl("cancel"), { runId: sub }));
        if (!reply.ok) throw new Error(reply.error);
        print(json, reply, () =>
          reply.alreadyCancelled
            ? `already cancelled: run ${reply.runId}`
            : `cancelled: run ${reply.runId} (${reply.sourceId}), ${reply.tasksCancelled} pending task(s) dropped`,
        );
        return 0;
      }
      if (cmd === "grant" || cmd === "revoke") {
        const body = provisioningBody(cmd, args.slice(1), flags);
        // The reply waits for the change to be made and confirmed; the request carries its id, so asking
        // again after an unanswered wait is the same request (idempotent), not a second one.
        const wait = Number(body.waitSeconds) * 1000;
        const reply = await ask(nc, ctl(cmd), body, { idempotent: true, timeoutMs: wait + 15_000 });
        const r = provisioningReplyText(cmd, reply);
        print(json, r.value, () => r.text);
        return r.failed ? 1 : 0;
      }
      if (cmd === "grants") {
        const body = { all: flags.all ?? false, ...(flags.source ? { sourceId: flags.source } : {}) };
        const r = grantsText(await ask(nc, ctl("grants"), body));
        print(json, r.value, () => r.text);
        return 0;
      }
      if (cmd === "status") {
        const st = StatusReply.parse(
          await ask(nc, ctl("status"), flags.source ? { sourceId: flags.source } : {}, { idempotent: true }),
        );
        if (!st.ok) throw new Error(st.error);
        const feeds = st.feeds ?? [];
        if (sub === "feeds") {
          print(json, feeds, () =>
            feeds.length ? feedLines(feeds) : "no feeds (feeds.enabled is off, or no sync yet)",
          );
          return 0;
        }
        print(json, st.runs, () =>
          [
            st.runs.length ? st.runs.map(runLine).join("\n") : "no runs yet",
            ...(feeds.length ? ["", feedLines(feeds)] : []),
          ].join("\n"),
        );
        return 0;
      }
      // events tail: an ordered consumer, so nothing is left behind on the server when we stop.
      const filter = `${subjects.prefix}.events.${flags.source ?? "*"}.${flags.type ?? ">"}`;
      const js = jetstream(nc);
      const consumer = await js.consumers.get(subjects.streams.events, {
        filter_subjects: filter,
        deliver_policy: flags["from-start"] ? DeliverPolicy.All : DeliverPolicy.New,
      });
      const limit = flags.limit ? Number(flags.limit) : Infinity;
      let n = 0;
      const messages = await consumer.consume();
      process.once("SIGINT", () => void messages.close());
      for await (const m of messages) {
        const e = m.json<{ type: string; time: string; subject?: string; data: Record<string, unknown> }>();
        print(
          json,
          e,
          () => `${e.time} ${e.type.replace("dev.grantline.", "").padEnd(17)} ${e.subject ?? ""}`,
        );
        if (++n >= limit) break;
      }
      return 0;
    } finally {
      await nc.close();
    }
  }

  if (cmd === "access")
    return runAccess(args.slice(1), flags, config, (value, text) => print(json, value, text));
  throw new UsageError(`unknown command: ${args.join(" ")}`);
}
