/**
 * The direct (ssh) view of builders beside the git view (DESIGN.md section 8): `coord status
 * --direct`, and automatically when the remote cannot be fetched or a builder's heartbeat
 * in git is stale. Both views are shown, each labelled with where it came from and how old
 * it is (`via git, 12 min old` / `via ssh, now`). A failed direct read is a view too (with
 * its error): the git view stays on screen whatever ssh does.
 */
import { isCoordError, type CoordError } from '../errors.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { readPeerStatus, type PeerReadOptions, type PeerStatus } from './peer-status.js';
import { readSharedFiles } from './shared-files.js';
import { systemClock } from '../util/time.js';

/** The label of a direct view. */
export const SSH_VIEW_LABEL = 'via ssh, now';

/** `via git, 12 min old` (age by this observer's clock, seconds; null when never seen). Pure. */
export function gitViewLabel(ageS: number | null): string {
  if (ageS === null) return 'via git, never seen';
  const s = Math.max(0, Math.round(ageS));
  if (s < 60) return `via git, ${s} s old`;
  const m = Math.floor(s / 60);
  if (m < 60) return `via git, ${m} min old`;
  const h = Math.floor(m / 60);
  if (h < 48) return `via git, ${h} h old`;
  return `via git, ${Math.floor(h / 24)} days old`;
}

/**
 * Should this builder be read directly? With `--direct` always; otherwise when the fetch of
 * main failed, or git's heartbeat of the builder is stale or offline by this observer's
 * clock (DESIGN.md section 5) — but not when its last heartbeat says it shut down cleanly
 * (`state: offline`): git already tells the truth about it, and an automatic read of a
 * machine that may be powered off would only hold `coord status` up for the connect timeout.
 * Pure.
 */
export function wantsDirectRead(o: { direct: boolean; fetchFresh: boolean; health: string; hasSsh: boolean; cleanShutdown?: boolean }): boolean {
  if (!o.hasSsh) return false;
  if (o.direct) return true;
  if (o.cleanShutdown) return false;
  return !o.fetchFresh || o.health === 'stale' || o.health === 'offline';
}

/** Builders of `config` that have ssh settings. Pure. */
export function buildersWithSsh(config: BuildConfigFile | null | undefined): string[] {
  return Object.entries(config?.builders ?? {}).filter(([, b]) => Boolean(b.ssh)).map(([id]) => id);
}

export type DirectView =
  | { builder: string; label: string; ok: true; peer: PeerStatus }
  | { builder: string; label: string; ok: false; error: { code: string; exit_code: number; message: string } };

/**
 * Reads the builders directly, all at once (each read has its own deadline).
 * @returns one view per builder, in the order given; failures are views with `error`
 */
export async function directViews(repoRoot: string, builders: readonly string[], o: PeerReadOptions = {}): Promise<DirectView[]> {
  let config = o.config;
  let configError: CoordError | null = null;
  if (!config) {
    try {
      config = (await readSharedFiles(repoRoot, [], (o.clock ?? systemClock).now())).config;
    } catch (err) {
      if (!isCoordError(err)) throw err;
      configError = err;
    }
  }
  return Promise.all(builders.map(async (builder): Promise<DirectView> => {
    try {
      if (configError) throw configError;
      const peer = await readPeerStatus(repoRoot, builder, { ...o, ...(config ? { config } : {}) });
      return { builder, label: SSH_VIEW_LABEL, ok: true, peer };
    } catch (err) {
      if (!isCoordError(err)) throw err;
      return { builder, label: 'via ssh, failed', ok: false, error: { code: err.code, exit_code: err.exitCode, message: err.message } };
    }
  }));
}

/** One human line of a direct view (after its label). Pure. */
export function describeDirectView(v: DirectView): string {
  if (!v.ok) return `${v.label}: ${v.error.message}`;
  const { status: st, heartbeat: hb, from } = v.peer;
  const parts: string[] = [];
  const state = hb?.state ?? st?.state;
  if (state) parts.push(state);
  const job = st?.current_job ?? hb?.current_job;
  if (job) parts.push(`job ${job}${(st?.running_jobs?.length ?? 0) > 1 ? ` +${(st?.running_jobs?.length ?? 1) - 1}` : ''}`);
  if (hb) parts.push(`heartbeat #${hb.sequence ?? '?'} at ${hb.timestamp} by its clock (${from.heartbeat})`);
  if (st?.degraded) parts.push(`degraded: ${st.degraded.reason}`);
  if (st?.grounded) parts.push(`grounded: ${st.grounded.reason}`);
  const sys = hb?.system ?? st?.system;
  if (sys?.cpu_percent !== undefined && sys.cpu_percent !== null) parts.push(`cpu ${Math.round(sys.cpu_percent)}%`);
  return `${v.label}: ${parts.join(', ') || 'no status'}`;
}
