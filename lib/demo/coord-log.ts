/**
 * The history of a coordination branch as data: one entry per commit with its `Coord-*`
 * trailers (lib/tx/transaction.ts `commitMessage`), oldest first. Used by the demo's
 * summary, the claim benchmark (duplicate claims) and the chaos run's invariants.
 */
import { git } from '../git/run.js';
import { HERMETIC_GIT_ENV } from './env.js';

export interface CoordCommit {
  sha: string;
  parents: string[];
  /** `Coord-Action` (null: a commit made with plain git). */
  action: string | null;
  actor: string | null;
  job: string | null;
  attempt: number | null;
  result: string | null;
  subject: string;
}

const FIELDS = ['%H', '%P', '%(trailers:key=Coord-Action,valueonly,separator=)', '%(trailers:key=Coord-Actor,valueonly,separator=)',
  '%(trailers:key=Coord-Job,valueonly,separator=)', '%(trailers:key=Coord-Attempt,valueonly,separator=)',
  '%(trailers:key=Coord-Result,valueonly,separator=)', '%s'];

/** Every commit reachable from `ref` in `repo` (a bare origin or a clone), oldest first. */
export async function readCoordLog(repo: string, ref = 'main'): Promise<CoordCommit[]> {
  const r = await git(repo, ['log', '--reverse', `--format=${FIELDS.join('%x1f')}%x1e`, ref], { env: HERMETIC_GIT_ENV, timeoutMs: 300_000 });
  const out: CoordCommit[] = [];
  for (const rec of r.stdout.split('\x1e')) {
    const f = rec.replace(/^\n/, '').split('\x1f');
    if (f.length < FIELDS.length) continue;
    const t = (s: string | undefined) => (s ?? '').trim() || null;
    out.push({
      sha: f[0], parents: (f[1] ?? '').split(' ').filter(Boolean), action: t(f[2]), actor: t(f[3]), job: t(f[4]),
      attempt: t(f[5]) === null ? null : Number(t(f[5])), result: t(f[6]), subject: f[7] ?? '',
    });
  }
  return out;
}

/** `(job, attempt)` pairs that `action` commits name more than once, with their counts. */
export function repeatedPerAttempt(log: readonly CoordCommit[], action: string): { job: string; attempt: number; count: number }[] {
  const counts = new Map<string, number>();
  for (const c of log) {
    if (c.action !== action || !c.job || c.attempt === null) continue;
    const k = `${c.job}\n${c.attempt}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([k, count]) => {
    const [job = '', attempt = '0'] = k.split('\n');
    return { job, attempt: Number(attempt), count };
  });
}
