/**
 * The e2e package's entry, for callers outside it (the benchmark): the ground truth a synced organization's rows
 * are checked against, and the one shape those rows take whichever sync produced them.
 *
 * @example
 * const diff = diffRows(expectedRows(org), rows); // [] when equal
 */
export {
  diffRows,
  expectedIamRows,
  expectedRows,
  type ActualRows,
  type ExpectedRows,
} from "./ground-truth.ts";
