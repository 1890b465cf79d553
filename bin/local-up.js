#!/usr/bin/env node
// Thin launcher: answers --version without loading the CLI, then hands over to dist/.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  let cli;
  try {
    cli = await import('../dist/cli/main.js');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
    process.stderr.write('error: kube-local-up is not built\nhint: run `npm ci` (or `npm run build`) in the kube-local-up folder\n');
    process.exit(3);
  }
  await cli.main(argv);
}
