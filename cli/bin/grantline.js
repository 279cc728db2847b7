#!/usr/bin/env node
// Runs the TypeScript entry through tsx (installed at the repo root); the container image runs the bundle.
import { register } from "tsx/esm/api";
register();
await import("../src/main.ts");
