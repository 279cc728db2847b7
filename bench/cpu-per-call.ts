// CPU milliseconds per AWS call: what a sync costs the machine per unit of work it exists to do (issue 17). The
// gate (check-gate.ts) and the full-sync report both divide by the same count — aws-sim's attempts, throttled
// ones included — so their figures are comparable.

/** The grantline services of a run (not aws-sim, Postgres or NATS, which `cpuS` also measures). */
export const isService = (name: string): boolean => /^(scheduler|fetcher(-\d+)?|mapper|writer)$/.test(name);

export interface CpuPerCall {
  calls: number;
  /** Every measured process (services first, in the order measured), with its CPU seconds and ms per call. */
  processes: Array<{ name: string; service: boolean; cpuS: number; msPerCall: number }>;
  /** The grantline services together. */
  servicesCpuS: number;
  servicesMsPerCall: number;
  /**
   * The services' CPU seconds per CPU second of aws-sim: aws-sim does the same work for the same calls on any
   * machine, so this compares runs whose milliseconds do not (one VM measured 1.7 × slower on one day than the
   * day before, services and aws-sim alike). Null without an aws-sim figure.
   */
  servicesPerSimCpu: number | null;
}

const perCall = (cpuS: number, calls: number): number => (calls > 0 ? (cpuS * 1000) / calls : Infinity);

/** `cpuS` (CPU seconds per process over the run) ÷ the run's AWS calls. */
export function cpuPerCall(cpuS: Record<string, number>, calls: number): CpuPerCall {
  const entries = Object.entries(cpuS);
  const ordered = [...entries.filter(([n]) => isService(n)), ...entries.filter(([n]) => !isService(n))];
  const servicesCpuS = entries.filter(([n]) => isService(n)).reduce((s, [, v]) => s + v, 0);
  return {
    calls,
    processes: ordered.map(([name, v]) => ({
      name,
      service: isService(name),
      cpuS: v,
      msPerCall: perCall(v, calls),
    })),
    servicesCpuS: Math.round(servicesCpuS * 100) / 100,
    servicesMsPerCall: perCall(servicesCpuS, calls),
    servicesPerSimCpu: cpuS["aws-sim"] ? Math.round((servicesCpuS / cpuS["aws-sim"]) * 100) / 100 : null,
  };
}
