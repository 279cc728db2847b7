/**
 * Configuration: one pure `load<Service>Config(env)` per service and the sources file schema. Nothing reads
 * `process.env` at import time; an invalid value throws `ConfigError` with one line naming the field.
 *
 * @example
 * try { const config = loadWriterConfig(process.env); } catch (err) { if (err instanceof ConfigError) exitWithConfigError(err); throw err; }
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
  parseSources,
  loadSourcesFile,
} from "./sources-file.ts";
export { exitOnConfigError } from "./exit-on-config-error.ts";
