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
import type { BudgetService } from "./budgets.ts";
import { assumeRoleCredentials, sourceCredentials } from "./credentials.ts";
import type { RefreshingCredentials, StsClientSettings } from "./credentials.ts";

/** The part of an SDK client the executor uses. */
export interface AwsClient {
  send(command: object, options: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface ClientFactoryOptions {
  maxAttempts: number;
  callTimeoutMs: number;
  /** Wraps every AssumeRole and GetCallerIdentity the factory makes itself (the STS budget of the source, metrics). */
  stsCall: <T>(
    source: SourceConfig,
    operation: string,
    call: () => Promise<T>,
    signal?: AbortSignal,
  ) => Promise<T>;
}

export interface ClientFactory {
  /** The client for `service` of `source`, acting in `accountId` (null: the source's own credentials). */
  client(source: SourceConfig, service: BudgetService, accountId: string | null): AwsClient;
  /** The role assumed in `accountId` for cross-account calls. */
  crossAccountRoleArn(source: SourceConfig, accountId: string): string;
  /** The source's own account id (GetCallerIdentity once, then cached; a failure is not cached). */
  ownAccountId(source: SourceConfig, signal?: AbortSignal): Promise<string>;
  /** Drops the cached credentials and clients of a source (credentials were rejected as expired). */
  invalidate(sourceId: string): void;
  close(): void;
}

type ClientCtor = new (config: Record<string, unknown>) => AwsClient;
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
 * (source, member account), one client per (source, service, account). All clients share one keep-alive HTTP
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

  const chains = new Map<string, RefreshingCredentials[]>();
  const crossAccount = new Map<string, RefreshingCredentials>();
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

  function accountProvider(source: SourceConfig, accountId: string | null): AwsCredentialIdentityProvider {
    if (accountId === null) return sourceProvider(source);
    const key = `${source.id}/${accountId}`;
    let creds = crossAccount.get(key);
    if (!creds) {
      creds = assumeRoleCredentials(
        sourceProvider(source),
        {
          roleArn: crossAccountRoleArn(source, accountId),
          sessionName: "grantline",
          durationSeconds: 3600,
          hop: `account ${accountId}`,
        },
        stsSettings(source),
        (op, call) => opts.stsCall(source, op, call),
      );
      crossAccount.set(key, creds);
    }
    return creds.provider;
  }

  function client(source: SourceConfig, service: BudgetService, accountId: string | null): AwsClient {
    const key = `${source.id}/${service}/${accountId ?? "self"}`;
    let c = clients.get(key);
    if (!c) {
      const Ctor = CLIENTS[service];
      c = new Ctor({
        region: source.region,
        ...(source.endpoint ? { endpoint: source.endpoint } : {}),
        maxAttempts: opts.maxAttempts,
        requestHandler,
        credentials: accountProvider(source, accountId),
      });
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
            const out = (await client(source, "sts", null).send(new GetCallerIdentityCommand({}), {
              ...(signal ? { abortSignal: signal } : {}),
            })) as { Account?: string };
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
      for (const [key, c] of crossAccount) if (key.startsWith(`${sourceId}/`)) c.invalidate();
      // A client memoizes credentials on its own as well; a fresh client starts from the refreshed provider.
      for (const key of [...clients.keys()]) if (key.startsWith(`${sourceId}/`)) clients.delete(key);
    },
    close() {
      clients.clear();
      requestHandler.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
