/**
 * `coord artifacts list/get` against a real sshd: a copy verified against the manifest's
 * size and sha256, and a tampered artifact refused with its copy deleted (exit 3).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseSingleJson } from '../support/cli.js';
import { describeSsh, startSshd, type Sshd } from '../support/sshd.js';
import { editOrigin, makeSshFleet, type Json, type SshFleet } from './ssh-fleet.js';

const JOB = 'job-20261130-101500-build2-a1b2c3d4e5f6';

describeSsh('coord artifacts: copy over ssh, verified against shared/artifacts.json', () => {
  let sshd: Sshd;
  let f: SshFleet;
  const onPeer = (name: string) => path.join(f.peer, '.git/coord/artifacts', JOB, name);
  const entry = (name: string, bytes: Buffer, over: Json = {}): Json => ({
    job_id: JOB, attempt: 1, builder: 'build2', name, path: onPeer(name), size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'), created_at: '2026-11-30T10:20:00Z', ...over,
  });
  const app = randomBytes(3 * 1024 * 1024 + 17);
  const notes = Buffer.from('release notes\n');
  beforeAll(async () => {
    sshd = await startSshd();
    f = await makeSshFleet(sshd);
    mkdirSync(path.dirname(onPeer('x')), { recursive: true });
    writeFileSync(onPeer('app.bin'), app);
    writeFileSync(onPeer('notes.txt'), notes);
    editOrigin(f.fleet, (files) => {
      files['shared/artifacts.json'].artifacts.push(entry('app.bin', app), entry('notes.txt', notes), entry('old.txt', notes, { job_id: 'job-other' }));
    }, ['shared/artifacts.json']);
  }, 120_000);
  afterAll(async () => {
    f?.cleanup();
    await sshd?.stop();
  });

  test('coord artifacts list --job shows the manifest entries of the job', async () => {
    const r = await f.coord(['artifacts', 'list', '--job', JOB, '--json']);
    expect(r.exitCode).toBe(0);
    const doc = parseSingleJson(r.stdout);
    expect((doc.artifacts as Json[]).map((a) => String(a.name))).toEqual(['app.bin', 'notes.txt']);
    const human = await f.coord(['artifacts', 'list']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/app\.bin .*3\.0 MiB/);
    expect(human.stdout).toMatch(/job-other/);
  });

  test('coord artifacts get JOB: every artifact copied, size and sha256 verified, nothing else left behind', async () => {
    const out = path.join(f.fleet.dir, 'out-all');
    const r = await f.coord(['artifacts', 'get', JOB, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/app\.bin \(3\.0 MiB, sha256 [0-9a-f]{16}… verified, from build2\)/);
    expect(readFileSync(path.join(out, 'app.bin')).equals(app)).toBe(true);
    expect(readFileSync(path.join(out, 'notes.txt')).equals(notes)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['app.bin', 'notes.txt']);
  });

  test('a tampered artifact (same size, one byte changed) is refused with exit 3 and its copy deleted', async () => {
    const bad = Buffer.from(app);
    bad[1000] = bad[1000] ^ 0xff;
    writeFileSync(onPeer('app.bin'), bad);
    const out = path.join(f.fleet.dir, 'out-tampered');
    const r = await f.coord(['artifacts', 'get', JOB, 'app.bin', '--out', out, '--json']);
    expect(r.exitCode).toBe(3);
    const doc = parseSingleJson(r.stdout);
    expect(doc.error).toMatchObject({ code: 'E_CHECKSUM', exit_code: 3 });
    expect(String((doc.error as Json).message)).toMatch(/artifact app\.bin of job .* from build2 does not match shared\/artifacts\.json \(sha256 differs\).*The copy was deleted/);
    expect(existsSync(path.join(out, 'app.bin'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
    writeFileSync(onPeer('app.bin'), app);
  });

  test('an artifact that grew on the builder is cut off at the recorded size and refused (exit 3)', async () => {
    writeFileSync(onPeer('notes.txt'), Buffer.concat([notes, Buffer.alloc(4096, 1)]));
    const out = path.join(f.fleet.dir, 'out-grown');
    const r = await f.coord(['artifacts', 'get', JOB, 'notes.txt', '--out', out]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/larger than recorded.*The copy was deleted/);
    expect(readdirSync(out)).toEqual([]);
    writeFileSync(onPeer('notes.txt'), notes);
  });

  test('an artifact gone from the builder: exit 5, naming the builder and the path there', async () => {
    const gone = Buffer.from('gone');
    editOrigin(f.fleet, (files) => { files['shared/artifacts.json'].artifacts.push(entry('gone.txt', gone)); }, ['shared/artifacts.json']);
    const r = await f.coord(['artifacts', 'get', JOB, 'gone.txt', '--out', path.join(f.fleet.dir, 'out-gone')]);
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toMatch(/build2 \(.*127\.0\.0\.1:\d+\) has no artifact gone\.txt of job .*\(.*\.git\/coord\/artifacts\/.*\/gone\.txt\)/);
  });

  test('a name that is not in the manifest: exit 5 listing what the job has', async () => {
    const r = await f.coord(['artifacts', 'get', JOB, 'nope.bin']);
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toMatch(/has no artifact "nope\.bin".*it has: app\.bin, gone\.txt, notes\.txt/);
  });
});
