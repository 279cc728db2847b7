/**
 * The logging this package needs. `Logger` from `@grantline/log` satisfies it; declaring it structurally keeps
 * this package free of a dependency on the logging library.
 */
export interface RedisLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
