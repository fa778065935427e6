/**
 * The end of a demo: what became of each job (builder, attempts, duration, exit code,
 * artifact name, size, sha256 — each artifact re-hashed from the file on its builder), the
 * message and who sees it, and what the run did to the repository (commits on main by
 * action, heartbeats on their refs). `judge` is pure; `collect` reads.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import Table from 'cli-table3';
import type { JobRecord } from '../jobs/model.js';
import { git } from '../git/run.js';
import { heartbeatPath } from '../store/kinds.js';
import type { ArtifactsFile } from '../schemas/types.gen.js';
import { HERMETIC_GIT_ENV } from './env.js';
import type { PlannedJob } from './plan.js';

export type ArtifactEntry = ArtifactsFile['artifacts'][number];

/** What is true of an artifact file on its builder. */
export interface FileFacts { exists: boolean; size: number | null; sha256: string | null }

export interface JobOutcome {
  id: string;
  label: string;
  status: string;
  expected: string;
  builder: string | null;
  attempts: number;
  durationS: number | null;
  exitCode: number | null;
  artifact: { name: string; size: number; sha256: string; path: string | null; verified: boolean; why: string | null } | null;
  ok: boolean;
  problems: string[];
}

/** Planned job + its id. */
export interface QueuedJob { plan: PlannedJob; id: string }

/**
 * Judges each job against its plan: the expected end state; for build jobs one artifact of
 * the expected name in the job, in shared/artifacts.json for the final attempt, and a file
 * on the builder of that size and sha256.
 */
export function judgeJobs(queued: readonly QueuedJob[], jobs: readonly JobRecord[], manifest: readonly ArtifactEntry[], files: ReadonlyMap<string, FileFacts>): JobOutcome[] {
  return queued.map(({ plan, id }) => {
    const j = jobs.find((x) => x.id === id);
    const problems: string[] = [];
    if (!j) return { id, label: plan.label, status: 'missing', expected: plan.expect, builder: null, attempts: 0, durationS: null, exitCode: null, artifact: null, ok: false, problems: [`job ${id} is not in coordination/jobs.json`] };
    const last = j.history.at(-1);
    if (j.status !== plan.expect) problems.push(`ended ${j.status}${j.error ? ` (${j.error})` : ''}, expected ${plan.expect}`);
    let artifact: JobOutcome['artifact'] = null;
    if (plan.artifact) {
      const inJob = j.artifacts.find((a) => a.name === plan.artifact);
      const entry = manifest.find((a) => a.job_id === id && a.name === plan.artifact && (a.attempt ?? j.attempt) === j.attempt);
      if (!inJob) problems.push(`artifact ${plan.artifact} is not recorded in the job`);
      if (!entry) problems.push(`artifact ${plan.artifact} is not in shared/artifacts.json for attempt ${j.attempt}`);
      const rec = entry ?? (inJob ? { ...inJob, path: undefined } : null);
      if (rec) {
        const f = rec.path ? files.get(rec.path) : undefined;
        let why: string | null = null;
        if (!rec.path) why = 'no path recorded';
        else if (!f?.exists) why = `file missing on ${entry?.builder ?? '?'}: ${rec.path}`;
        else if (f.size !== rec.size) why = `size on disk ${f.size} ≠ recorded ${rec.size}`;
        else if (f.sha256 !== rec.sha256) why = `sha256 on disk ${f.sha256} ≠ recorded ${rec.sha256}`;
        else if (inJob && (inJob.sha256 !== rec.sha256 || inJob.size !== rec.size)) why = 'job and manifest disagree';
        if (why) problems.push(`artifact does not verify: ${why}`);
        artifact = { name: rec.name, size: rec.size, sha256: rec.sha256, path: rec.path ?? null, verified: why === null, why };
      }
    }
    return {
      id, label: plan.label, status: j.status, expected: plan.expect, builder: j.assigned_to ?? last?.builder ?? null,
      attempts: j.attempt, durationS: last?.duration_seconds ?? null, exitCode: j.exit_code, artifact, ok: problems.length === 0, problems,
    };
  });
}

export async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Size and sha256 of each path, read now. */
export async function factsOf(paths: Iterable<string>): Promise<Map<string, FileFacts>> {
  const out = new Map<string, FileFacts>();
  for (const p of paths) {
    const st = await fs.stat(p).catch(() => null);
    out.set(p, st?.isFile() ? { exists: true, size: st.size, sha256: await sha256File(p) } : { exists: false, size: null, sha256: null });
  }
  return out;
}

export interface RepoFigures {
  mainCommits: number;
  /** Commits on main by `Coord-Action` trailer (`plain git` for commits without one). */
  byAction: Record<string, number>;
  /** builder → heartbeat sequence on its ref (beats published), and the ref's commit count (always 1). */
  heartbeats: { builder: string; sequence: number; commits: number }[];
}

/** Figures of the bare origin: commits on main, by action, and the heartbeat refs. */
export async function repoFigures(bare: string): Promise<RepoFigures> {
  const g = async (args: string[]) => (await git(bare, args, { env: HERMETIC_GIT_ENV, allowFailure: true })).stdout;
  const actions = (await g(['log', '--format=%(trailers:key=Coord-Action,valueonly,separator=)%x00', 'main'])).split('\0').map((s) => s.trim());
  actions.pop();
  const byAction: Record<string, number> = {};
  for (const a of actions) byAction[a || 'plain git'] = (byAction[a || 'plain git'] ?? 0) + 1;
  const heartbeats: RepoFigures['heartbeats'] = [];
  for (const line of (await g(['for-each-ref', '--format=%(objectname) %(refname:lstrip=3)', 'refs/coord/heartbeats/'])).split('\n').filter(Boolean)) {
    const [commit = '', builder = ''] = line.split(' ');
    let sequence = 0;
    try {
      sequence = Number((JSON.parse(await g(['show', `${commit}:${heartbeatPath(builder)}`])) as { sequence?: number }).sequence ?? 0);
    } catch { /* unreadable beat: 0 */ }
    heartbeats.push({ builder, sequence, commits: Number((await g(['rev-list', '--count', commit])).trim()) || 0 });
  }
  heartbeats.sort((a, b) => Number(a.builder.slice(5)) - Number(b.builder.slice(5)));
  return { mainCommits: actions.length, byAction, heartbeats };
}

export interface MessageOutcome {
  id: string;
  from: string;
  how: string;
  recipients: string[];
  /** Recipients whose `coord messages` lists it. */
  seenBy: string[];
}

/** The summary as text. */
export function renderSummary(jobs: readonly JobOutcome[], msg: MessageOutcome | null, repo: RepoFigures): string[] {
  const t = new Table({ head: ['job', 'what', 'status', 'builder', 'attempts', 'duration', 'exit', 'artifact', 'size', 'sha256'], style: { head: [], border: [] } });
  for (const j of jobs) {
    t.push([
      j.id.replace(/^job-\d{8}-\d{6}-/, ''), j.label, j.ok ? j.status : `${j.status} ✗`, j.builder ?? '–', String(j.attempts),
      j.durationS === null ? '–' : `${j.durationS.toFixed(1)}s`, j.exitCode === null ? '–' : String(j.exitCode),
      j.artifact?.name ?? '–', j.artifact ? String(j.artifact.size) : '–', j.artifact ? `${j.artifact.sha256.slice(0, 16)}…` : '–',
    ]);
  }
  const lines = ['', 'Jobs', t.toString()];
  const arts = jobs.filter((j) => j.artifact);
  if (arts.length) {
    lines.push('', 'Artifacts (re-hashed from the file on each builder)');
    for (const j of arts) lines.push(`  ${j.artifact!.verified ? 'verified' : 'FAILED  '} ${j.artifact!.sha256}  ${j.artifact!.size} B  ${j.builder}:${j.artifact!.path ?? j.artifact!.name}${j.artifact!.why ? `  (${j.artifact!.why})` : ''}`);
  }
  lines.push('', 'Messages');
  if (msg) {
    const missing = msg.recipients.filter((r) => !msg.seenBy.includes(r));
    lines.push(`  ${msg.id} from ${msg.from} (${msg.how}): delivered to ${msg.seenBy.length} of ${msg.recipients.length} recipients (${msg.seenBy.join(', ') || 'none'})${missing.length ? `; NOT seen by ${missing.join(', ')}` : ''}`);
  } else lines.push('  none sent');
  lines.push('', 'Repository');
  lines.push(`  main: ${repo.mainCommits} commits — ${Object.entries(repo.byAction).sort((a, b) => b[1] - a[1]).map(([a, n]) => `${n} ${a}`).join(', ')}`);
  const beats = repo.heartbeats.reduce((n, h) => n + h.sequence, 0);
  lines.push(`  heartbeat refs: ${repo.heartbeats.length} (${repo.heartbeats.map((h) => `${h.builder} #${h.sequence}, ${h.commits} commit`).join('; ')}) — ${beats} beats published, none of them a commit on main`);
  const problems = jobs.flatMap((j) => j.problems.map((p) => `${j.label} (${j.id}): ${p}`));
  if (problems.length) lines.push('', 'Problems', ...problems.map((p) => `  ✗ ${p}`));
  return lines;
}
