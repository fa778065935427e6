/**
 * `coord init --ci github`: adds the validation workflow for hosted remotes, keeps an
 * existing one, hard-codes no path; its YAML parses and its shell steps are valid bash.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GITHUB_WORKFLOW_PATH, INSTALL_SCRIPT, RECORD_LOSS_SCRIPT } from '../../lib/commands/ci-workflow.js';
import { runCoordCli } from '../support/cli.js';
import { makeTempDir, removeTree } from '../support/tree.js';

let dir: string;
beforeEach(async () => { dir = await makeTempDir('coord-init-ci-'); });
afterEach(async () => { await removeTree(dir); });

test('adds .github/workflows/coord-validate.yml once; a second run keeps it', async () => {
  const first = await runCoordCli(['init', '--ci', 'github', '--dir', dir]);
  expect(first.exitCode).toBe(0);
  expect(first.stdout).toContain(`created ${GITHUB_WORKFLOW_PATH}`);
  const file = path.join(dir, GITHUB_WORKFLOW_PATH);
  const text = readFileSync(file, 'utf8');

  // Parses as YAML, runs on push and pull_request, and validates.
  const yaml = createRequire(import.meta.url)('js-yaml') as { load(s: string): unknown };
  const wf = yaml.load(text) as { on: Record<string, unknown>; jobs: { validate: { steps: { run?: string; uses?: string }[] } } };
  expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push']);
  const runs = wf.jobs.validate.steps.map((s) => s.run ?? '').join('\n');
  expect(runs).toContain('$COORD validate');
  expect(runs).toContain('$COORD validate --staged');
  expect(runs).toContain('node bin/coord.js');
  // No path of this machine or this checkout.
  expect(text).not.toMatch(/\/(work|root|home|tmp|srv|usr\/local)\//);
  expect(text).not.toContain(dir);

  writeFileSync(file, text + '# local change\n');
  const second = await runCoordCli(['init', '--ci', 'github', '--dir', dir, '--json']);
  expect(second.exitCode).toBe(0);
  expect(JSON.parse(second.stdout)).toMatchObject({ ok: true, created: [], kept: expect.arrayContaining([GITHUB_WORKFLOW_PATH]) });
  expect(readFileSync(file, 'utf8')).toBe(text + '# local change\n');
});

test('without --ci no workflow is added; an unknown CI is a usage error', async () => {
  const plain = await runCoordCli(['init', '--dir', dir, '--json']);
  expect(JSON.parse(plain.stdout).created).not.toContain(GITHUB_WORKFLOW_PATH);
  const bad = await runCoordCli(['init', '--ci', 'jenkins', '--dir', dir]);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toMatch(/ci/);
});

test.each([['install', INSTALL_SCRIPT], ['record loss', RECORD_LOSS_SCRIPT]])('the %s step is valid bash', (_name, lines) => {
  const r = spawnSync('bash', ['-n'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('init keeps the machine-local identity file out of git: .gitignore gains .build_server_id once, other lines kept', async () => {
  writeFileSync(path.join(dir, '.gitignore'), 'node_modules/');
  const first = await runCoordCli(['init', '--dir', dir, '--json']);
  expect(first.exitCode).toBe(0);
  expect(JSON.parse(first.stdout).updated).toContain('.gitignore');
  expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n.build_server_id\n');
  const second = await runCoordCli(['init', '--dir', dir, '--json']);
  expect(JSON.parse(second.stdout).kept).toContain('.gitignore');
  expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n.build_server_id\n');
});
