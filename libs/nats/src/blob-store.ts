import { Objm, type ObjectStore } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/nats-core";
import type { Subjects } from "@grantline/contracts";

/** Header naming the object that holds a message's real payload. */
export const BLOB_HEADER = "Gl-Blob";

/**
 * Payloads too large for a NATS message (1 MB including headers — an IAM authorization-details page easily
 * is) travel by reference: the body goes to a JetStream object store and the message carries its name.
 */
export interface BlobStore {
  put(name: string, data: Uint8Array): Promise<void>;
  get(name: string): Promise<Uint8Array | null>;
}

export interface BlobStoreOptions {
  /** How long a blob outlives its message; longer than the worst backlog. @default 24 h */
  ttlMs?: number;
  /** @default 1 */
  replicas?: number;
}

/** The object store bucket of `subjects`' prefix (its stream is `OBJ_<bucket>`). */
export function blobBucketName(subjects: Subjects): string {
  return `${subjects.streams.batches.replace(/_BATCH$/, "")}_BLOBS`;
}

/** Opens (creating if needed) the object store bucket for `subjects`' prefix. */
export async function openBlobStore(
  nc: NatsConnection,
  subjects: Subjects,
  o: BlobStoreOptions = {},
): Promise<BlobStore> {
  const name = blobBucketName(subjects);
  // Bucket-wide TTL (max_age) works on 2.9; per-object TTLs would be silently ignored there.
  const store: ObjectStore = await new Objm(nc).create(name, {
    ttl: nanos(o.ttlMs ?? 86_400_000),
    replicas: o.replicas ?? 1,
  });
  return {
    async put(key, data) {
      await store.putBlob({ name: key }, data);
    },
    get: (key) => store.getBlob(key),
  };
}

/** Largest body sent inline; larger ones go by reference. Leaves room for headers under the 1 MB limit. */
export const INLINE_LIMIT_BYTES = 900 * 1024;
