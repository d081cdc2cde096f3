#!/usr/bin/env node
/**
 * The `edgemq` command: `edgemq <pub|sub|clea validate> [flags]`. Flags follow mosquitto_pub/mosquitto_sub where they
 * exist. Exit codes: 0 done, 1 usage error, 2 connection or protocol failure. It uses only the package's public entries
 * ("edgemq" and "edgemq/clea"), as a user's program would.
 */
import { run } from "./run.js";

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
