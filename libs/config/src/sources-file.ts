import { readFileSync, statSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { SourceId } from "@grantline/contracts";
import { ConfigError } from "./config-error.ts";

// AWS's own rules: role ARNs name a partition, a 12-digit account and a role path/name; external ids are
// 2–1224 characters of [\w+=,.@:/-]. Checking at start beats an AccessDenied in the middle of a run.
const RoleArn = z
  .string()
  .regex(
    /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
    "must be an IAM role ARN like arn:aws:iam::123456789012:role/Name",
  );
const ExternalId = z
  .string()
  .min(2, "must be 2–1224 characters")
  .max(1224, "must be 2–1224 characters")
  .regex(/^[\w+=,.@:/-]+$/, "may contain only letters, digits and +=,.@:/-_");

/** The closest known key to a misspelled one (edit distance ≤ 3, or one containing the other). */
function closest(key: string, known: readonly string[]): string | undefined {
  const d = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length]!;
  };
  const k = key.toLowerCase();
  let best: { key: string; dist: number } | undefined;
  for (const c of known) {
    const dist = k.includes(c.toLowerCase()) || c.toLowerCase().includes(k) ? 1 : d(k, c.toLowerCase());
    if (dist <= 3 && (!best || dist < best.dist)) best = { key: c, dist };
  }
  return best?.key;
}

/**
 * An object that refuses keys it does not know, naming each with a "did you mean" — a misspelt option
 * (`assumeRoles`, `crossAcount`) silently dropped would run with the default the operator meant to change.
 */
function strictObject<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== "unrecognized_keys") return undefined;
      const named = iss.keys.map((k) => {
        const near = closest(k, known);
        return `"${k}"${near ? ` (did you mean "${near}"?)` : ""}`;
      });
      return `unknown key${named.length > 1 ? "s" : ""} ${named.join(", ")}; known: ${known.join(", ")}`;
    },
  });
}

export const AssumeRoleHop = strictObject({
  roleArn: RoleArn,
  externalId: ExternalId.optional(),
  /** @default "grantline" */
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/)
    .default("grantline"),
  /** @default 3600 */
  durationSeconds: z.number().int().min(900).max(43200).default(3600),
});
export type AssumeRoleHop = z.infer<typeof AssumeRoleHop>;

/** AWS's limit on a session assumed with a role session's credentials ("role chaining"). */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

/** Requests per second per quota scope. Defaults are AWS's published limits. */
export const Budgets = strictObject({
  /** Identity Center admin API, shared by all operations of an instance. @default 20 */
  "sso-admin": z.number().positive().default(20),
  /** Identity Store, per operation per store. @default 20 */
  identitystore: z.number().positive().default(20),
  /** Organizations; AWS publishes no number and throttles early. @default 5 */
  organizations: z.number().positive().default(5),
  /** IAM, per account per operation. @default 15 */
  iam: z.number().positive().default(15),
  /** STS AssumeRole and friends. @default 20 */
  sts: z.number().positive().default(20),
  /** CloudTrail LookupEvents. @default 2 */
  cloudtrail: z.number().positive().default(2),
});
export type Budgets = z.infer<typeof Budgets>;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration as a string ("90s", "15m", "1h", "2d") or a number of seconds; parsed to milliseconds. */
export const Duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = typeof v === "number" ? null : /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(v.trim());
  const seconds = typeof v === "number" ? v : m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : NaN;
  if (!Number.isFinite(seconds) || seconds < 0) {
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(v)} is not a duration: use a number of seconds or a string like "90s", "15m", "1h", "2d"`,
    });
    return z.NEVER;
  }
  return Math.round(seconds * 1000);
});

/** CloudTrail keeps 90 days of management events: no lookback reaches further. */
export const FEED_LOOKBACK_MAX_MS = 90 * 86_400_000;

/**
 * Incremental sync from CloudTrail (docs/freshness.md). Durations are strings ("90s", "15m", "1h") or seconds;
 * they are held here in milliseconds.
 */
export const FeedsConfig = strictObject({
  /** Off by default: it needs cloudtrail:LookupEvents in every synced account (deploy/aws). @default false */
  enabled: z.boolean().default(false),
  /** How far back a feed's first window reads. At most 90 days (CloudTrail's horizon). @default "1h" */
  lookback: Duration.prefault("1h").refine((ms) => ms <= FEED_LOOKBACK_MAX_MS, {
    message: "must be at most 90 days (CloudTrail's horizon)",
  }),
  /**
   * How far each window reaches back before the previous one's end: must exceed CloudTrail's delivery delay
   * (about 5 minutes on average, not guaranteed) or a late event is missed. @default "15m"
   */
  overlap: Duration.prefault("15m").refine((ms) => ms >= 60_000 && ms <= FEED_LOOKBACK_MAX_MS, {
    message: "must be between 1m and 90 days",
  }),
  /** Interval between a feed's windows while it has activity. @default "5s" */
  minInterval: Duration.prefault("5s").refine((ms) => ms >= 1000, { message: "must be at least 1s" }),
  /** Longest interval a quiet feed backs off to. @default "60s" */
  maxInterval: Duration.prefault("60s"),
  /**
   * How often a quiet account and Region is polled: its feeds take turns, each backing off to this × the number
   * of feeds in its account and Region (within minInterval and maxInterval). 15 s keeps a change's wait for its
   * poll within the freshness target at 3.3 % of an account's CloudTrail quota; the cost is CPU: a
   * 1,000-account organization makes ~67 polls a second (polls share tasks: docs/benchmarks.md has what that
   * costs). Raise it where a change may take longer to show. @default "15s"
   */
  accountInterval: Duration.prefault("15s").refine((ms) => ms >= 1000, { message: "must be at least 1s" }),
  /**
   * Windows of the source open at once (each is one chain of LookupEvents pages). The CloudTrail budget paces the
   * calls; this bounds the work queued at once (a thousand feeds' first windows). @default 256
   */
  maxWindowsInFlight: z.number().int().min(1).max(5000).default(256),
  /**
   * The management account's feeds: "combined" reads every write event of each of its Regions in one feed
   * (lookup attribute ReadOnly=false, routed by each record's event source): one poll where five would be made, so
   * Identity Center and Organizations changes are seen five times sooner for the same share of the quota.
   * "per-source" keeps one feed per event source, for a management account busy with other services' writes
   * (Control Tower, StackSets), whose pages the combined feed would read too. @default "combined"
   */
  managementFeeds: z.enum(["combined", "per-source"]).default("combined"),
  /**
   * Feeds polled by one task (`cloudtrail.PollFeeds`): each feed still makes its own LookupEvents call in its own
   * account, under its own budget, but they share one task, one message per stage and one writer transaction —
   * most of what a quiet poll cost (docs/benchmarks.md). 1 gives every poll its own task. @default 25
   */
  pollsPerTask: z.number().int().min(1).max(100).default(25),
}).superRefine((f, ctx) => {
  if (f.maxInterval < f.minInterval)
    ctx.addIssue({ code: "custom", path: ["maxInterval"], message: "must be at least minInterval" });
});
export type FeedsConfig = z.infer<typeof FeedsConfig>;

export const SourceConfig = strictObject({
  id: SourceId,
  /** "aws" syncs an AWS organization; "diag" is a synthetic source that exercises the pipeline without AWS (a deployment self-test). @default "aws" */
  kind: z.enum(["aws", "diag"]).default("aws"),
  /** For kind "diag": the synthetic chain's length, and a transient failure to exercise retries. */
  diag: strictObject({
    /** @default 3 */
    pages: z.number().int().min(1).max(100_000).default(3),
    /** @default 2 */
    itemsPerPage: z.number().int().min(0).max(100_000).default(2),
    /** The fetcher fails each page retryably until its message's delivery count reaches this. @default 0 */
    failUntilDelivery: z.number().int().min(0).max(100).default(0),
  }).default({ pages: 3, itemsPerPage: 2, failUntilDelivery: 0 }),
  /** @default "us-east-1" */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region like us-east-1")
    .default("us-east-1"),
  /** Override of every AWS endpoint (aws-sim, a VPC endpoint). */
  endpoint: z.url().optional(),
  /** Static credentials for the source (prefer the default chain / IRSA). Never logged. */
  staticCredentials: strictObject({
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
  }).optional(),
  /**
   * One or two AssumeRole hops after the default credential chain. The second is role chaining, which AWS caps
   * at one hour: a longer `durationSeconds` there would fail every AssumeRole, so it is refused here.
   */
  assumeRole: z
    .array(AssumeRoleHop)
    .max(2)
    .superRefine((hops, ctx) => {
      const second = hops[1];
      if (second && second.durationSeconds > ROLE_CHAINING_MAX_SECONDS)
        ctx.addIssue({
          code: "custom",
          path: [1, "durationSeconds"],
          message: `${second.durationSeconds} is too long: this hop assumes a role with a role session's credentials, and role chaining is capped at ${ROLE_CHAINING_MAX_SECONDS} s`,
        });
    })
    .default([]),
  /** Minutes between full runs; 0 = only on request. @default 360 */
  fullSyncEveryMinutes: z.number().int().min(0).default(360),
  budgets: Budgets.default(Budgets.parse({})),
  feeds: FeedsConfig.default(FeedsConfig.parse({})),
  /**
   * How account assignments are listed: "pairs" calls ListAccountAssignments once per provisioned account ×
   * permission set, "principals" calls ListAccountAssignmentsForPrincipal once per user and group; "auto" takes
   * the one with fewer calls by the counts of the previous runs (pairs on a first run). @default "auto"
   */
  assignmentRoute: z.enum(["auto", "pairs", "principals"]).default("auto"),
  iam: strictObject({
    /** Sync IAM in the caller's account. @default true */
    enabled: z.boolean().default(true),
    /** Also in every active member account, through `roleName`. @default false */
    crossAccount: z.boolean().default(false),
    /** @default "OrganizationAccountAccessRole" */
    roleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/)
      .default("OrganizationAccountAccessRole"),
    /**
     * Only the AWS-managed policies attached to something in the account, instead of every AWS-managed policy
     * GAAD lists. Customer-managed policies are synced either way (they exist whether attached or not).
     * @default true
     */
    onlyAttachedPolicies: z.boolean().default(true),
  }).default({
    enabled: true,
    crossAccount: false,
    roleName: "OrganizationAccountAccessRole",
    onlyAttachedPolicies: true,
  }),
});
export type SourceConfig = z.infer<typeof SourceConfig>;

/** Which partition a region is in: role ARNs must name the same one (arn:aws-cn:… for cn-north-1, …). */
function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  return "aws";
}

/** A sources file lists organizations, not data: anything larger is a mistake (and would be parsed in memory). */
export const SOURCES_FILE_MAX_BYTES = 1024 * 1024;

export const SourcesFile = strictObject({
  sources: z.array(SourceConfig).min(1, "at least one source is required"),
}).superRefine((f, ctx) => {
  f.sources.forEach((s, i) => {
    const partition = partitionOf(s.region);
    s.assumeRole.forEach((hop, h) => {
      const arnPartition = hop.roleArn.split(":")[1];
      if (arnPartition !== partition)
        ctx.addIssue({
          code: "custom",
          path: ["sources", i, "assumeRole", h, "roleArn"],
          message: `names partition "${arnPartition}" but region ${s.region} is in "${partition}" (arn:${partition}:iam::…)`,
        });
    });
  });
  const seen = new Set<string>();
  f.sources.forEach((s, i) => {
    if (seen.has(s.id))
      ctx.addIssue({
        code: "custom",
        path: ["sources", i, "id"],
        message: `duplicate source id "${s.id}"`,
      });
    seen.add(s.id);
  });
});
export type SourcesFile = z.infer<typeof SourcesFile>;

/** Parses a sources document (already decoded from YAML/JSON). `where` prefixes messages (the file name). */
export function parseSources(doc: unknown, where = "sources file"): SourcesFile {
  const r = SourcesFile.safeParse(doc);
  if (!r.success) throw ConfigError.fromZod(`${where}: `, r.error);
  return r.data;
}

/** Reads and validates the sources file (YAML or JSON — JSON is YAML). */
export function loadSourcesFile(path: string): SourcesFile {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > SOURCES_FILE_MAX_BYTES)
      throw new ConfigError(
        `invalid configuration: SOURCES_FILE: ${path} is ${size} bytes; the limit is ${SOURCES_FILE_MAX_BYTES} (1 MiB) — a sources file lists organizations, not data`,
      );
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `invalid configuration: SOURCES_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration: ${path}: not valid YAML/JSON: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  return parseSources(doc, `${path}: `);
}
