import type { z } from "zod";

/** Invalid configuration. Its message is one line naming the field, meant to be printed as-is, without a stack. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }

  static fromZod(where: string, error: z.ZodError): ConfigError {
    const first = error.issues[0];
    const path = first?.path.length ? first.path.join(".") : "(root)";
    const more =
      error.issues.length > 1
        ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})`
        : "";
    return new ConfigError(`invalid configuration: ${where}${path}: ${first?.message ?? "invalid"}${more}`);
  }
}
