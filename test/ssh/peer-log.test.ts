/**
 * Following a running job's live log on its builder over ssh, against a real sshd: bytes
 * written to `<clone>/.git/coord/logs/<job>.log` while the follow runs arrive as they are
 * written, and the follow ends at the runner's end line.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync } from '../support/git-fixture.js';
import { parseSingleJson } from '../support/cli.js';
import { describeSsh, startSshd, waitUntil, type Sshd } from '../support/sshd.js';
import { followPeerLog } from '../../lib/ssh/peer-log.js';
import { editOrigin, makeSshFleet, runningJob, type SshFleet } from './ssh-fleet.js';

describeSsh('live log of a running job, read on its builder', () => {
  let sshd: Sshd;
  let f: SshFleet;
  const logOf = (id: string) => path.join(f.peer, '.git/coord/logs', `${id}.log`);
  beforeAll(async () => {
    sshd = await startSshd();
    f = await makeSshFleet(sshd);
    mkdirSync(path.join(f.peer, '.git/coord/logs'), { recursive: true });
    editOrigin(f.fleet, (files) => { files['coordination/jobs.json'].jobs.push(runningJob('job-live-1', 'build2'), runningJob('job-live-2', 'build2')); }, ['coordination/jobs.json']);
    gitSync(f.observer, ['fetch', '-q', 'origin']);
  }, 120_000);
  afterAll(async () => {
    f?.cleanup();
    await sshd?.stop();
  });

  test('followPeerLog waits for the log, streams what is written while it follows, and stops at the end line', async () => {
    const file = logOf('job-live-1');
    const got: string[] = [];
    const text = () => got.join('');
    let stopped = false;
    const follow = followPeerLog(f.observer, 'build2', 'job-live-1', (t) => got.push(t), (s) => s.endMarkerSeen, { env: f.env, pollMs: 100 })
      .finally(() => { stopped = true; });
    // The job has not written anything yet: the follow waits instead of failing.
    await new Promise((r) => setTimeout(r, 400));
    expect(stopped).toBe(false);
    writeFileSync(file, '[coord] build2 runs /bin/sh build.sh (job job-live-1, attempt 1)\n');
    await waitUntil(() => text().includes('runs /bin/sh'), 10_000, 'the first line');
    for (let i = 1; i <= 3; i++) {
      appendFileSync(file, `step ${i} of 3\n`);
      await waitUntil(() => text().includes(`step ${i} of 3\n`), 10_000, `step ${i}`);
      expect(stopped).toBe(false);
    }
    // A character split across two writes (and so across two polls) arrives whole.
    appendFileSync(file, Buffer.from([0xc3]));
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(file, Buffer.from([0xa9, 0x0a]));
    await waitUntil(() => text().includes('é\n'), 10_000, 'the split character');
    appendFileSync(file, '[coord] completed (exit 0)\n');
    const r = await follow;
    expect(r.ended).toBe('until');
    expect(r.endMarkerSeen).toBe(true);
    expect(text()).toBe(readFileSync(file, 'utf8'));
    expect(text()).not.toContain('\ufffd');
  });

  test('coord jobs logs ID --follow tails the running job on build2 over ssh until its end line', async () => {
    const file = logOf('job-live-2');
    writeFileSync(file, '[coord] build2 runs /bin/sh slow.sh (job job-live-2, attempt 1)\nfirst\n');
    const run = f.coord(['jobs', 'logs', 'job-live-2', '--follow', '--interval', '1'], {}, 120_000);
    await new Promise((r) => setTimeout(r, 2500));
    appendFileSync(file, 'second\n');
    await new Promise((r) => setTimeout(r, 1500));
    appendFileSync(file, '[coord] completed (exit 0)\n');
    const r = await run;
    expect(r.stderr).toMatch(/job-live-2: attempt ended on build2 \(live log via ssh\)/);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(readFileSync(file, 'utf8'));
  }, 120_000);

  test('coord jobs logs ID --direct --json reads the whole live log once, marked source ssh', async () => {
    const r = await f.coord(['jobs', 'logs', 'job-live-2', '--direct', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = parseSingleJson(r.stdout);
    expect(doc).toMatchObject({ ok: true, job_id: 'job-live-2', builder: 'build2', source: 'ssh', skipped: 0 });
    expect(doc.log).toBe(readFileSync(logOf('job-live-2'), 'utf8'));
  });

  test('remote unreachable: coord jobs logs ID (no flag) reads the live log on the builder, saying why', async () => {
    const url = gitSync(f.observer, ['remote', 'get-url', 'origin']);
    gitSync(f.observer, ['remote', 'set-url', 'origin', path.join(f.fleet.dir, 'gone.git')]);
    try {
      const r = await f.coord(['jobs', 'logs', 'job-live-2']);
      expect(r.stderr).toMatch(/warning: remote origin not reachable/);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(readFileSync(logOf('job-live-2'), 'utf8'));
    } finally {
      gitSync(f.observer, ['remote', 'set-url', 'origin', url]);
    }
  });

  test('coord jobs logs ID --direct for a job with no log on the builder: exit 5, naming the file', async () => {
    editOrigin(f.fleet, (files) => { files['coordination/jobs.json'].jobs.push(runningJob('job-no-log', 'build2')); }, ['coordination/jobs.json']);
    const r = await f.coord(['jobs', 'logs', 'job-no-log', '--direct']);
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toMatch(/build2 \(.*127\.0\.0\.1:\d+\) has no log of job job-no-log \(.*\/\.git\/coord\/logs\/job-no-log\.log\)/);
  });
});
