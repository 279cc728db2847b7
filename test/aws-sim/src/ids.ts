import { randomBytes, randomUUID } from "node:crypto";

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX = "0123456789abcdef";
const LOWER = "abcdefghijklmnopqrstuvwxyz0123456789";

export function cryptoRng(): Rng {
  return () => randomBytes(4).readUInt32BE(0) / 4294967296;
}
function pick(rng: Rng, alphabet: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
}
export const iamId = (rng: Rng, prefix: "AIDA" | "AGPA" | "AROA" | "ANPA" | "AIPA"): string =>
  prefix + pick(rng, UPPER, 17);
export const accessKeyId = (rng: Rng, prefix: "AKIA" | "ASIA" = "AKIA"): string =>
  prefix + pick(rng, UPPER, 16);
export const secretKey = (rng: Rng): string =>
  pick(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
export const hex = (rng: Rng, n: number): string => pick(rng, HEX, n);
export const lower = (rng: Rng, n: number): string => pick(rng, LOWER, n);
export const uuid = (rng: Rng): string =>
  `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
/** Identity Store user/group/membership id: `{10 hex}-{uuid}`. */
export const storeId = (rng: Rng): string => `${hex(rng, 10)}-${uuid(rng)}`;
export const requestId = (): string => randomUUID();
