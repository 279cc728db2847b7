/**
 * What the fetcher sends to Redis, and nothing more: the JSON cache (MGET, SET … EX), the rate limiter's Lua
 * scripts (EVALSHA, falling back to EVAL once per connection) and the commands those scripts call (ACLs apply
 * inside scripts too), the limiter's HGET, and the client's own PING, INFO (ioredis's ready check), CLIENT
 * SETNAME (connection name) and QUIT. The fetcher is the only service that uses Redis.
 */
export const FETCHER_REDIS_COMMANDS = [
  "mget",
  "set",
  "evalsha",
  "eval",
  "get",
  "hget",
  "hset",
  "del",
  "pexpire",
  "time",
  "ping",
  "info",
  "client|setname",
  "quit",
] as const;

export interface RedisAclOptions {
  /** @default "grantline-fetcher" */
  user?: string;
  /** `#<sha256 hex>` of the password, or `>password`; the rendered deploy file carries a placeholder. */
  password: string;
  commands?: readonly string[];
}

/**
 * The ACL rule of the fetcher's Redis user, limited to keys under `prefix` (REDIS_KEY_PREFIX), no pub/sub
 * channels, and the commands it uses. One line of an ACL file (`aclfile`), or, split on spaces after the user
 * name, the arguments of `ACL SETUSER`.
 */
export function redisAcl(prefix: string, o: RedisAclOptions): string {
  if (/[\s*?[\]]/.test(prefix))
    throw new Error(`a Redis key prefix for an ACL has no spaces or globs: "${prefix}"`);
  const commands = (o.commands ?? FETCHER_REDIS_COMMANDS).map((c) => `+${c}`);
  const user = o.user ?? "grantline-fetcher";
  return [
    "user",
    user,
    "on",
    o.password,
    "resetkeys",
    `~${prefix}*`,
    "resetchannels",
    "-@all",
    ...commands,
  ].join(" ");
}

/** Placeholder of the fetcher password's SHA-256 in deploy/redis/users.acl; the Redis container fills it in. */
export const FETCHER_PASSWORD_PLACEHOLDER = "#FETCHER_PASSWORD_SHA256";

/**
 * deploy/redis/users.acl: the default user off (no unauthenticated access), a password-less `healthcheck`
 * user that may only PING, and the fetcher's user for keys under `prefix`.
 */
export function renderUsersAcl(prefix = "gl:"): string {
  // Redis refuses an ACL file with comments: what this file is, and how it is filled in, is said here and in
  // docs/deploying.md#credentials; libs/redis/src/redis-acl.test.ts checks the file is this function's output.
  return [
    "user default off resetkeys resetchannels -@all",
    "user healthcheck on nopass resetkeys resetchannels -@all +ping",
    redisAcl(prefix, { password: FETCHER_PASSWORD_PLACEHOLDER }),
    "",
  ].join("\n");
}
