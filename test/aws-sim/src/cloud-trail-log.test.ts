import { describe, expect, it } from "vitest";
import { Actor } from "./actor.ts";
import { CloudTrailLog } from "./cloud-trail-log.ts";

const admin = new Actor({ kind: "Admin", accountId: "111111111111" });
const write = (name: string) => ({
  accountId: "111111111111",
  eventSource: "iam.amazonaws.com",
  eventName: name,
  requestParameters: { userName: name },
});

describe("CloudTrailLog", () => {
  it("delays each event by a sample, so events become visible out of order; lists by event time", () => {
    const log = new CloudTrailLog();
    log.setDelay({ kind: "uniform", minMs: 0, maxMs: 1000 }, 5);
    const t0 = 1_000_000;
    const evs = Array.from({ length: 20 }, (_, i) => log.append(admin, write(`u${i}`), t0 + i)!);
    const byVisibility = [...evs].sort((a, b) => a.visibleAt - b.visibleAt).map((e) => e.eventName);
    expect(byVisibility).not.toEqual(evs.map((e) => e.eventName));
    // Halfway through the delays some later events are visible while earlier ones are not.
    const mid = t0 + 500;
    const seen = new Set([...log.visible("111111111111", mid)].map((e) => e.eventName));
    const firstHidden = evs.findIndex((e) => !seen.has(e.eventName));
    expect(evs.slice(firstHidden + 1).some((e) => seen.has(e.eventName))).toBe(true);
    const all = [...log.visible("111111111111", t0 + 5000)].map((e) => e.eventTime);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(all).toHaveLength(20);
  });

  it("the same seed replays the same delays", () => {
    const delays = (seed: number): number[] => {
      const log = new CloudTrailLog();
      log.setDelay({ kind: "lognormal", medianMs: 100, p95Ms: 400 }, seed);
      return Array.from({ length: 10 }, (_, i) => log.append(admin, write(`u${i}`), 0)!.visibleAt);
    };
    expect(delays(9)).toEqual(delays(9));
    expect(delays(9)).not.toEqual(delays(10));
  });

  it("caps read-only events across accounts (oldest dropped), never write events; reads can be switched off", () => {
    const log = new CloudTrailLog();
    log.maxReadEvents = 1500;
    const accts = ["111111111111", "222222222222", "333333333333"];
    for (let i = 0; i < 6000; i++) {
      const accountId = accts[i % 3]!;
      log.append(admin, { ...write(`ListUsers${i}`), accountId, readOnly: true }, i);
      if (i % 100 === 0) log.append(admin, { ...write(`CreateUser${i}`), accountId }, i);
    }
    const reads = accts.flatMap((a) => log.all(a).filter((e) => e.readOnly));
    expect(reads).toHaveLength(1500);
    expect(Math.min(...reads.map((e) => e.eventTime))).toBe(4500);
    expect(accts.flatMap((a) => log.all(a).filter((e) => !e.readOnly))).toHaveLength(60);
    const visible = [...log.visible("111111111111", 10_000)];
    expect(visible.filter((e) => e.readOnly)).toHaveLength(500);
    expect(visible.filter((e) => !e.readOnly)).toHaveLength(20);
    expect(visible.map((e) => e.eventTime)).toEqual(visible.map((e) => e.eventTime).sort((a, b) => b - a));
    log.recordReads = false;
    expect(log.append(admin, { ...write("ListUsers"), readOnly: true })).toBeUndefined();
    expect(log.append(admin, write("CreateUser"))).toBeDefined();
  });

  it("records global services in us-east-1 and Identity Center in its Region; filters by Region", () => {
    const log = new CloudTrailLog();
    log.identityCenterRegion = "eu-west-1";
    log.append(admin, write("CreateUser"), 1);
    log.append(admin, { ...write("CreateGroupMembership"), eventSource: "identitystore.amazonaws.com" }, 2);
    log.append(admin, { ...write("CreateAccountAssignment"), eventSource: "sso.amazonaws.com" }, 3);
    log.append(admin, { ...write("AttachPolicy"), eventSource: "organizations.amazonaws.com" }, 4);
    const names = (r: string): string[] => [...log.visible("111111111111", 10, r)].map((e) => e.eventName);
    expect(names("us-east-1")).toEqual(["AttachPolicy", "CreateUser"]);
    expect(names("eu-west-1")).toEqual(["CreateAccountAssignment", "CreateGroupMembership"]);
    expect(log.all("111111111111").map((e) => e.record["awsRegion"])).toEqual([
      "us-east-1",
      "eu-west-1",
      "eu-west-1",
      "us-east-1",
    ]);
  });

  it("a failed call carries errorCode/errorMessage and no responseElements", () => {
    const log = new CloudTrailLog();
    const ev = log.append(admin, {
      ...write("AddUserToGroup"),
      responseElements: { x: 1 },
      error: { code: "NoSuchEntity", message: "The user with name nobody cannot be found." },
    })!;
    expect(ev.errorCode).toBe("NoSuchEntity");
    expect(ev.record).toMatchObject({
      errorCode: "NoSuchEntity",
      errorMessage: "The user with name nobody cannot be found.",
      responseElements: null,
      readOnly: false,
    });
  });
});
