// Real AWS SDK v3 clients of the six services, pointed at an aws-sim, each with a raw-response capture,
// and a by-name `call` that returns both the deserialized output and the raw HTTP response.
import * as cloudtrail from "@aws-sdk/client-cloudtrail";
import * as iam from "@aws-sdk/client-iam";
import * as identitystore from "@aws-sdk/client-identitystore";
import * as organizations from "@aws-sdk/client-organizations";
import * as ssoAdmin from "@aws-sdk/client-sso-admin";
import * as sts from "@aws-sdk/client-sts";
import { captureRawResponses } from "./capture.ts";
import type { RawCapture } from "./capture.ts";
import { loadModel } from "./smithy-model.ts";
import type { ModelName, SmithyModel } from "./smithy-model.ts";
import type { RawHttpResponse } from "./validate-shape.ts";

export type ServiceKey = "iam" | "sts" | "organizations" | "sso-admin" | "identitystore" | "cloudtrail";

export const SERVICE_MODELS: Record<ServiceKey, ModelName> = {
  iam: "iam-2010-05-08",
  sts: "sts-2011-06-15",
  organizations: "organizations-2016-11-28",
  "sso-admin": "sso-admin-2020-07-20",
  identitystore: "identitystore-2020-06-15",
  cloudtrail: "cloudtrail-2013-11-01",
};

export interface ClientTarget {
  url: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK attempts per call (default 1: no retries, so every raw response is seen). */
  maxAttempts?: number;
}

type CommandCtor = new (input: object) => object;
interface Sendable {
  send(command: object): Promise<Record<string, unknown>>;
  destroy(): void;
}

const MODULES: Record<ServiceKey, Record<string, unknown>> = {
  iam,
  sts,
  organizations,
  "sso-admin": ssoAdmin,
  identitystore,
  cloudtrail,
};

function makeClient(service: ServiceKey, target: ClientTarget): { client: Sendable; capture: RawCapture } {
  const config = {
    endpoint: target.url,
    region: target.region,
    credentials: target.credentials,
    maxAttempts: target.maxAttempts ?? 1,
  };
  let client;
  switch (service) {
    case "iam":
      client = new iam.IAMClient(config);
      break;
    case "sts":
      client = new sts.STSClient(config);
      break;
    case "organizations":
      client = new organizations.OrganizationsClient(config);
      break;
    case "sso-admin":
      client = new ssoAdmin.SSOAdminClient(config);
      break;
    case "identitystore":
      client = new identitystore.IdentitystoreClient(config);
      break;
    case "cloudtrail":
      client = new cloudtrail.CloudTrailClient(config);
      break;
  }
  const capture = captureRawResponses(client.middlewareStack as Parameters<typeof captureRawResponses>[0]);
  return { client: client as unknown as Sendable, capture };
}

export interface CallResult {
  /** Deserialized output without `$metadata`, or undefined when the call failed. */
  output: Record<string, unknown> | undefined;
  /** The SDK error, when the call failed. */
  error: (Error & { name: string; $metadata?: { httpStatusCode?: number; attempts?: number } }) | undefined;
  raw: RawHttpResponse | undefined;
  /** `$metadata.attempts` of the call (or of the error). */
  attempts: number | undefined;
}

export class SdkHarness {
  private readonly clients = new Map<ServiceKey, { client: Sendable; capture: RawCapture }>();
  constructor(readonly target: ClientTarget) {}

  model(service: ServiceKey): SmithyModel {
    return loadModel(SERVICE_MODELS[service]);
  }

  async call(service: ServiceKey, operation: string, input: object): Promise<CallResult> {
    let entry = this.clients.get(service);
    if (entry === undefined) {
      entry = makeClient(service, this.target);
      this.clients.set(service, entry);
    }
    const Command = MODULES[service][`${operation}Command`] as CommandCtor | undefined;
    if (Command === undefined) throw new Error(`${service}: the SDK has no ${operation}Command`);
    entry.capture.last = undefined;
    try {
      const { $metadata: metadata, ...output } = await entry.client.send(new Command(input));
      return {
        output,
        error: undefined,
        raw: entry.capture.last,
        attempts: (metadata as { attempts?: number } | undefined)?.attempts,
      };
    } catch (err) {
      const error = err as NonNullable<CallResult["error"]>;
      return { output: undefined, error, raw: entry.capture.last, attempts: error.$metadata?.attempts };
    }
  }

  close(): void {
    for (const { client } of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
