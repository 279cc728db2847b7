import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./create-logger.ts";
import { redactUrl } from "./redact-url.ts";

function memorySink(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join("");
  return {
    stream,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const SECRET = "S3cr3tValue-do-not-log";

describe("createLogger", () => {
  it("adds service and a string level", () => {
    const sink = memorySink();
    createLogger({ service: "fetcher", destination: sink.stream }).info("hello");
    expect(sink.lines()[0]).toMatchObject({ service: "fetcher", level: "info", msg: "hello" });
  });

  it("honours the level", () => {
    const sink = memorySink();
    const logger = createLogger({ service: "s", level: "warn", destination: sink.stream });
    logger.info("quiet");
    logger.warn("loud");
    expect(sink.lines().map((l) => l.msg)).toEqual(["loud"]);
  });

  it.each([
    ["top level", { secretAccessKey: SECRET, accountId: "123456789012" }],
    [
      "nested",
      { role: { arn: "arn:aws:iam::123456789012:role/x", externalId: SECRET }, accountId: "123456789012" },
    ],
    ["deeply nested", { a: { b: { c: { sessionToken: SECRET } } }, accountId: "123456789012" }],
    [
      "PascalCase AWS shape",
      { Credentials: { SecretAccessKey: SECRET, SessionToken: SECRET }, accountId: "123456789012" },
    ],
    ["password", { db: { password: SECRET }, accountId: "123456789012" }],
    [
      "authorization header",
      { req: { headers: { authorization: `Bearer ${SECRET}` } }, accountId: "123456789012" },
    ],
    ["tokens", { accessToken: SECRET, oauth: { refreshToken: SECRET }, accountId: "123456789012" }],
  ])("redacts secrets by key: %s", (_name, obj) => {
    const sink = memorySink();
    createLogger({ service: "s", destination: sink.stream }).info(obj, "event");
    expect(sink.text()).not.toContain(SECRET);
    expect(sink.text()).toContain("[redacted]");
    expect(sink.lines()[0]).toMatchObject({ accountId: "123456789012", msg: "event" });
  });

  it("redacts an AWS SDK-shaped credentials object wherever it sits", () => {
    const sink = memorySink();
    const logger = createLogger({ service: "s", destination: sink.stream });
    const creds = { accessKeyId: "AKIAEXAMPLE", secretAccessKey: SECRET, sessionToken: `${SECRET}-session` };
    logger.info({ credentials: creds }, "under credentials");
    logger.info({ assumed: creds }, "under another key");
    logger.info(creds, "top level");
    expect(sink.text()).not.toContain(SECRET);
    const [, second, third] = sink.lines();
    // The key id alone is not a secret and helps tell which role was used.
    expect(second).toMatchObject({ assumed: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "[redacted]" } });
    expect(third).toMatchObject({ accessKeyId: "AKIAEXAMPLE", sessionToken: "[redacted]" });
  });

  it("scrubs passwords from URLs in fields and messages", () => {
    const sink = memorySink();
    const logger = createLogger({ service: "s", destination: sink.stream });
    logger.info(
      { cfg: { db: `postgres://app:${SECRET}@db:5432/gl`, cache: `redis://:${SECRET}@redis:6379/0` } },
      "config",
    );
    logger.info(`connecting to nats://svc:${SECRET}@nats:4222`);
    logger.info("connecting to %s", `postgres://app:${SECRET}@db/gl`);
    expect(sink.text()).not.toContain(SECRET);
    const [first, second] = sink.lines();
    expect(first).toMatchObject({
      cfg: { db: "postgres://app:[redacted]@db:5432/gl", cache: "redis://:[redacted]@redis:6379/0" },
    });
    expect(second?.msg).toBe("connecting to nats://svc:[redacted]@nats:4222");
  });

  it("scrubs URL passwords from error messages and stacks", () => {
    const sink = memorySink();
    const logger = createLogger({ service: "s", destination: sink.stream });
    const err = new Error(`connect ECONNREFUSED postgres://app:${SECRET}@db:5432/gl`);
    logger.error({ err }, "db down");
    logger.error(err);
    logger.warn({ error: new Error(`bad redis://u:${SECRET}@h`) }, "cache down");
    expect(sink.text()).not.toContain(SECRET);
    const [first, second] = sink.lines();
    expect(first).toMatchObject({
      msg: "db down",
      err: { type: "Error", message: expect.stringContaining("app:[redacted]@db") },
    });
    expect((first?.err as { stack: string }).stack).toContain("[redacted]");
    expect(second?.msg).toContain("postgres://app:[redacted]@db");
  });

  it("keeps redaction on child loggers and their bindings", () => {
    const sink = memorySink();
    const logger = createLogger({ service: "s", destination: sink.stream });
    const child = logger.child({ subject: "gl.fetch.123", msgId: 42 });
    child.info({ sessionToken: SECRET, url: `redis://x:${SECRET}@h` }, "child");
    expect(sink.text()).not.toContain(SECRET);
    expect(sink.lines()[0]).toMatchObject({ subject: "gl.fetch.123", msgId: 42, service: "s" });
  });
});

describe("redactUrl", () => {
  it.each([
    ["postgres://user:pw@host:5432/db", "postgres://user:[redacted]@host:5432/db"],
    ["redis://:pw@host:6379", "redis://:[redacted]@host:6379"],
    ["nats://u:p%40ss@nats:4222", "nats://u:[redacted]@nats:4222"],
    [
      "postgres://host/db?user=a&password=pw&sslmode=require",
      "postgres://host/db?user=a&password=[redacted]&sslmode=require",
    ],
    ["redis://host:6379", "redis://host:6379"],
    ["nats://user@host", "nats://user@host"],
    ["not a url", "not a url"],
  ])("%s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});
