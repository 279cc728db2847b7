import type { Redis } from "ioredis";

/**
 * Closes a client for shutdown without ever hanging on it: `quit()` waits for the server's reply, forever when
 * the server accepts connections but stopped answering (a wedged or partitioned Redis), which would run a
 * graceful shutdown into its timeout and exit 1. Ready: QUIT, bounded by `timeoutMs`; otherwise (or past the
 * bound): drop the socket — there is nothing queued worth waiting for at shutdown.
 */
export async function closeRedis(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const quit = redis.quit().then(
    () => true,
    () => false,
  );
  const inTime = await Promise.race([
    quit,
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) redis.disconnect();
}
