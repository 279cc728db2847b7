import { describe, expect, it } from "vitest";
import { createMetrics } from "@grantline/observability";
import { createAwsMetrics } from "./aws-metrics.ts";

describe("createAwsMetrics", () => {
  it("shows an open circuit as 1 and drops its series once it closes", async () => {
    const metrics = createMetrics({ service: "fetcher" });
    const aws = createAwsMetrics(metrics);
    const circuit = { sourceId: "acme", service: "iam", account: "111122223333" } as const;
    const series = async (): Promise<string[]> =>
      (await metrics.text()).split("\n").filter((l) => l.startsWith("grantline_aws_breaker_open{"));

    aws.onBreaker({ ...circuit, open: true });
    aws.onBreaker({ ...circuit, account: "444455556666", open: true });
    expect(await series()).toEqual([
      'grantline_aws_breaker_open{source="acme",service="iam",account="111122223333"} 1',
      'grantline_aws_breaker_open{source="acme",service="iam",account="444455556666"} 1',
    ]);
    aws.onBreaker({ ...circuit, open: false });
    expect(await series()).toEqual([
      'grantline_aws_breaker_open{source="acme",service="iam",account="444455556666"} 1',
    ]);
  });
});
