/**
 * Reading a running fleet from a watcher's own clone, the way `coord status` does: fetch
 * the remote's main and every heartbeat ref, read the queue at that commit, and judge each
 * heartbeat's age by this watcher's own elapsed time since it last changed (DESIGN.md
 * section 5) — never by the builder's clock.
 */
import { readSeenHeartbeats } from '../heartbeat/refs.js';
import { git } from '../git/run.js';
import { jobRecords, jobsDoc, readSnapshot } from '../ops/snapshot.js';
import type { JobRecord } from '../jobs/model.js';
import { PATHS } from '../store/kinds.js';

export interface BeatSeen {
  builder: string;
  sequence: number;
  state: string;
  currentJob: string | null;
  /** ms of this watcher's clock since the heartbeat commit last changed. */
  ageMs: number;
}

export interface FleetView {
  at: number;
  /** False when the fetch failed (the remote is down): the view is the last one fetched. */
  fresh: boolean;
  warning: string | null;
  commit: string | null;
  jobs: JobRecord[];
  beats: BeatSeen[];
  /** Subjects of the newest commits on main, newest first. */
  recent: string[];
  mainCommits: number;
}

/** Remembers when each builder's heartbeat commit was first seen (per watcher). */
export class FleetReader {
  private readonly seen = new Map<string, { commit: string; since: number }>();
  constructor(private readonly clone: string, private readonly recentCount = 3) {}

  async read(now: number = Date.now()): Promise<FleetView> {
    const snap = await readSnapshot(this.clone, [PATHS.jobs], { heartbeats: true, now });
    const jobs = jobRecords(jobsDoc(snap));
    const beats: BeatSeen[] = [];
    for (const [b, hb] of await readSeenHeartbeats(this.clone)) {
      const prev = this.seen.get(b);
      if (!prev || prev.commit !== hb.commit) this.seen.set(b, { commit: hb.commit, since: now });
      beats.push({
        builder: b, sequence: Number(hb.heartbeat.sequence ?? 0), state: String(hb.heartbeat.state ?? '?'),
        currentJob: (hb.heartbeat.current_job) ?? null, ageMs: now - this.seen.get(b)!.since,
      });
    }
    beats.sort((a, b) => Number(a.builder.slice(5)) - Number(b.builder.slice(5)));
    let recent: string[] = [];
    let mainCommits = 0;
    if (snap.commit) {
      const log = await git(this.clone, ['log', `-${this.recentCount}`, '--format=%s', snap.commit], { allowFailure: true });
      recent = log.stdout.split('\n').filter(Boolean);
      const n = await git(this.clone, ['rev-list', '--count', snap.commit], { allowFailure: true });
      mainCommits = Number(n.stdout.trim()) || 0;
    }
    return { at: now, fresh: snap.fresh, warning: snap.warnings[0] ?? null, commit: snap.commit, jobs, beats, recent, mainCommits };
  }
}
