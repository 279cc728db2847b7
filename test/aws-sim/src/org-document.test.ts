import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { generateOrg } from "./generate-org.ts";
import { OrgDocument } from "./org-document.ts";
import { startAwsSim } from "./sim.ts";

describe("OrgDocument", () => {
  it("the published JSON Schema is up to date", () => {
    const published = JSON.parse(
      readFileSync(new URL("../org.schema.json", import.meta.url), "utf8"),
    ) as Record<string, unknown>;
    expect({ title: "aws-sim OrgDocument", ...z.toJSONSchema(OrgDocument, { io: "input" }) }).toEqual(
      published,
    );
  });

  it("load → export round-trips, including after mutations", async () => {
    const doc = generateOrg("tiny", 21);
    const sim = await startAwsSim({ org: doc });
    try {
      const exported = sim.exportOrg();
      expect(JSON.parse(JSON.stringify(exported))).toEqual(
        JSON.parse(JSON.stringify(OrgDocument.parse(doc))),
      );
      sim.mutate.createIdentityStoreGroup({ displayName: "Round Trip" });
      const again = await startAwsSim({ org: sim.exportOrg() });
      try {
        expect(JSON.parse(JSON.stringify(again.exportOrg()))).toEqual(
          JSON.parse(JSON.stringify(sim.exportOrg())),
        );
        expect(again.managementCredentials).toEqual(sim.managementCredentials);
      } finally {
        await again.close();
      }
    } finally {
      await sim.close();
    }
  });

  it("a document without an IAM user with a key gets an aws-sim-admin user for managementCredentials", async () => {
    const doc = generateOrg("tiny", 1);
    doc.accounts[0]!.iam.users = [];
    const sim = await startAwsSim({ org: doc });
    try {
      expect(sim.managementCredentials.accessKeyId).toMatch(/^AKIA/);
      expect(sim.exportOrg().accounts[0]!.iam.users.map((u) => u.name)).toEqual(["aws-sim-admin"]);
    } finally {
      await sim.close();
    }
  });
});
