/**
 * Configuration: one pure `load<Service>Config(env)` per service and the sources file schema. Nothing reads
 * `process.env` at import time; an invalid value throws `ConfigError` with one line naming the field.
 *
 * @example
 * // In a service's main: a bad value prints one line naming it and exits 2.
 * const config = exitOnConfigError("writer", () => loadWriterConfig(process.env));
 */
export { ConfigError } from "./config-error.ts";
export {
  loadSchedulerConfig,
  loadFetcherConfig,
  loadMapperConfig,
  loadWriterConfig,
  loadCliConfig,
} from "./load-config.ts";
export type {
  Env,
  SchedulerConfig,
  FetcherConfig,
  MapperConfig,
  WriterConfig,
  CliConfig,
} from "./load-config.ts";
export {
  SourcesFile,
  SourceConfig,
  AssumeRoleHop,
  Budgets,
  Duration,
  FeedsConfig,
  FEED_LOOKBACK_MAX_MS,
  parseSources,
  loadSourcesFile,
} from "./sources-file.ts";
export { exitOnConfigError } from "./exit-on-config-error.ts";
