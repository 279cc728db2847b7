import { PermanentError, type PageResult, type ResultBatch } from "@grantline/contracts";
import { mapDiagPage } from "./diag.ts";

export type PageMapper = (result: PageResult) => ResultBatch;

/** Mappers by `service.operation`. Adding an AWS operation means adding a pure function here. */
const MAPPERS: Record<string, PageMapper> = {
  "diag.Pages": mapDiagPage,
};

/** Maps a raw page to its batch; an operation nobody maps is a permanent error (dead letter), not a retry. */
export function mapPage(result: PageResult): ResultBatch {
  const key = `${result.request.service}.${result.request.operation}`;
  const mapper = MAPPERS[key];
  if (!mapper) throw new PermanentError("unknown-operation", `no mapper for ${key}`);
  return mapper(result);
}
