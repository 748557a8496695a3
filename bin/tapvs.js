#!/usr/bin/env node
// The `tapvs` command. An installed package runs the compiled CLI in dist/.
// A checkout (src/ present, dev dependencies installed) runs the TypeScript
// sources through tsx, so an edit takes effect at once and a stale dist/ left
// by `npm run build` or `npm pack` is never what the tests exercise.
// TAPVS_DIST=1 runs dist/ from a checkout too.
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const argv = process.argv.slice(2);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === 'version')) {
  const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  process.stdout.write(`tapvs ${version}\n`);
  process.exit(0);
}

const source = new URL('src/cli/main.ts', root);
const built = new URL('dist/cli/main.js', root);

function tsxApi() {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
}

let entry;
const api = !process.env.TAPVS_DIST && existsSync(source) ? tsxApi() : undefined;
if (api) {
  const { register } = await import(api);
  register();
  entry = source;
} else if (existsSync(built)) {
  entry = built;
} else {
  process.stderr.write(
    existsSync(source)
      ? 'tapvs: no build in dist/ and no tsx to run the sources: run `npm ci` (or `npm run build`)\n'
      : 'tapvs: dist/cli/main.js is missing: this package was packed without its build\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(argv);
