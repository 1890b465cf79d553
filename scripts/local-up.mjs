#!/usr/bin/env node
// `npm run <command> -- [args]` runs `local-up <command> [args]` from this checkout.
// Thin on purpose: all behaviour lives in src/ (built to dist/).
import { main } from '../dist/cli/main.js';

await main(process.argv.slice(2));
