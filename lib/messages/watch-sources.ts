/**
 * Where a watcher finds messages: the remote's `main` as last fetched (the tracking ref,
 * read with git plumbing, so a dirty working tree does not matter), and the working-tree
 * `coordination/messages.json` (a person or agent who pulled, or added a message by hand).
 * Change detection is by commit id and content hash, never by mtime: file watchers miss
 * atomic-rename saves and mtime-preserving writes (PLATFORM.md "chokidar").
 */
import { createHash } from 'node:crypto';
import type { Policy } from '../config/policy.js';
import type { RemoteSpec } from '../git/repo.js';
import { checkCoordinationFile } from '../store/check.js';
import { readRepoFile } from '../store/files.js';
import { messagesOf, MESSAGES_PATH, type Message } from './model.js';
import { fetchRemote, readableCommit, readSnapshot, type MessagesSnapshot } from './repo-state.js';

/** A diagnostic for the watcher's log. */
export interface SourceEvent {
  level: 'info' | 'warn';
  code: string;
  text: string;
}

/** A diagnostic line of the watcher (standard error), about one message when `id` is set. */
export type WatchEvent = SourceEvent & { id?: string };

/** Messages and configuration as the watcher knows them. */
export interface SourceView {
  /** Messages on the remote (tracking ref). */
  remote: Message[];
  /** Messages only in the working tree (not on the remote as last fetched). */
  localOnly: Message[];
  builders: string[];
  policy: Policy;
}

/** Tracks the two sources and says when either changed. */
export class MessageSources {
  private commit: string | null | undefined = undefined;
  private snapshot: MessagesSnapshot | null = null;
  private localHash: string | null | undefined = undefined;
  private local: Message[] = [];
  private fetchProblem: string | null = null;
  private warnedCommit: string | null = null;
  private warnedLocalHash: string | null = null;

  constructor(
    private readonly repoRoot: string,
    private readonly spec: RemoteSpec,
    private readonly now: () => number,
    private readonly report: (e: SourceEvent) => void,
  ) {}

  /** Fetches the remote's branch; reports when it becomes unreachable and when it returns. */
  async fetch(): Promise<void> {
    const r = await fetchRemote(this.repoRoot, this.spec, 2000);
    if (r.ok) {
      if (this.fetchProblem) this.report({ level: 'info', code: 'fetch-ok', text: `fetching ${this.spec.remote} works again` });
      this.fetchProblem = null;
      return;
    }
    if (this.fetchProblem !== r.reason) {
      this.report({ level: 'warn', code: r.unreachable ? 'unreachable' : 'fetch-failed', text: `cannot fetch ${this.spec.remote}/${this.spec.branch} (${r.reason}); delivering what is known, retrying` });
    }
    this.fetchProblem = r.reason;
  }

  /**
   * Re-reads both sources.
   * @returns true when either changed since the last call
   */
  async refresh(): Promise<boolean> {
    let changed = false;
    const commit = await readableCommit(this.repoRoot, this.spec);
    if (commit !== this.commit) {
      const snap = await readSnapshot(this.repoRoot, commit, this.now());
      if (snap.issues.length) {
        // Keep what we had: an invalid file on the remote must be fixed by hand, and its
        // messages cannot be trusted meanwhile.
        if (this.warnedCommit !== commit) {
          this.report({ level: 'warn', code: 'remote-invalid', text: `${MESSAGES_PATH} at ${commit?.slice(0, 12)} is invalid (${snap.issues[0].pointer || '/'}: ${snap.issues[0].reason}); waiting for a fix` });
          this.warnedCommit = commit;
        }
        if (!this.snapshot) this.snapshot = { ...snap, messages: [] };
      } else {
        this.snapshot = snap;
      }
      this.commit = commit;
      changed = true;
    }
    const bytes = await readRepoFile(this.repoRoot, MESSAGES_PATH).catch(() => null);
    const hash = bytes ? createHash('sha256').update(bytes).digest('hex') : null;
    if (hash !== this.localHash) {
      this.localHash = hash;
      changed = true;
      if (bytes) {
        const snap = this.snapshot;
        const r = checkCoordinationFile(MESSAGES_PATH, bytes, { builders: snap?.builders ?? null, policy: snap!.policy, now: this.now() });
        if (r.ok) this.local = messagesOf(r.value);
        else if (this.warnedLocalHash !== hash) {
          // Often a hand edit in progress: its messages count once the file is valid again.
          this.report({ level: 'warn', code: 'local-invalid', text: `working-tree ${MESSAGES_PATH} is invalid (${r.issues[0]?.pointer || '/'}: ${r.issues[0]?.reason ?? 'unreadable'}); using the remote's copy until it is fixed` });
          this.warnedLocalHash = hash;
        }
      } else {
        this.local = [];
      }
    }
    return changed;
  }

  /** The current view. */
  view(): SourceView {
    const remote = this.snapshot?.messages ?? [];
    const ids = new Set(remote.map((m) => m.id));
    return {
      remote,
      localOnly: this.local.filter((m) => !ids.has(m.id)),
      builders: this.snapshot?.builders ?? [],
      policy: this.snapshot!.policy,
    };
  }
}
