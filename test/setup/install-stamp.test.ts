/**
 * setup_build.sh's dependency and build steps: `npm ci` only when node_modules is missing or
 * package-lock.json changed (a stamp in node_modules records what was installed), a build
 * only when the sources changed (a stamp in dist/). Run against a small copy of the package
 * (package files, scripts/ and lib/ copied; bin/ linked to this one) with a fake `npm` on
 * PATH that logs its calls, so no test ever runs the real npm ci.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/git-fixture.js';
import { makeSetupFixture, runScript, type SetupFixture } from '../support/setup-fixture.js';

let f: SetupFixture;
let pkg: string;
let npmLog: string;
let fakeBin: string;

beforeAll(async () => {
  f = await makeSetupFixture(3);
  pkg = path.join(f.fleet.dir, 'pkg');
  mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/setup_build.sh']) cpSync(path.join(ROOT, file), path.join(pkg, file));
  cpSync(path.join(ROOT, 'lib'), path.join(pkg, 'lib'), { recursive: true });
  symlinkSync(path.join(ROOT, 'bin'), path.join(pkg, 'bin'));
  npmLog = path.join(f.fleet.dir, 'npm.log');
  writeFileSync(npmLog, '');
  fakeBin = path.join(f.fleet.dir, 'fakebin');
  mkdirSync(fakeBin);
  // `npm ci` installs and (prepare) builds; `npm run build` builds. Both only leave marks.
  writeFileSync(path.join(fakeBin, 'npm'), [
    '#!/bin/sh',
    `echo "npm $*" >> '${npmLog}'`,
    'case "$1" in ci) mkdir -p node_modules ;; esac',
    'mkdir -p dist/cli && touch dist/cli/coord.js',
  ].join('\n') + '\n', { mode: 0o755 });
});
afterAll(() => f.fleet.cleanup());

const run = (extra: string[] = []) => runScript(['3', '--repo', f.clone, '--prefix', f.prefix, '--no-cron', '--no-systemd', ...extra], {
  script: path.join(pkg, 'scripts/setup_build.sh'), path: `${fakeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
});
const npmCalls = () => readFileSync(npmLog, 'utf8').split('\n').filter(Boolean);

test('first run: npm ci (which builds), stamps written', async () => {
  const r = await run();
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  expect(r.steps.get('dependencies')).toBe('done (npm ci: node_modules is missing)');
  expect(r.steps.get('build')).toBe('done (by npm ci\'s prepare script)');
  expect(npmCalls()).toEqual(['npm ci --no-audit --no-fund']);
  expect(readFileSync(path.join(pkg, 'node_modules/.coord-setup-stamp'), 'utf8')).toMatch(/^lock=[0-9a-f]{64} node=\d+\n$/);
  expect(existsSync(path.join(pkg, 'dist/.coord-build-stamp'))).toBe(true);
});

test('second run: both already done, npm not called', async () => {
  const r = await run();
  expect(r.steps.get('dependencies')).toBe('already done (node_modules matches package-lock.json)');
  expect(r.steps.get('build')).toBe('already done (dist/ matches the sources)');
  expect(npmCalls()).toHaveLength(1);
});

test('changed sources: --dry-run only says so; a real run builds without reinstalling', async () => {
  appendFileSync(path.join(pkg, 'lib/errors.ts'), '\n// changed\n');
  const stamp = readFileSync(path.join(pkg, 'dist/.coord-build-stamp'), 'utf8');
  const dry = await run(['--dry-run']);
  expect(dry.steps.get('build')).toBe(`would do (npm run build in ${pkg})`);
  expect(npmCalls()).toHaveLength(1);
  expect(readFileSync(path.join(pkg, 'dist/.coord-build-stamp'), 'utf8')).toBe(stamp);

  const r = await run();
  expect(r.steps.get('dependencies')).toMatch(/^already done/);
  expect(r.steps.get('build')).toBe('done (npm run build)');
  expect(npmCalls()).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
});

test('a changed package-lock.json: npm ci again', async () => {
  appendFileSync(path.join(pkg, 'package-lock.json'), '\n');
  const r = await run();
  expect(r.steps.get('dependencies')).toBe('done (npm ci: package-lock.json or the node major version changed)');
  expect(npmCalls().at(-1)).toBe('npm ci --no-audit --no-fund');
});
