/**
 * Walking every commit of a coordination branch, oldest first, with the coordination files
 * each commit changed — the raw material of the chaos run's history invariants. One
 * `git log --raw` for the changes and one `git cat-file --batch` for the blobs.
 */
import { spawn } from 'node:child_process';
import { git } from '../git/run.js';
import { HERMETIC_GIT_ENV } from '../demo/env.js';
import { kindOfPath } from '../store/kinds.js';

export interface WalkedCommit {
  sha: string;
  action: string | null;
  actor: string | null;
  /** Coordination files changed by this commit: path → blob sha (null: deleted). */
  changed: Map<string, string | null>;
}

/** Commits of `ref` (first-parent, oldest first) with their changed coordination files. */
export async function walkCommits(repo: string, ref = 'main'): Promise<WalkedCommit[]> {
  const fmt = '%x1e%H%x1f%(trailers:key=Coord-Action,valueonly,separator=)%x1f%(trailers:key=Coord-Actor,valueonly,separator=)';
  const r = await git(repo, ['log', '--reverse', '--first-parent', '--raw', '--no-abbrev', '--no-renames', '-m', '--root', `--format=${fmt}`, ref], { env: HERMETIC_GIT_ENV, timeoutMs: 600_000 });
  const out: WalkedCommit[] = [];
  for (const rec of r.stdout.split('\x1e').slice(1)) {
    const [head = '', ...lines] = rec.split('\n');
    const [sha = '', action = '', actor = ''] = head.split('\x1f');
    const changed = new Map<string, string | null>();
    for (const l of lines) {
      const m = /^:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) (\w)\d*\t(.+)$/.exec(l);
      if (!m || !kindOfPath(m[3])) continue;
      changed.set(m[3], m[2] === 'D' ? null : m[1]);
    }
    out.push({ sha, action: action.trim() || null, actor: actor.trim() || null, changed });
  }
  return out;
}

/** Reads blobs by sha through one long-lived `git cat-file --batch`. */
export class BlobReader {
  private readonly child;
  private buf = Buffer.alloc(0);
  private readonly waiting: ((b: Buffer | null) => void)[] = [];

  constructor(repo: string) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd: repo, env: { ...process.env, ...HERMETIC_GIT_ENV }, stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout.on('data', (c: Buffer) => { this.buf = Buffer.concat([this.buf, c]); this.drain(); });
  }

  private drain(): void {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0 || !this.waiting.length) return;
      const header = this.buf.subarray(0, nl).toString('utf8');
      if (header.endsWith(' missing')) {
        this.buf = this.buf.subarray(nl + 1);
        this.waiting.shift()!(null);
        continue;
      }
      const size = Number(header.split(' ')[2]);
      if (this.buf.length < nl + 1 + size + 1) return;
      const body = Buffer.from(this.buf.subarray(nl + 1, nl + 1 + size));
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      this.waiting.shift()!(body);
    }
  }

  read(sha: string): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(sha + '\n');
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}
