import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient } from "@aws-sdk/client-iam";
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { SourceConfig } from "@grantline/config";
import { abortWithCall, addBudgetMiddleware, sendAbortable, type MiddlewareClient } from "./budgeted-call.ts";
import type { BudgetService } from "./budgets.ts";
import { assumeRoleCredentials, sourceCredentials } from "./credentials.ts";
import type { CachedCredentials, RefreshingCredentials, StsClientSettings } from "./credentials.ts";

/** The part of an SDK client the executor uses. */
export interface AwsClient {
  send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface ClientFactoryOptions {
  maxAttempts: number;
  callTimeoutMs: number;
  /**
   * Member accounts whose SDK clients are kept (least recently used beyond this are dropped and rebuilt when
   * needed). Each holds an STS and an IAM client: kept for every account of a 1,000-account organization they took
   * ~70 MB of a fetcher's memory. The assumed-role credentials themselves (a few hundred bytes) are kept for every
   * account until they near expiry, so a dropped account's next call builds clients but does not re-assume the
   * role: 960 CloudTrail feeds polled round robin made one AssumeRole per poll when credentials left with the
   * clients. @default 64
   */
  maxAccounts?: number;
  /** Wraps every AssumeRole and GetCallerIdentity the factory makes itself (the STS budget of the source, metrics). */
  stsCall: <T>(
    source: SourceConfig,
    operation: string,
    call: () => Promise<T>,
    signal?: AbortSignal,
  ) => Promise<T>;
}

export interface ClientFactory {
  /**
   * The client for `service` of `source`, acting in `accountId` (null: the source's own credentials), in `region`
   * (the source's when absent: CloudTrail feeds read the Region their events are recorded in).
   */
  client(source: SourceConfig, service: BudgetService, accountId: string | null, region?: string): AwsClient;
  /** The role assumed in `accountId` for cross-account calls. */
  crossAccountRoleArn(source: SourceConfig, accountId: string): string;
  /** The source's own account id (GetCallerIdentity once, then cached; a failure is not cached). */
  ownAccountId(source: SourceConfig, signal?: AbortSignal): Promise<string>;
  /** Drops the cached credentials and clients of a source (credentials were rejected as expired). */
  invalidate(sourceId: string): void;
  close(): void;
}

type ClientCtor = new (config: Record<string, unknown>) => AwsClient & MiddlewareClient;
const CLIENTS: Record<BudgetService, ClientCtor> = {
  organizations: OrganizationsClient as unknown as ClientCtor,
  "sso-admin": SSOAdminClient as unknown as ClientCtor,
  identitystore: IdentitystoreClient as unknown as ClientCtor,
  iam: IAMClient as unknown as ClientCtor,
  sts: STSClient as unknown as ClientCtor,
  cloudtrail: CloudTrailClient as unknown as ClientCtor,
};

/**
 * Builds and caches credentials and SDK clients: one credential chain per source, one assumed-role provider per
 * (source, member account) for the `maxAccounts` most recently used accounts (their credentials for every
 * account), one client per (source, service, account). All clients share one keep-alive HTTP
 * handler, so sockets are reused across services and accounts and their number is bounded.
 */
export function createClientFactory(opts: ClientFactoryOptions): ClientFactory {
  const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 64, maxFreeSockets: 16 };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  const requestHandler = new NodeHttpHandler({
    httpAgent,
    httpsAgent,
    connectionTimeout: 5_000,
    requestTimeout: opts.callTimeoutMs,
  });
  // Page calls' requests abort with their budgeted call. The STS clients of the credential chains keep the plain
  // handler: a memoized AssumeRole is shared by concurrent calls and must not die with the one that started it.
  const callHandler = abortWithCall(requestHandler);

  const chains = new Map<string, RefreshingCredentials[]>();
  // Per (source, member account), in least-recently-used order (a Map iterates in insertion order).
  const accounts = new Map<string, { creds: RefreshingCredentials; clients: Map<string, AwsClient> }>();
  const maxAccounts = opts.maxAccounts ?? 64;
  // Assumed-role credentials per (source, member account), for every account: they outlive the LRU entries above.
  const sessions = new Map<string, CachedCredentials>();
  // The source's own credentials: one client per (source, service).
  const clients = new Map<string, AwsClient>();
  const ownAccounts = new Map<string, Promise<string>>();

  const stsSettings = (source: SourceConfig): StsClientSettings => ({
    region: source.region,
    ...(source.endpoint ? { endpoint: source.endpoint } : {}),
    maxAttempts: opts.maxAttempts,
    requestHandler,
  });

  function sourceProvider(source: SourceConfig): AwsCredentialIdentityProvider {
    let chain = chains.get(source.id);
    if (!chain) {
      chain = sourceCredentials(source, stsSettings(source), (op, call) => opts.stsCall(source, op, call));
      chains.set(source.id, chain);
    }
    return chain[chain.length - 1]!.provider;
  }

  function crossAccountRoleArn(source: SourceConfig, accountId: string): string {
    return `arn:aws:iam::${accountId}:role/${source.iam.roleName}`;
  }

  function account(source: SourceConfig, accountId: string) {
    const key = `${source.id}/${accountId}`;
    let entry = accounts.get(key);
    if (entry) {
      accounts.delete(key);
    } else {
      entry = {
        creds: assumeRoleCredentials(
          sourceProvider(source),
          {
            roleArn: crossAccountRoleArn(source, accountId),
            sessionName: "grantline",
            durationSeconds: 3600,
            hop: `account ${accountId}`,
          },
          stsSettings(source),
          (op, call) => opts.stsCall(source, op, call),
          {
            get: () => sessions.get(key),
            set: (v) => {
              if (v) sessions.set(key, v);
              else sessions.delete(key);
            },
          },
        ),
        clients: new Map(),
      };
    }
    accounts.set(key, entry);
    // Dropped, not destroyed: destroy() would close the HTTP handler every client shares. In-flight calls of
    // an evicted account finish on the objects they hold.
    while (accounts.size > maxAccounts) accounts.delete(accounts.keys().next().value!);
    return entry;
  }

  function newClient(
    source: SourceConfig,
    service: BudgetService,
    credentials: AwsCredentialIdentityProvider,
    region: string,
  ) {
    const Ctor = CLIENTS[service];
    const c = new Ctor({
      region,
      ...(source.endpoint ? { endpoint: source.endpoint } : {}),
      maxAttempts: opts.maxAttempts,
      requestHandler: callHandler,
      credentials,
      // The middleware stack is resolved once per command type, not per call: the budget middleware is the
      // client's own, and per-call state reaches it through the async context (createBudgetedCall).
      cacheMiddleware: true,
    });
    addBudgetMiddleware(c);
    return c;
  }

  function client(
    source: SourceConfig,
    service: BudgetService,
    accountId: string | null,
    region: string = source.region,
  ): AwsClient {
    // The source's Region keeps the key it always had; another Region is a client of its own.
    const which = region === source.region ? service : `${service}@${region}`;
    if (accountId !== null) {
      const entry = account(source, accountId);
      let c = entry.clients.get(which);
      if (!c) {
        c = newClient(source, service, entry.creds.provider, region);
        entry.clients.set(which, c);
      }
      return c;
    }
    const key = `${source.id}/${which}`;
    let c = clients.get(key);
    if (!c) {
      c = newClient(source, service, sourceProvider(source), region);
      clients.set(key, c);
    }
    return c;
  }

  return {
    client,
    crossAccountRoleArn,
    ownAccountId(source, signal) {
      let p = ownAccounts.get(source.id);
      if (!p) {
        p = opts.stsCall(
          source,
          "GetCallerIdentity",
          async () => {
            const sts = client(source, "sts", null);
            const out = (await sendAbortable(signal, () => sts.send(new GetCallerIdentityCommand({})))) as {
              Account?: string;
            };
            if (!out.Account) throw new Error(`GetCallerIdentity of source ${source.id} returned no account`);
            return out.Account;
          },
          signal,
        );
        ownAccounts.set(source.id, p);
        p.catch(() => ownAccounts.delete(source.id));
      }
      return p;
    },
    invalidate(sourceId) {
      for (const c of chains.get(sourceId) ?? []) c.invalidate();
      // A client memoizes credentials on its own as well; a fresh client starts from the refreshed provider.
      for (const [key, e] of accounts)
        if (key.startsWith(`${sourceId}/`)) {
          e.creds.invalidate();
          e.clients.clear();
        }
      for (const key of [...sessions.keys()]) if (key.startsWith(`${sourceId}/`)) sessions.delete(key);
      for (const key of [...clients.keys()]) if (key.startsWith(`${sourceId}/`)) clients.delete(key);
    },
    close() {
      clients.clear();
      accounts.clear();
      sessions.clear();
      requestHandler.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
