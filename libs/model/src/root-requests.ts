import type { PageRequest } from "@grantline/contracts";
import { diagRoot } from "./diag.ts";

export interface RootSource {
  id: string;
  kind: "aws" | "diag";
  diag: { pages: number; itemsPerPage: number; failUntilDelivery: number };
}

/** The first tasks of a full run of `source`; every other task descends from them. */
export function rootRequests(source: RootSource, runId: string): PageRequest[] {
  if (source.kind === "diag") return [diagRoot(runId, source.id, source.diag)];
  throw new Error(`full sync of AWS sources is not available yet (source ${source.id})`);
}
