/**
 * `coord validate` against bad input (issue 2, "Bad input"): each case runs the real command
 * line on a fresh `coord init` tree and asserts the exit code (3 invalid data, 2 usage), the
 * `file: /json/pointer: reason` line, and that nothing under the tree changed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { escapeRegExp, issueLineRe, parseSingleJson, PROJECT_ROOT, runCoordCli, runNode } from '../support/cli.js';
import { editJson, fingerprintTree, git, initGitRepo, makeCoordTree, makeTempDir, removeTree, writeJson, writeText } from '../support/tree.js';

const JOBS = 'coordination/jobs.json';
const MESSAGES = 'coordination/messages.json';
const LOCKS = 'coordination/locks.json';
const CONFIG = 'shared/build_config.json';
const TS = '2025-11-04T20:45:00Z';

type Obj = Record<string, unknown>;

function job(over: Obj = {}): Obj {
  return { id: 'job-20251104-204500-build1-0000aaaa', type: 'noop', priority: 5, status: 'queued', created_at: TS, ...over };
}

function message(over: Obj = {}): Obj {
  return {
    id: 'msg-20251104-204500-build1-0000bbbb', from: 'build1', to: 'build2', type: 'info', priority: 'normal',
    subject: 'hello', body: 'hello', timestamp: TS, read_by: [], acked_by: [], ...over,
  };
}

const writeJobs = (root: string, jobs: unknown[]) => writeJson(root, JOBS, { $schema: '../schemas/jobs.schema.json', paused: null, jobs });
const writeMessages = (root: string, messages: unknown[]) => writeJson(root, MESSAGES, { $schema: '../schemas/messages.schema.json', messages });

/** One bad input: what to break, which file to name, and what `coord validate` must say. */
interface BadInput {
  name: string;
  /** Path given to `coord validate` (relative to the tree, or absolute); null: validate everything. */
  target: string | ((root: string) => string) | null;
  setup: (root: string) => Promise<void>;
  exit: 2 | 3 | 5;
  /** exit 3: the issue lines that must appear, as [file, pointer, reason]. */
  lines?: [string, string, RegExp][];
  /** exit 2 and 5: the reason in `coord: error: TARGET: reason`. */
  usage?: RegExp;
}

/** A folder outside every tree (symlink targets, "outside the repository" paths). */
let outside: string;

const cases: BadInput[] = [
  // --- text level -------------------------------------------------------------------
  {
    name: 'truncated JSON (cut between values)', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, '{\n  "$schema": "../schemas/jobs.schema.json",\n  "jobs": [\n'),
    lines: [[JOBS, '/', /JSON ends early \(truncated file\?\)/]],
  },
  {
    // Bug fixed: a cut inside a string was reported as "invalid JSON at line N" (jsonc-parser
    // puts the error at the string's start), hiding the likely cause.
    name: 'truncated JSON (cut inside a string)', target: JOBS, exit: 3,
    setup: async (r) => { const t = await fs.readFile(path.join(r, JOBS), 'utf8'); await writeText(r, JOBS, t.slice(0, t.length - 8)); },
    lines: [[JOBS, '/', /JSON ends early \(truncated file\?\)/]],
  },
  {
    name: 'invalid JSON in the middle (line and column named)', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, '{\n  "jobs": [\n    {"id": 1 2}\n  ]\n}\n'),
    lines: [[JOBS, '/', /invalid JSON at line 3, column \d+.*\(line 3\)/]],
  },
  {
    name: 'trailing comma', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, '{"$schema": "../schemas/jobs.schema.json", "jobs": [],}\n'),
    lines: [[JOBS, '/', /invalid JSON at line 1/]],
  },
  {
    name: 'git conflict markers inside', target: MESSAGES, exit: 3,
    setup: (r) => writeText(r, MESSAGES, '{\n<<<<<<< HEAD\n  "messages": []\n=======\n  "messages": [1]\n>>>>>>> origin/main\n}\n'),
    lines: [
      [MESSAGES, '/', /conflict marker "<<<<<<<".*\(line 2\)/],
      [MESSAGES, '/', /conflict marker "=======".*\(line 4\)/],
      [MESSAGES, '/', /conflict marker ">>>>>>>".*\(line 6\)/],
    ],
  },
  {
    name: 'UTF-8 byte-order mark', target: JOBS, exit: 3,
    setup: async (r) => { const b = await fs.readFile(path.join(r, JOBS)); await writeText(r, JOBS, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b])); },
    lines: [[JOBS, '/', /byte-order mark/]],
  },
  {
    name: 'CRLF line ends', target: LOCKS, exit: 3,
    setup: async (r) => { const t = await fs.readFile(path.join(r, LOCKS), 'utf8'); await writeText(r, LOCKS, t.replace(/\n/g, '\r\n')); },
    lines: [[LOCKS, '/', /CRLF.*\(line 1\)/]],
  },
  {
    name: 'empty file (0 bytes)', target: MESSAGES, exit: 3,
    setup: (r) => writeText(r, MESSAGES, ''),
    lines: [[MESSAGES, '/', /file is empty/]],
  },
  {
    name: 'whitespace-only file', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, '  \n\t\n\n'),
    lines: [[JOBS, '/', /file is empty/]],
  },
  {
    name: 'invalid UTF-8', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, Buffer.concat([Buffer.from('{"jobs": [], "x": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')])),
    lines: [[JOBS, '/', /not valid UTF-8/]],
  },
  {
    name: 'a 50 MB file', target: JOBS, exit: 3,
    setup: async (r) => { await writeText(r, JOBS, '{"jobs": ['); await fs.truncate(path.join(r, JOBS), 50 * 1024 * 1024); },
    lines: [[JOBS, '/', /52428800 bytes, over the \d+-byte limit/]],
  },
  // --- what JSON.parse accepts but reads wrong ------------------------------------------
  {
    // Bug fixed: JSON.parse kept the later "jobs" and the hand-added job vanished silently
    // (validate exit 0, sync --commit "already up to date").
    name: 'duplicate key "jobs": a hand-added list above the existing one', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, [
      '{', '  "$schema": "../schemas/jobs.schema.json",', '  "paused": null,',
      `  "jobs": [${JSON.stringify(job())}],`, '  "jobs": []', '}', '',
    ].join('\n')),
    lines: [[JOBS, '/jobs', /duplicate key "jobs" \(the first is on line 4\): the later value would silently replace the earlier; merge them into one \(line 5\)/]],
  },
  {
    // Bug fixed: was only "/paused/at: required field is missing".
    name: 'duplicate key "paused"', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, '{\n  "$schema": "../schemas/jobs.schema.json",\n  "paused": {"by": "build1", "at": "2025-11-04T20:45:00Z", "reason": "x"},\n  "paused": {"by": "build2"},\n  "jobs": []\n}\n'),
    lines: [[JOBS, '/paused', /duplicate key "paused" \(the first is on line 3\).*\(line 4\)/]],
  },
  {
    name: 'duplicate key inside a message', target: MESSAGES, exit: 3,
    setup: (r) => writeText(r, MESSAGES, JSON.stringify({ $schema: '../schemas/messages.schema.json', messages: [message()] }, null, 2).replace('"body": "hello"', '"body": "hello",\n      "body": "again"') + '\n'),
    lines: [[MESSAGES, '/messages/0/body', /duplicate key "body" \(the first is on line \d+\)/]],
  },
  {
    // Bug fixed: "internal error: RangeError: Maximum call stack size exceeded", exit 1.
    name: 'nesting 2000 levels deep', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, `{\n  "$schema": "../schemas/jobs.schema.json",\n  "jobs": [],\n  "x": ${'['.repeat(2000)}${']'.repeat(2000)}\n}\n`),
    lines: [[JOBS, '/x/0/0/0', /nested more than 100 levels deep .*remove or flatten this value \(line 4\)/]],
  },
  {
    // Bug fixed: was "must be <= 10 (found number null)".
    name: 'priority 1e400', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, JSON.stringify({ $schema: '../schemas/jobs.schema.json', paused: null, jobs: [job({ priority: 12345 })] }, null, 2).replace('12345', '1e400') + '\n'),
    lines: [[JOBS, '/jobs/0/priority', /not a finite number \(1e400\)/]],
  },
  // --- top level ----------------------------------------------------------------------
  {
    name: 'top-level array in jobs.json', target: JOBS, exit: 3,
    setup: (r) => writeText(r, JOBS, '[]\n'),
    lines: [[JOBS, '/', /top level is an array/]],
  },
  {
    name: 'top-level array in messages.json', target: MESSAGES, exit: 3,
    setup: (r) => writeJson(r, MESSAGES, [message()]),
    lines: [[MESSAGES, '/', /top level is an array/]],
  },
  {
    name: 'top-level string in a heartbeat', target: 'build1/heartbeat.json', exit: 3,
    setup: (r) => writeText(r, 'build1/heartbeat.json', '"alive"\n'),
    lines: [['build1/heartbeat.json', '/', /top level is string/]],
  },
  {
    name: 'jobs.json without "jobs"', target: JOBS, exit: 3,
    setup: (r) => writeJson(r, JOBS, { $schema: '../schemas/jobs.schema.json' }),
    lines: [[JOBS, '/jobs', /required field is missing/]],
  },
  // --- jobs ---------------------------------------------------------------------------
  {
    name: 'wrong type: priority "high"', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ priority: 'high' })]),
    lines: [[JOBS, '/jobs/0/priority', /must be integer \(found string "high"\)/]],
  },
  {
    name: 'priority 0', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ priority: 0 })]),
    lines: [[JOBS, '/jobs/0/priority', /must be >= 1/]],
  },
  {
    name: 'priority 11', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job(), job({ id: 'job-2', priority: 11 })]),
    lines: [[JOBS, '/jobs/1/priority', /must be <= 10/]],
  },
  {
    name: 'priority 1.5', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ priority: 1.5 })]),
    lines: [[JOBS, '/jobs/0/priority', /must be integer/]],
  },
  {
    name: 'unknown job status', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ status: 'waiting' })]),
    lines: [[JOBS, '/jobs/0/status', /must be one of: queued, running.*"waiting"/]],
  },
  {
    name: 'two jobs with the same id', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job(), job({ priority: 2 })]),
    lines: [[JOBS, '/jobs/1/id', /duplicate job id "job-20251104-204500-build1-0000aaaa" \(also at \/jobs\/0\)/]],
  },
  {
    name: 'assigned_to a builder that does not exist', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ status: 'running', assigned_to: 'build7', attempt: 1 })]),
    lines: [[JOBS, '/jobs/0/assigned_to', /"build7" is not a configured builder \(configured: build1, build2/]],
  },
  {
    name: 'assigned_to that is not a builder id at all', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ assigned_to: 'server-a' })]),
    lines: [[JOBS, '/jobs/0/assigned_to', /not a builder id/]],
  },
  {
    name: 'running job assigned to nobody', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ status: 'running', assigned_to: null, attempt: 1 })]),
    lines: [[JOBS, '/jobs/0/assigned_to', /running but assigned to nobody/]],
  },
  {
    name: 'timestamp "yesterday"', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ created_at: 'yesterday' })]),
    lines: [[JOBS, '/jobs/0/created_at', /not a timestamp: string "yesterday"/]],
  },
  {
    name: 'impossible date "2025-02-30 10:00"', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ created_at: '2025-02-30 10:00' })]),
    lines: [[JOBS, '/jobs/0/created_at', /not a timestamp: string "2025-02-30 10:00"/]],
  },
  {
    name: 'a job carrying a command', target: JOBS, exit: 3,
    setup: (r) => writeJobs(r, [job({ command: 'rm -rf /' })]),
    lines: [[JOBS, '/jobs/0/command', /never carries a "command"/]],
  },
  // --- messages -----------------------------------------------------------------------
  {
    name: 'two messages with the same id', target: MESSAGES, exit: 3,
    setup: (r) => writeMessages(r, [message(), message({ body: 'again' })]),
    lines: [[MESSAGES, '/messages/1/id', /duplicate message id/]],
  },
  {
    name: 'message with an unknown type', target: MESSAGES, exit: 3,
    setup: (r) => writeMessages(r, [message({ type: 'gossip' })]),
    lines: [[MESSAGES, '/messages/0/type', /must be one of: info, warning, error, request \(found string "gossip"\)/]],
  },
  {
    name: 'message body over 10,000 characters', target: MESSAGES, exit: 3,
    setup: (r) => writeMessages(r, [message({ body: 'x'.repeat(10_001) })]),
    lines: [[MESSAGES, '/messages/0/body', /more than 10000 characters/]],
  },
  {
    name: 'message timestamp with an impossible offset', target: MESSAGES, exit: 3,
    setup: (r) => writeMessages(r, [message({ timestamp: '2025-11-04T20:45:00+25:00' })]),
    lines: [[MESSAGES, '/messages/0/timestamp', /not a timestamp/]],
  },
  // --- locks --------------------------------------------------------------------------
  {
    name: 'lock entry missing its token', target: LOCKS, exit: 3,
    setup: (r) => writeJson(r, LOCKS, {
      $schema: '../schemas/locks.schema.json',
      locks: { deploy: { locked_by: 'build1', locked_at: TS, expires_at: '2025-11-04T20:50:00Z' } },
    }),
    lines: [[LOCKS, '/locks/deploy/token', /required field is missing/]],
  },
  {
    name: 'lock name with characters a name cannot hold', target: LOCKS, exit: 3,
    setup: (r) => writeJson(r, LOCKS, {
      $schema: '../schemas/locks.schema.json',
      locks: { 'deploy now!': { locked_by: 'build1', locked_at: TS, expires_at: '2025-11-04T20:50:00Z', token: 'abcdef0123456789' } },
    }),
    lines: [[LOCKS, '/locks/deploy now!', /key "deploy now!" must match pattern/]],
  },
  {
    name: 'legacy lock array entry without a name', target: LOCKS, exit: 3,
    setup: (r) => writeJson(r, LOCKS, [{ owner: 'build1', timestamp: '2025-11-04 20:45' }]),
    lines: [[LOCKS, '/0', /legacy lock entry has no "name"/]],
  },
  // --- builder files ------------------------------------------------------------------
  {
    name: 'status.json naming another builder', target: 'build1/status.json', exit: 3,
    setup: (r) => editJson(r, 'build1/status.json', (d) => { d.builder = 'build2'; }),
    lines: [['build1/status.json', '/builder', /"build2" in build1\/: a builder writes only its own folder/]],
  },
  {
    name: 'heartbeat with a negative sequence', target: 'build2/heartbeat.json', exit: 3,
    setup: (r) => editJson(r, 'build2/heartbeat.json', (d) => { d.sequence = -1; }),
    lines: [['build2/heartbeat.json', '/sequence', /must be >= 0 \(found number -1\)/]],
  },
  {
    name: 'status with an unknown state', target: 'build2/status.json', exit: 3,
    setup: (r) => editJson(r, 'build2/status.json', (d) => { d.state = 'asleep'; }),
    lines: [['build2/status.json', '/state', /must be one of: idle/]],
  },
  // --- build config -------------------------------------------------------------------
  {
    name: 'allowed_builders naming an unknown builder', target: CONFIG, exit: 3,
    setup: (r) => editJson<{ job_types: { noop: Obj } }>(r, CONFIG, (d) => { d.job_types.noop.allowed_builders = ['build1', 'build5']; }),
    lines: [[CONFIG, '/job_types/noop/allowed_builders/1', /allowed builder "build5" is not a configured builder/]],
  },
  {
    name: 'job type command as a string', target: CONFIG, exit: 3,
    setup: (r) => editJson<{ job_types: { noop: Obj } }>(r, CONFIG, (d) => { d.job_types.noop.command = 'make all'; }),
    lines: [[CONFIG, '/job_types/noop/command', /must be array \(found string "make all"\)/]],
  },
  {
    name: 'builder key that is not a builder id', target: CONFIG, exit: 3,
    setup: (r) => editJson<{ builders: Obj }>(r, CONFIG, (d) => { d.builders.server1 = {}; }),
    lines: [[CONFIG, '/builders/server1', /key "server1" is not a builder id/]],
  },
  // --- archive ------------------------------------------------------------------------
  {
    name: 'archive whose month disagrees with its name', target: 'coordination/archive/jobs-2025-11.json', exit: 3,
    setup: (r) => writeJson(r, 'coordination/archive/jobs-2025-11.json', {
      $schema: '../../schemas/archive.schema.json', kind: 'jobs', month: '2025-10', records: [job({ status: 'completed' })],
    }),
    lines: [['coordination/archive/jobs-2025-11.json', '/month', /file name says month 2025-11/]],
  },
  // --- the file itself ----------------------------------------------------------------
  {
    name: 'a symlink to a file outside the repository', target: JOBS, exit: 3,
    setup: async (r) => { await fs.rm(path.join(r, JOBS)); await fs.symlink(path.join(outside, 'jobs.json'), path.join(r, JOBS)); },
    lines: [[JOBS, '/', /is a symbolic link \(to .*outside/]],
  },
  {
    name: 'a builder folder that is a symlink to outside the repository', target: 'build3/status.json', exit: 3,
    setup: (r) => fs.symlink(path.join(outside, 'build3'), path.join(r, 'build3')),
    lines: [['build3/status.json', '/', /folder is a link to .*outside the repository/]],
  },
  {
    name: 'a coordination file that does not exist', target: 'build2/heartbeat.json', exit: 3,
    setup: (r) => fs.rm(path.join(r, 'build2/heartbeat.json')),
    lines: [['build2/heartbeat.json', '/', /does not exist/]],
  },
  {
    name: 'every file at once: problems in two files', target: null, exit: 3,
    setup: async (r) => { await writeJobs(r, [job({ priority: 'high' })]); await editJson(r, 'build1/status.json', (d) => { d.builder = 'build2'; }); },
    lines: [[JOBS, '/jobs/0/priority', /must be integer/], ['build1/status.json', '/builder', /a builder writes only its own folder/]],
  },
  // --- usage --------------------------------------------------------------------------
  {
    name: 'an absolute path outside the repository', target: () => path.join(outside, 'jobs.json'), exit: 2,
    setup: () => Promise.resolve(),
    usage: /path is outside the repository/,
  },
  {
    name: 'a relative path climbing out of the repository', target: () => `../${path.basename(outside)}/jobs.json`, exit: 2,
    setup: () => Promise.resolve(),
    usage: /path is outside the repository/,
  },
  {
    name: 'a file in the repository that is not a coordination file', target: 'schemas/jobs.schema.json', exit: 2,
    setup: () => Promise.resolve(),
    usage: /not a coordination file/,
  },
  // --- not found ----------------------------------------------------------------------
  {
    // Bug fixed: was "not a coordination file (coordination/*.json, …)", exit 2.
    name: 'a file that does not exist under a name no coordination file has', target: 'coordination/nope.json', exit: 5,
    setup: () => Promise.resolve(),
    usage: /no such file; coord validate with no FILE checks every coordination file$/,
  },
  {
    name: 'a misspelled coordination file name', target: 'coordination/jbos.json', exit: 5,
    setup: () => Promise.resolve(),
    usage: /no such file \(did you mean coordination\/jobs\.json\?\)/,
  },
];

beforeAll(async () => {
  outside = await makeTempDir('coord-outside-');
  await writeJson(outside, 'jobs.json', { $schema: '../schemas/jobs.schema.json', paused: null, jobs: [] });
  await writeJson(outside, 'build3/status.json', { $schema: '../schemas/status.schema.json', builder: 'build3', state: 'idle', updated_at: TS });
});

afterAll(async () => {
  await removeTree(outside);
});

/** Runs `coord --repo ROOT validate ARGS` from inside the tree and checks nothing changed. */
async function validateUnchanged(root: string, args: string[], runAs: { uid?: number; gid?: number } = {}) {
  const before = await fingerprintTree(root);
  const res = await runCoordCli(['--repo', root, 'validate', ...args], { cwd: root, ...runAs });
  const after = await fingerprintTree(root);
  expect(after).toEqual(before);
  return res;
}

describe('coord validate: bad input', () => {
  test('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  test.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const root = await makeCoordTree({ prefix: 'coord-bad-' });
    try {
      await c.setup(root);
      const target = typeof c.target === 'function' ? c.target(root) : c.target;
      const res = await validateUnchanged(root, target === null ? [] : [target]);
      expect({ exit: res.exitCode, stderr: res.stderr }).toEqual({ exit: c.exit, stderr: expect.any(String) });
      if (c.exit === 3) {
        for (const [file, pointer, reason] of c.lines ?? []) expect(res.stdout).toMatch(issueLineRe(file, pointer, reason));
        expect(res.stderr).toMatch(/\d+ error\(s\)/);
      } else {
        expect(res.stdout).toBe('');
        expect(res.stderr).toMatch(new RegExp(`^coord: error: ${escapeRegExp(target ?? '')}: .*${c.usage!.source}`, 'm'));
      }
    } finally {
      await removeTree(root);
    }
  });

  test('an unreadable file (permissions) is reported, not skipped', async () => {
    const root = await makeCoordTree({ prefix: 'coord-perm-' });
    try {
      const abs = path.join(root, JOBS);
      let runAs: { uid?: number; gid?: number } = {};
      if (process.getuid?.() === 0) {
        // root reads a mode-000 file anyway: run the command as nobody (65534), with the
        // tree readable by others except the target.
        await chmodTree(root);
        await fs.chmod(abs, 0o000);
        runAs = { uid: 65534, gid: 65534 };
        const probe = await runNode([path.join(PROJECT_ROOT, 'bin/coord.js'), '--version'], { ...runAs, cwd: root });
        if (probe.exitCode !== 0) {
          console.warn(`skipped: user 65534 cannot run ${PROJECT_ROOT}/bin/coord.js (${probe.stderr.trim().split('\n')[0]})`);
          return;
        }
      } else {
        await fs.chmod(abs, 0o000);
        const readable = await fs.readFile(abs).then(() => true, () => false);
        if (readable) {
          console.warn('skipped: chmod 000 does not stop this user from reading (capabilities?) and we are not root');
          return;
        }
      }
      const res = await validateUnchanged(root, [JOBS], runAs);
      expect(res.exitCode).toBe(3);
      expect(res.stdout).toMatch(issueLineRe(JOBS, '/', /permission denied/));
      // Validating everything names it too, among the readable files.
      const all = await validateUnchanged(root, [], runAs);
      expect(all.exitCode).toBe(3);
      expect(all.stdout).toMatch(issueLineRe(JOBS, '/', /permission denied/));
    } finally {
      await removeTree(root);
    }
  });

  test('--json on an invalid file prints exactly one JSON document with ok:false and the issues', async () => {
    const root = await makeCoordTree({ prefix: 'coord-json-' });
    try {
      await writeJobs(root, [job({ priority: 'high' }), job({ id: 'job-2', status: 'waiting' })]);
      const res = await validateUnchanged(root, ['--json', JOBS]);
      expect(res.exitCode).toBe(3);
      const doc = parseSingleJson(res.stdout);
      expect(doc.ok).toBe(false);
      const files = doc.files as { file: string; ok: boolean; issues: { file: string; pointer: string; reason: string; severity: string }[] }[];
      expect(files).toHaveLength(1);
      expect(files[0].file).toBe(JOBS);
      expect(files[0].ok).toBe(false);
      expect(files[0].issues).toEqual(expect.arrayContaining([
        expect.objectContaining({ file: JOBS, pointer: '/jobs/0/priority', severity: 'error' }),
        expect.objectContaining({ file: JOBS, pointer: '/jobs/1/status', severity: 'error' }),
      ]));
      expect(doc.error_count).toBe(2);
    } finally {
      await removeTree(root);
    }
  });

  test('--json on a usage error prints exactly one JSON document with the error code', async () => {
    const root = await makeCoordTree({ prefix: 'coord-json-' });
    try {
      const res = await validateUnchanged(root, ['--json', path.join(outside, 'jobs.json')]);
      expect(res.exitCode).toBe(2);
      const doc = parseSingleJson(res.stdout);
      expect(doc).toMatchObject({ ok: false, error: { code: 'E_PATH', exit_code: 2 } });
    } finally {
      await removeTree(root);
    }
  });
});

describe('coord validate: good input', () => {
  test('a fresh `coord init` tree (made by the command itself) validates, and nothing is written', async () => {
    const root = await makeTempDir('coord-init-');
    try {
      const init = await runCoordCli(['init', '--builders', '2', '--dir', root]);
      expect(init.exitCode).toBe(0);
      const res = await validateUnchanged(root, []);
      expect(res.exitCode).toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/11 file\(s\) checked, 0 error\(s\), 0 warning\(s\)/);
    } finally {
      await removeTree(root);
    }
  });

  test('a legacy file without "$schema" (locks as an array, messages with a read flag) passes', async () => {
    const root = await makeCoordTree({ prefix: 'coord-legacy-' });
    try {
      await writeJson(root, LOCKS, [{ name: 'job_assignment', owner: 'build1', timestamp: '2025-11-04 20:45' }]);
      await writeJson(root, MESSAGES, { messages: [{ id: 'm1', from: 'build1', to: 'all', body: 'hi', timestamp: '2025-11-04 20:45:12', read: true }] });
      const res = await validateUnchanged(root, [LOCKS, MESSAGES]);
      expect(res.exitCode).toBe(0);
      expect(res.stderr).toMatch(/coordination\/locks\.json: legacy shape \(.*locks as an array.*\); coord migrate rewrites it/);
      expect(res.stderr).toMatch(/coordination\/messages\.json: legacy shape \(.*single "read" flag.*\)/);
    } finally {
      await removeTree(root);
    }
  });

  test('the project\'s own tree validates', async () => {
    const res = await runCoordCli(['--repo', PROJECT_ROOT, 'validate']);
    expect({ exit: res.exitCode, stdout: res.stdout }).toEqual({ exit: 0, stdout: '' });
  });
});

describe('coord validate --staged: record loss against HEAD', () => {
  const RUNNING = job({ id: 'job-running-1', status: 'running', assigned_to: 'build1', attempt: 1, started_at: TS });
  const DONE = job({ id: 'job-done-1', status: 'completed', assigned_to: 'build2', attempt: 1, started_at: TS, completed_at: TS, exit_code: 0 });
  const M1 = message({ id: 'msg-keep-1' });
  const M2 = message({ id: 'msg-lost-2', body: 'second' });
  let root: string;

  beforeEach(async () => {
    root = await makeCoordTree({ prefix: 'coord-staged-' });
    await writeJobs(root, [RUNNING, DONE]);
    await writeMessages(root, [M1, M2]);
    initGitRepo(root);
  });

  afterEach(async () => {
    await removeTree(root);
  });

  const staged = (...extra: string[]) => validateUnchanged(root, ['--staged', ...extra]);

  test('a committed valid tree with nothing staged passes', async () => {
    const res = await staged();
    expect(res.exitCode).toBe(0);
  });

  test('a staged messages.json that dropped a message names the missing id; --allow-removal lets it through', async () => {
    await writeMessages(root, [M1]);
    git(root, ['add', MESSAGES]);
    const res = await staged();
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toMatch(issueLineRe(MESSAGES, '/messages', /1 message removed without being archived: msg-lost-2;.*--allow-removal/));
    expect(res.stdout).not.toContain('msg-keep-1');
    const allowed = await staged('--allow-removal');
    expect(allowed.exitCode).toBe(0);
  });

  test('a staged jobs.json that lost a running job names it as running', async () => {
    await writeJobs(root, [DONE]);
    git(root, ['add', JOBS]);
    const res = await staged();
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toMatch(issueLineRe(JOBS, '/jobs', /job-running-1 \(running: job-running-1\)/));
  });

  test('moving a finished job into coordination/archive/jobs-YYYY-MM.json in the same change passes', async () => {
    await writeJobs(root, [RUNNING]);
    await writeJson(root, 'coordination/archive/jobs-2025-11.json', {
      $schema: '../../schemas/archive.schema.json', kind: 'jobs', month: '2025-11', records: [DONE],
    });
    git(root, ['add', '-A', 'coordination']);
    const res = await staged();
    expect({ exit: res.exitCode, stdout: res.stdout }).toEqual({ exit: 0, stdout: '' });
  });

  test('an archive that is only in the working tree (not staged) does not excuse the loss', async () => {
    await writeJobs(root, [RUNNING]);
    await writeJson(root, 'coordination/archive/jobs-2025-11.json', {
      $schema: '../../schemas/archive.schema.json', kind: 'jobs', month: '2025-11', records: [DONE],
    });
    git(root, ['add', JOBS]);
    const res = await staged();
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toMatch(issueLineRe(JOBS, '/jobs', /job-done-1/));
  });

  test('a staged messages.json emptied to 0 bytes is refused', async () => {
    await writeText(root, MESSAGES, '');
    git(root, ['add', MESSAGES]);
    const res = await staged('--allow-removal');
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toMatch(issueLineRe(MESSAGES, '/', /file is empty/));
  });

  test('a staged deletion of messages.json names every lost id', async () => {
    git(root, ['rm', '-q', MESSAGES]);
    const res = await staged();
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toMatch(issueLineRe(MESSAGES, '/messages', /file deleted: 2 messages removed without being archived: msg-keep-1, msg-lost-2/));
  });

  test('the staged version is judged, not the working tree', async () => {
    await writeJobs(root, [RUNNING, job({ id: 'job-bad', priority: 'high' })]);
    git(root, ['add', JOBS]);
    await writeJobs(root, [RUNNING, DONE]);
    const res = await staged();
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toMatch(issueLineRe(JOBS, '/jobs/1/priority', /must be integer/));
  });
});

/** Makes every folder 755 and file 644 (so user 65534 can read what root created). */
async function chmodTree(root: string): Promise<void> {
  const walk = async (abs: string): Promise<void> => {
    const st = await fs.lstat(abs);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      await fs.chmod(abs, 0o755);
      for (const n of await fs.readdir(abs)) await walk(path.join(abs, n));
    } else await fs.chmod(abs, 0o644);
  };
  await walk(root);
}
