/**
 * Running one attempt of a job (DESIGN.md section 4, "Execution"): the job type's command
 * from shared/build_config.json only (a job never carries a command), in a per-job
 * workspace (a checkout of `branch`/`commit` when the type has `source_repo`), through
 * execa with an argument array (never a shell), `params` as environment variables, its own
 * process group, `timeout_s`, and the whole tree killed on timeout or cancel. Output
 * streams to a local log file; {@link tailOf} gives the bounded tail that is committed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { glob } from 'tinyglobby';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import type { JobRecord } from '../jobs/model.js';
import { git } from '../git/run.js';
import { killJobTree } from './process-tree.js';

export type JobType = NonNullable<BuildConfigFile['job_types']>[string];

export interface RunSpec {
  job: JobRecord;
  type: JobType;
  builder: string;
  /** The coordination repository (for commands given relative to it). */
  repoRoot: string;
  /** Folder for this attempt's workspace. */
  workDir: string;
  /** Local log file (whole output). */
  logFile: string;
  /** Folder where matched artifacts are kept. */
  artifactDir: string;
}

export interface ArtifactInfo { name: string; size: number; sha256: string; path: string }

export interface RunOutcome {
  outcome: 'completed' | 'failed' | 'cancelled' | 'timed_out';
  exitCode: number | null;
  error: string | null;
  durationS: number;
  artifacts: ArtifactInfo[];
}

export interface RunningJob {
  /** Resolves when the attempt is over (never rejects). */
  done: Promise<RunOutcome>;
  /** Stops the whole process tree; the outcome becomes `cancelled` (or the given one). */
  stop(reason: 'cancelled' | 'lease_lost' | 'shutdown'): Promise<void>;
  pid: number | undefined;
}

/** The environment a job sees. */
export function jobEnv(job: JobRecord, type: JobType, builder: string, workDir: string, artifactDir: string): Record<string, string> {
  const env: Record<string, string> = {
    ...(type.env ?? {}),
    COORD_JOB_ID: job.id, COORD_JOB_TYPE: job.type, COORD_ATTEMPT: String(job.attempt), COORD_BUILDER: builder,
    COORD_BRANCH: job.branch ?? '', COORD_COMMIT: job.commit ?? '', COORD_WORKSPACE: workDir, COORD_ARTIFACTS_DIR: artifactDir,
  };
  for (const [k, v] of Object.entries(job.params)) env[`COORD_PARAM_${k.toUpperCase()}`] = v;
  return env;
}

async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The last `bytes` of a log file, cut at a line start, as text. */
export async function tailOf(logFile: string, bytes: number): Promise<string> {
  const fh = await fs.open(logFile, 'r').catch(() => null);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    if (start > 0) {
      const nl = text.indexOf('\n');
      text = `[… ${start} earlier bytes in the builder's local log]\n` + (nl >= 0 ? text.slice(nl + 1) : text);
    }
    return text;
  } finally {
    await fh.close();
  }
}

async function prepareSource(spec: RunSpec, log: NodeJS.WritableStream): Promise<string> {
  const { job, type, workDir } = spec;
  await fs.mkdir(workDir, { recursive: true });
  if (!type.source_repo) return workDir;
  const src = path.join(workDir, 'src');
  const source = type.source_repo.startsWith('./') || type.source_repo.startsWith('../') ? path.resolve(spec.repoRoot, type.source_repo) : type.source_repo;
  log.write(`[coord] checking out ${job.commit ?? job.branch ?? 'default branch'} of ${source}\n`);
  await git(workDir, ['clone', '--quiet', '--no-checkout', ...(job.branch && !job.commit ? ['--branch', job.branch] : []), '--', source, src], { timeoutMs: 600_000 });
  const rev = job.commit ?? (job.branch ? `origin/${job.branch}` : 'HEAD');
  await git(src, ['checkout', '--quiet', '--detach', rev], { timeoutMs: 600_000 });
  return src;
}

function resolveCommand(cmd: string, cwd: string, repoRoot: string): string {
  if (path.isAbsolute(cmd) || !cmd.includes('/')) return cmd;
  const inSource = path.resolve(cwd, cmd);
  return existsSync(inSource) ? inSource : path.resolve(repoRoot, cmd);
}

/** Starts an attempt. */
export function startJob(spec: RunSpec): RunningJob {
  const started = Date.now();
  const tag = { jobId: spec.job.id, builder: spec.builder, attempt: spec.job.attempt };
  let stopReason: 'cancelled' | 'lease_lost' | 'shutdown' | null = null;
  let child: ReturnType<typeof execa> | null = null;
  let pid: number | undefined;
  let resolveStarted!: () => void;
  const startedPromise = new Promise<void>((r) => { resolveStarted = r; });
  const done = (async (): Promise<RunOutcome> => {
    await fs.mkdir(path.dirname(spec.logFile), { recursive: true });
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    const finish = async (o: Omit<RunOutcome, 'durationS' | 'artifacts'>, artifacts: ArtifactInfo[] = []): Promise<RunOutcome> => {
      log.write(`[coord] ${o.outcome}${o.exitCode !== null ? ` (exit ${o.exitCode})` : ''}${o.error ? `: ${o.error}` : ''}\n`);
      await new Promise((r) => log.end(r));
      return { ...o, durationS: Math.round((Date.now() - started) / 100) / 10, artifacts };
    };
    try {
      const cwd = await prepareSource(spec, log);
      if (stopReason) { resolveStarted(); return await finish({ outcome: 'cancelled', exitCode: null, error: `stopped before start (${String(stopReason)})` }); }
      const [cmd, ...args] = spec.type.command;
      const file = resolveCommand(cmd, cwd, spec.repoRoot);
      log.write(`[coord] ${spec.builder} runs ${[file, ...args].join(' ')} (job ${spec.job.id}, attempt ${spec.job.attempt})\n`);
      const timeoutMs = (spec.type.timeout_s ?? 3600) * 1000;
      child = execa(file, args, {
        cwd, env: jobEnv(spec.job, spec.type, spec.builder, spec.workDir, spec.artifactDir), extendEnv: true,
        detached: true, reject: false, stdin: 'ignore', all: true, buffer: false, cleanup: false,
      });
      pid = child.pid;
      resolveStarted();
      child.all?.pipe(log, { end: false });
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; void killJobTree(pid, tag); }, timeoutMs);
      const r = await child;
      clearTimeout(timer);
      // Whatever the leader's fate, no member of the tree may outlive the attempt.
      await killJobTree(pid, tag, 2000);
      if (stopReason) return await finish({ outcome: 'cancelled', exitCode: r.exitCode ?? null, error: stopReason === 'cancelled' ? 'cancelled on request' : `stopped: ${String(stopReason)}` });
      if (timedOut) return await finish({ outcome: 'timed_out', exitCode: r.exitCode ?? null, error: `timed out after ${spec.type.timeout_s ?? 3600} s` });
      const notFound = (r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.message ?? ''));
      if (notFound) return await finish({ outcome: 'failed', exitCode: 127, error: `command not found: ${file}` });
      if (r.exitCode !== 0) return await finish({ outcome: 'failed', exitCode: r.exitCode ?? null, error: r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}` });
      const artifacts = await collectArtifacts(spec, cwd);
      return await finish({ outcome: 'completed', exitCode: 0, error: null }, artifacts);
    } catch (err) {
      resolveStarted();
      return finish({ outcome: 'failed', exitCode: null, error: (err as Error).message.split('\n')[0] ?? 'failed to start' });
    }
  })();
  return {
    done,
    get pid() { return pid; },
    async stop(reason) {
      stopReason ??= reason;
      await startedPromise;
      await killJobTree(pid, tag);
    },
  };
}

async function collectArtifacts(spec: RunSpec, cwd: string): Promise<ArtifactInfo[]> {
  const globs = spec.type.artifacts ?? [];
  if (!globs.length) return [];
  const files = await glob(globs, { cwd, onlyFiles: true, dot: false, absolute: false });
  const out: ArtifactInfo[] = [];
  await fs.mkdir(spec.artifactDir, { recursive: true });
  for (const rel of files.sort()) {
    const name = path.basename(rel);
    const dest = path.join(spec.artifactDir, name);
    await fs.copyFile(path.join(cwd, rel), dest);
    const st = await fs.stat(dest);
    out.push({ name, size: st.size, sha256: await sha256File(dest), path: dest });
  }
  return out;
}
