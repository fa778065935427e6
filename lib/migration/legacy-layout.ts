/**
 * Recognising a repository in the layout of the upstream shell toolkit as a whole (issue
 * 11; MIGRATION.md): the files it derived from the shared state and committed (now computed
 * on demand by `coord` and never committed), its heartbeat branches (now one ref per
 * builder, `refs/coord/heartbeats/build<N>`), and the builders and other names its data
 * mentions. Pure: the caller reads the files and lists the branches.
 */
import { BUILDER_DIR_RE } from '../store/kinds.js';

/** A file or ref of the old layout that `coord` no longer keeps. */
export interface ObsoleteItem {
  /** Repository path, or the branch name for a heartbeat branch. */
  path: string;
  kind: 'file' | 'branch';
  /**
   * `derived`: the information is computed on demand from the shared state now (never
   * committed); `obsolete`: replaced by a different mechanism.
   */
  status: 'derived' | 'obsolete';
  /** What shows the same information now. */
  replaced_by: string;
}

/** The derived files the upstream scripts committed, and what replaces each. */
export const DERIVED_FILES: readonly ObsoleteItem[] = [
  { path: 'coordination/message_stats.json', kind: 'file', status: 'derived', replaced_by: 'coord status (unread messages per builder); coord messages --to any --all' },
  { path: 'coordination/unread_messages_status.json', kind: 'file', status: 'derived', replaced_by: 'coord messages --to buildN --exit-code-if-unread; coord status' },
  { path: 'MESSAGES_ALL.txt', kind: 'file', status: 'derived', replaced_by: 'coord messages --to any --all --long' },
  { path: 'MESSAGES_STATUS.md', kind: 'file', status: 'derived', replaced_by: 'coord status; coord messages --to buildN' },
];

/**
 * Branch names the upstream heartbeat scripts pushed: `heartbeat/build1`,
 * `heartbeats/build2`, `heartbeat-build3`, `build4-heartbeat`, a plain `heartbeat`.
 */
export const HEARTBEAT_BRANCH_RE = /^(?:heartbeats?(?:[/_-].+)?|build[1-9][0-9]{0,3}[/_-]heartbeats?)$/i;

/** The heartbeat branches among `branches` (short names, without `refs/heads/`), as obsolete items. */
export function heartbeatBranches(branches: readonly string[]): ObsoleteItem[] {
  return branches.filter((b) => HEARTBEAT_BRANCH_RE.test(b)).sort().map((b) => ({
    path: b, kind: 'branch' as const, status: 'obsolete' as const,
    replaced_by: 'refs/coord/heartbeats/build<N> (one parentless commit per builder, replaced each beat; coord heartbeat / the daemon)',
  }));
}

/** Names found in the data of the old layout. */
export interface NamesFound {
  /** `build<N>` names: folders, job holders, message senders and recipients, lock holders. Sorted by number. */
  builders: string[];
  /** Message senders that are not builders (people, agents: `architect`). Sorted. */
  senders: string[];
  /** Message recipients that are neither builders nor `all`. Sorted. */
  recipients: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Sorts builder ids by number (`build2` before `build10`). */
export function byBuilderNumber(a: string, b: string): number {
  return Number(a.slice(5)) - Number(b.slice(5));
}

/**
 * Every builder and non-builder name the data mentions. Reads parsed documents as they are
 * (legacy or canonical; a document that did not parse is passed as null).
 * @param dirs top-level folder names of the repository
 */
export function findNames(dirs: readonly string[], docs: { jobs: unknown; messages: unknown; locks: unknown }): NamesFound {
  const builders = new Set<string>();
  const senders = new Set<string>();
  const recipients = new Set<string>();
  const builder = (name: string) => {
    const lower = name.trim().toLowerCase();
    if (BUILDER_DIR_RE.test(lower)) { builders.add(lower); return true; }
    return false;
  };
  for (const d of dirs) if (BUILDER_DIR_RE.test(d)) builders.add(d);
  const jobs = isObj(docs.jobs) && Array.isArray(docs.jobs.jobs) ? docs.jobs.jobs : [];
  for (const j of jobs) {
    if (!isObj(j)) continue;
    for (const n of [...strings(j.assigned_to), ...strings(j.failed_on)]) builder(n);
    if (Array.isArray(j.history)) for (const h of j.history) if (isObj(h)) strings(h.builder).forEach(builder);
  }
  const messages = isObj(docs.messages) && Array.isArray(docs.messages.messages) ? docs.messages.messages : [];
  for (const m of messages) {
    if (!isObj(m)) continue;
    for (const n of strings(m.from)) if (!builder(n) && n.trim() !== '') senders.add(n);
    for (const n of strings(m.to)) if (n !== 'all' && !builder(n) && n.trim() !== '') recipients.add(n);
  }
  const locks = isObj(docs.locks) ? (Array.isArray(docs.locks.locks) || isObj(docs.locks.locks) ? docs.locks.locks : docs.locks) : Array.isArray(docs.locks) ? docs.locks : [];
  for (const e of Array.isArray(locks) ? locks : isObj(locks) ? Object.values(locks) : []) {
    if (isObj(e)) for (const n of [...strings(e.owner), ...strings(e.holder), ...strings(e.locked_by)]) builder(n);
  }
  return { builders: [...builders].sort(byBuilderNumber), senders: [...senders].sort(), recipients: [...recipients].sort() };
}

/** A builder entry for the build config. */
export interface BuilderEntry {
  arch: string;
  labels: string[];
  max_concurrent_jobs: number;
  max_cpu_percent: number;
  max_memory_percent: number;
}

/**
 * Adds `builders` (with `entryFor`'s settings) and trusted `senders` to a parsed build
 * config, keeping everything else as it is (site fields included). Returns the same
 * object when there is nothing to add.
 */
export function extendBuildConfig(config: Obj, builders: readonly string[], senders: readonly string[], entryFor: (b: string) => BuilderEntry): Obj {
  const known = isObj(config.builders) ? config.builders : {};
  const addB = builders.filter((b) => !(b in known));
  const trust = isObj(config.trust) ? config.trust : {};
  const trusted = strings(trust.senders);
  const addS = senders.filter((s) => !trusted.includes(s));
  if (!addB.length && !addS.length) return config;
  const out: Obj = { ...config };
  if (addB.length) out.builders = { ...known, ...Object.fromEntries(addB.map((b) => [b, entryFor(b)])) };
  if (addS.length) out.trust = { ...trust, senders: [...trusted, ...addS] };
  return out;
}

/**
 * The settings of a builder added by migration: arch and labels from its own status file
 * (`capabilities`) when it has one, else those of the first configured builder, else
 * `fallbackArch`; limits as `coord init` writes them.
 */
export function builderEntryFrom(status: unknown, config: Obj, fallbackArch: string): BuilderEntry {
  const caps = isObj(status) && isObj(status.capabilities) ? status.capabilities : null;
  const first = isObj(config.builders) ? Object.values(config.builders).find(isObj) : undefined;
  const arch = typeof caps?.arch === 'string' && caps.arch ? caps.arch : typeof first?.arch === 'string' ? first.arch : fallbackArch;
  const labels = caps ? strings(caps.labels) : [];
  return { arch, labels, max_concurrent_jobs: 1, max_cpu_percent: 90, max_memory_percent: 90 };
}
