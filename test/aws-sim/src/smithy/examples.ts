// The documented request/response examples (`smithy.api#examples`) of the IAM, STS and Organizations
// operations aws-sim emulates, pulled from the published models. Run this file to print them as a JSON
// fixture: `node --import tsx test/aws-sim/src/smithy/examples.ts`.
import { loadModel, operationExamples } from "./smithy-model.ts";
import type { ModelName } from "./smithy-model.ts";

export type ExampleService = "iam" | "sts" | "organizations";

export const EXAMPLE_MODELS: Record<ExampleService, ModelName> = {
  iam: "iam-2010-05-08",
  sts: "sts-2011-06-15",
  organizations: "organizations-2016-11-28",
};

/** Operations of the example-bearing services that aws-sim supports. */
export const SUPPORTED_EXAMPLE_OPERATIONS: Record<ExampleService, readonly string[]> = {
  iam: [
    "ListUsers",
    "GetUser",
    "ListGroups",
    "GetGroup",
    "ListGroupsForUser",
    "ListRoles",
    "GetRole",
    "ListPolicies",
    "GetPolicy",
    "GetPolicyVersion",
    "ListAttachedUserPolicies",
    "ListAttachedGroupPolicies",
    "ListAttachedRolePolicies",
    "ListUserPolicies",
    "ListGroupPolicies",
    "ListRolePolicies",
    "GetUserPolicy",
    "GetGroupPolicy",
    "GetRolePolicy",
    "ListAccessKeys",
    "GetAccessKeyLastUsed",
    "GetAccountAuthorizationDetails",
    "ListAccountAliases",
    "CreateUser",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
  ],
  sts: ["GetCallerIdentity", "AssumeRole"],
  organizations: [
    "DescribeOrganization",
    "ListAccounts",
    "DescribeAccount",
    "ListRoots",
    "ListOrganizationalUnitsForParent",
    "ListParents",
  ],
};

export interface OperationExample {
  service: ExampleService;
  operation: string;
  /** Stable id: `service:Operation#index`. */
  id: string;
  title: string;
  input: Record<string, unknown>;
  /** Documented output (timestamps as ISO strings, as the model writes them); undefined for operations without output. */
  output: Record<string, unknown> | undefined;
  /** Documented error, when the example shows one. */
  error: { shapeId: string; content: Record<string, unknown> } | undefined;
}

/** Every documented example of the supported operations, in model order. */
export function supportedExamples(): OperationExample[] {
  const out: OperationExample[] = [];
  for (const service of Object.keys(SUPPORTED_EXAMPLE_OPERATIONS) as ExampleService[]) {
    const model = loadModel(EXAMPLE_MODELS[service]);
    for (const operation of SUPPORTED_EXAMPLE_OPERATIONS[service]) {
      operationExamples(model, operation).forEach((ex, i) => {
        out.push({
          service,
          operation,
          id: `${service}:${operation}#${i}`,
          title: ex.title,
          input: ex.input ?? {},
          output: ex.output,
          error: ex.error,
        });
      });
    }
  }
  return out;
}

/** Supported operations the models give no example for. */
export function operationsWithoutExamples(): string[] {
  const withExamples = new Set(supportedExamples().map((e) => `${e.service}:${e.operation}`));
  return (Object.keys(SUPPORTED_EXAMPLE_OPERATIONS) as ExampleService[]).flatMap((s) =>
    SUPPORTED_EXAMPLE_OPERATIONS[s].filter((op) => !withExamples.has(`${s}:${op}`)).map((op) => `${s}:${op}`),
  );
}

/** The examples as a JSON fixture text (what running this file prints). */
export function examplesFixture(): string {
  return `${JSON.stringify({ examples: supportedExamples(), withoutExamples: operationsWithoutExamples() }, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.stdout.write(examplesFixture());
}
