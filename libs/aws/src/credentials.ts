import { fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { SourceConfig } from "@grantline/config";

/** A credentials provider that caches its result until shortly before expiry and can be told to drop it. */
export interface RefreshingCredentials {
  provider: AwsCredentialIdentityProvider;
  /** Forget the cached credentials (the service said they expired): the next call fetches new ones. */
  invalidate(): void;
}

/** An AssumeRole that failed, naming the role and which hop it was, so the message says what to fix. */
export class AssumeRoleError extends Error {
  readonly roleArn: string;
  readonly code: string;
  constructor(roleArn: string, hop: string, cause: unknown) {
    const code = (cause as { name?: string } | undefined)?.name ?? "Error";
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`cannot assume ${roleArn} (${hop}): ${code}: ${msg}`, { cause });
    this.name = "AssumeRoleError";
    this.roleArn = roleArn;
    this.code = code;
  }
}

/** Refresh when less than this much of the lifetime is left (capped at 5 min, like the SDK's own window). */
const MAX_REFRESH_WINDOW_MS = 5 * 60_000;

/** Credentials fetched once and when to fetch them again. */
export interface CachedCredentials {
  creds: AwsCredentialIdentity;
  refreshAt: number;
}

/** Where a provider keeps what it fetched: its own closure by default, or a store that outlives the provider. */
export interface CredentialSlot {
  get(): CachedCredentials | undefined;
  set(value: CachedCredentials | undefined): void;
}

function localSlot(): CredentialSlot {
  let value: CachedCredentials | undefined;
  return {
    get: () => value,
    set: (v) => {
      value = v;
    },
  };
}

/**
 * Memoizes `fetch`: concurrent callers share one fetch; credentials are reused until they come within
 * `min(5 min, ¼ of their lifetime)` of expiry, so short sessions are not refetched on every call; a failed fetch
 * is not cached. `slot` holds the result (a caller that drops providers to save memory keeps the credentials).
 */
export function refreshing(
  fetch: () => Promise<AwsCredentialIdentity>,
  slot: CredentialSlot = localSlot(),
): RefreshingCredentials {
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const load = (): Promise<AwsCredentialIdentity> => {
    pending ??= (async () => {
      try {
        const obtained = Date.now();
        const creds = await fetch();
        const exp = creds.expiration?.getTime();
        const refreshAt =
          exp === undefined
            ? Number.POSITIVE_INFINITY
            : exp - Math.min(MAX_REFRESH_WINDOW_MS, Math.max(0, (exp - obtained) / 4));
        slot.set({ creds, refreshAt });
        return creds;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
  return {
    provider: async () => {
      const current = slot.get();
      if (current && Date.now() < current.refreshAt) return current.creds;
      return load();
    },
    invalidate() {
      slot.set(undefined);
    },
  };
}

export interface StsClientSettings {
  region: string;
  endpoint?: string;
  maxAttempts: number;
  requestHandler: unknown;
}

/** Runs one STS call: the caller takes the STS budget, times it and reports it. */
export type StsCallWrapper = <T>(operation: string, call: () => Promise<T>) => Promise<T>;

/**
 * Builds the credentials of a source: the default provider chain (or static keys), then each AssumeRole hop
 * from the previous one (with its external id, session name and duration). Every AssumeRole runs through
 * `wrap` (the STS budget and metrics). Every hop refreshes on its own before expiry.
 */
export function sourceCredentials(
  source: SourceConfig,
  sts: StsClientSettings,
  wrap: StsCallWrapper,
): RefreshingCredentials[] {
  const base: AwsCredentialIdentityProvider = source.staticCredentials
    ? async () => ({ ...source.staticCredentials! })
    : fromNodeProviderChain({ clientConfig: { region: source.region } });
  const chain: RefreshingCredentials[] = [refreshing(() => base())];
  source.assumeRole.forEach((hop, i) => {
    const master = chain[chain.length - 1]!.provider;
    chain.push(
      assumeRoleCredentials(
        master,
        {
          roleArn: hop.roleArn,
          externalId: hop.externalId,
          sessionName: hop.sessionName,
          durationSeconds: hop.durationSeconds,
          hop: `source ${source.id} hop ${i + 1} of ${source.assumeRole.length}`,
        },
        sts,
        wrap,
      ),
    );
  });
  return chain;
}

/** AssumeRole from `master` (chained credentials), refreshed before expiry; failures become `AssumeRoleError`. */
export function assumeRoleCredentials(
  master: AwsCredentialIdentityProvider,
  role: {
    roleArn: string;
    externalId?: string | undefined;
    sessionName: string;
    durationSeconds: number;
    hop: string;
  },
  sts: StsClientSettings,
  wrap: StsCallWrapper,
  slot?: CredentialSlot,
): RefreshingCredentials {
  const assume = fromTemporaryCredentials({
    masterCredentials: master,
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: role.sessionName,
      DurationSeconds: role.durationSeconds,
      ...(role.externalId ? { ExternalId: role.externalId } : {}),
    },
    clientConfig: {
      region: sts.region,
      maxAttempts: sts.maxAttempts,
      ...(sts.endpoint ? { endpoint: sts.endpoint } : {}),
      requestHandler: sts.requestHandler as never,
    },
  });
  return refreshing(async () => {
    try {
      return await wrap("AssumeRole", () => assume());
    } catch (err) {
      if (err instanceof AssumeRoleError) throw err;
      throw new AssumeRoleError(role.roleArn, role.hop, err);
    }
  }, slot);
}
