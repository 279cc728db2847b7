import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that nothing listens on at the moment, for a server a test starts itself. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}
