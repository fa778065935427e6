/**
 * `coord dashboard` bad command lines, through the real CLI: each gets its documented exit
 * code and a message naming the problem, and nothing is written — not the page, not
 * shared/health_dashboard.json, not the clone's git state (nothing is even fetched).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeFleet, type Fleet } from '../support/git-fixture.js';
import { coord } from '../support/operator.js';
import { fingerprintTree } from '../support/tree.js';

describe('coord dashboard: bad input', () => {
  let fleet: Fleet;
  let clone: string;
  let outDir: string;
  beforeAll(async () => {
    fleet = await makeFleet(2);
    clone = fleet.clones.build1;
    outDir = path.join(fleet.dir, 'site');
    mkdirSync(outDir);
    // Special files --out must not replace: a FIFO, a symlink (to a real page), a file used as a folder.
    execFileSync('mkfifo', [path.join(outDir, 'pipe.html')]);
    writeFileSync(path.join(outDir, 'real.html'), 'the real page\n');
    symlinkSync('real.html', path.join(outDir, 'link.html'));
  });
  afterAll(() => fleet.cleanup());

  const cases: { name: string; args: string[]; code: number; message: RegExp }[] = [
    { name: 'neither --out nor --serve', args: [], code: 2, message: /name what to do: --out FILE .*--serve \[PORT\]/ },
    { name: '--out in a folder that does not exist', args: ['--out', '../missing/fleet.html'], code: 5, message: /folder .*missing does not exist; create it first/ },
    { name: '--out naming a folder', args: ['--out', '../site'], code: 2, message: /is a folder; give a file name/ },
    { name: '--out over a coordination file', args: ['--out', 'coordination/jobs.json'], code: 2, message: /refusing to write the page over coordination\/jobs\.json/ },
    { name: '--out over a builder file', args: ['--out', 'build1/status.json'], code: 2, message: /refusing to write the page over build1\/status\.json/ },
    { name: '--out with an empty name', args: ['--out', ''], code: 2, message: /--out needs a file name/ },
    { name: '--serve with a port that is not a number', args: ['--serve', 'http'], code: 2, message: /--serve "http": give a whole number from 0 to 65535/ },
    { name: '--serve with a port out of range', args: ['--serve', '70000'], code: 2, message: /--serve 70000: must be from 0 to 65535/ },
    { name: '--serve PORT and --port disagreeing', args: ['--serve', '9000', '--port', '9001'], code: 2, message: /--serve 9000 and --port 9001 disagree/ },
    { name: '--port without --serve', args: ['--out', '../site/a.html', '--port', '9000'], code: 2, message: /--port needs --serve: --port, --host and --interval go with --serve/ },
    { name: '--port alone', args: ['--port', '0'], code: 2, message: /--port needs --serve/ },
    { name: '--host and --interval alone', args: ['--host', '127.0.0.1', '--interval', '1'], code: 2, message: /--host and --interval need --serve/ },
    { name: '--out given twice', args: ['--out', '../site/a.html', '--out', '../site/b.html'], code: 2, message: /--out given twice; give it once/ },
    { name: '--serve given twice', args: ['--serve', '0', '--serve', '0'], code: 2, message: /--serve given twice/ },
    { name: '--no-aggregate with --serve only', args: ['--serve', '0', '--no-aggregate'], code: 2, message: /--no-aggregate applies to --out only/ },
    { name: '--out naming a FIFO', args: ['--out', '../site/pipe.html'], code: 2, message: /--out \.\.\/site\/pipe\.html: is a FIFO \(named pipe\), not a regular file/ },
    { name: '--out naming a symlink', args: ['--out', '../site/link.html'], code: 2, message: /--out \.\.\/site\/link\.html: is a symbolic link \(to real\.html\); writing would replace the link itself/ },
    { name: '--out under a regular file', args: ['--out', '../site/real.html/x.html'], code: 2, message: /site\/real\.html is not a folder/ },
    { name: '--out in a folder that takes no files (/proc)', args: ['--out', '/proc/coord-dashboard-test.html'], code: 2, message: /--out \/proc\/coord-dashboard-test\.html: cannot write a file in \/proc \(ENOENT: .*\); choose a writable folder/ },
    { name: '--host that is not an address', args: ['--serve', '0', '--host', 'evil host'], code: 2, message: /--host "evil host": give an IP address/ },
    { name: '--interval of zero', args: ['--serve', '0', '--interval', '0'], code: 2, message: /--interval "0": must be from 1 to 3600 seconds/ },
    { name: '--days out of range', args: ['--out', '../site/a.html', '--days', '400'], code: 2, message: /--days 400: must be from 1 to 90/ },
    { name: 'an unknown option', args: ['--out', '../site/a.html', '--colour'], code: 2, message: /Unknown argument: colour/ },
  ];

  test.each(cases)('$name → exit $code, nothing written', async ({ args, code, message }) => {
    const before = { clone: await fingerprintTree(clone), origin: await fingerprintTree(fleet.origin), site: await fingerprintTree(outDir) };
    const r = await coord(clone, ['dashboard', ...args]);
    expect({ code: r.exitCode, stdout: r.stdout }).toEqual({ code, stdout: '' });
    expect(r.stderr).toMatch(message);
    expect({ clone: await fingerprintTree(clone), origin: await fingerprintTree(fleet.origin), site: await fingerprintTree(outDir) }).toEqual(before);
  });

  test('--out over an existing regular file replaces it and leaves no temp file behind', async () => {
    const dir = path.join(fleet.dir, 'site2');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'page.html'), 'old\n');
    const r = await coord(clone, ['dashboard', '--out', '../site2/page.html', '--no-aggregate']);
    expect({ code: r.exitCode, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readdirSync(dir)).toEqual(['page.html']);
    expect(readFileSync(path.join(dir, 'page.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  test('--json: the error is the one JSON document on stdout', async () => {
    const r = await coord(clone, ['--json', 'dashboard', '--out', '../missing/x.html']);
    expect(r.exitCode).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'E_NOT_FOUND' } });
  });

  test('a port in use is a usage error (2) naming the port', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await coord(clone, ['dashboard', '--serve', String(port)]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; choose another with --port`));
    } finally {
      blocker.close();
    }
  });
});
