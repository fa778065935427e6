/**
 * The demo's plan, pure: the job types and policy of the local fleet, and the jobs to queue
 * with the end state each must reach. The shell (run-demo.ts) applies it.
 */
import path from 'node:path';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import type { NewJobInput } from '../jobs/model.js';
import type { DemoSource } from './source.js';

type JobTypes = NonNullable<BuildConfigFile['job_types']>;

/**
 * Short policy values so a demo shows leases, heartbeats and drains within a minute
 * (the defaults are minutes to hours).
 */
export const DEMO_POLICY: Readonly<Record<string, number>> = Object.freeze({
  heartbeat_interval_s: 5,
  main_heartbeat_every_s: 60,
  lease_ttl_s: 30,
  drain_timeout_s: 5,
  clock_skew_s: 2,
  max_attempts: 3,
  ground_after_failures: 3,
  ground_cooldown_s: 60,
});

/** The job types: `build` and `test` of this project's source, `smoke` for anything small. */
export function demoJobTypes(src: Pick<DemoSource, 'root' | 'gitDir'>, scriptsDir: string): JobTypes {
  const env = { COORD_TOOLCHAIN: src.root };
  return {
    build: {
      command: [path.join(scriptsDir, 'build.sh')], timeout_s: 300, artifacts: ['build-coord-*.tgz'],
      source_repo: src.gitDir, env,
      description: 'compile build-coord at the job\'s commit with tsc and pack dist/ + package.json into build-coord-<shortsha>.tgz',
    },
    test: {
      command: [path.join(scriptsDir, 'test.sh')], timeout_s: 300, source_repo: src.gitDir, env,
      description: 'run the suites named by param `suites` at the job\'s commit (compiled first)',
    },
    smoke: {
      command: [path.join(scriptsDir, 'smoke.sh')], timeout_s: 120,
      description: 'print where it runs, then work for param `seconds` (default 1)',
    },
  };
}

/** Applies the demo's job types and policy to the build config `coord init` wrote. */
export function configureDemo(cfg: BuildConfigFile, types: JobTypes): void {
  cfg.job_types = { ...(cfg.job_types ?? {}), ...types };
  cfg.policy = { ...(cfg.policy ?? {}), ...DEMO_POLICY };
}

/** One job the demo queues, and what must become of it. */
export interface PlannedJob {
  /** Label in the output (`build @ 9a6ec09`). */
  label: string;
  input: NewJobInput;
  /** How it is added: the operator command line, or an agent's hand edit pushed with git. */
  via: 'operator' | 'agent';
  expect: 'completed';
  /** Artifact name the job must produce (build jobs), else null. */
  artifact: string | null;
}

export interface PlanOptions {
  /** Extra smoke jobs (`--jobs N`). */
  extraJobs: number;
  /** Suites for the test job at `source.commits[0]`. */
  suites: readonly string[];
}

/**
 * The jobs: `build` at each source commit (HEAD first, priorities 1, 2, 3…), one `test`
 * at HEAD (priority 2), N extra smoke jobs (priority 5), and one smoke job an agent adds
 * by hand (priority 4).
 */
export function planJobs(src: Pick<DemoSource, 'commits'>, o: PlanOptions): PlannedJob[] {
  const out: PlannedJob[] = [];
  src.commits.forEach((c, i) => {
    out.push({
      label: `build @ ${c.short}`, via: 'operator', expect: 'completed', artifact: `build-coord-${c.sha.slice(0, 12)}.tgz`,
      input: { type: 'build', priority: i + 1, commit: c.sha, description: `build ${c.short}: ${c.subject}`.slice(0, 200) },
    });
  });
  const head = src.commits[0];
  if (head && o.suites.length) {
    out.push({
      label: `test @ ${head.short}`, via: 'operator', expect: 'completed', artifact: null,
      input: { type: 'test', priority: 2, commit: head.sha, params: { suites: o.suites.join(' ') }, description: `${o.suites.length} fast suites at ${head.short}` },
    });
  }
  for (let i = 0; i < o.extraJobs; i++) {
    out.push({
      label: `smoke #${i + 1}`, via: 'operator', expect: 'completed', artifact: null,
      input: { type: 'smoke', priority: 5, params: { seconds: String(1 + (i % 3)), note: `extra job ${i + 1}` }, description: `extra smoke job ${i + 1}` },
    });
  }
  out.push({
    label: 'smoke (agent)', via: 'agent', expect: 'completed', artifact: null,
    input: { type: 'smoke', priority: 4, params: { seconds: '1', note: 'added by an agent editing jobs.json by hand' }, description: 'added by hand in a clone and pushed with plain git' },
  });
  return out;
}
