/**
 * Temp coordination trees for scenario tests: creation (through `initRepository`, the code
 * behind `coord init`), JSON edits, a fingerprint of every file to prove that a command
 * wrote nothing, and a hermetic `git` for trees that must be repositories.
 *
 * Everything here takes the tree's root folder as a parameter (no `process.cwd()`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initRepository } from '../../lib/commands/init.js';

/** The `now` trees are created at (epoch ms): 2025-11-04T20:45:00Z, fixed so files are reproducible. */
export const TREE_NOW = Date.UTC(2025, 10, 4, 20, 45, 0);

/**
 * A new empty folder under the system temp folder.
 * @param prefix name prefix, e.g. `coord-validate-`
 * @returns the absolute path (its real path, so symlinked temp folders do not confuse path checks)
 */
export async function makeTempDir(prefix = 'coord-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return fs.realpath(dir);
}

/** Options of {@link makeCoordTree}. */
export interface CoordTreeOptions {
  /** Number of builders (build1..buildN). Default 2. */
  builders?: number;
  /** Creation time (epoch ms) of status/heartbeat/dashboard timestamps. Default {@link TREE_NOW}. */
  now?: number;
  /** Temp folder name prefix. */
  prefix?: string;
}

/**
 * A fresh coordination tree, exactly what `coord init --builders N --dir DIR` makes (it
 * calls the same function, in-process, for speed).
 * @returns the absolute root of the tree; remove it with {@link removeTree}
 */
export async function makeCoordTree(opts: CoordTreeOptions = {}): Promise<string> {
  const root = await makeTempDir(opts.prefix ?? 'coord-tree-');
  await initRepository({ root, builders: opts.builders ?? 2, now: opts.now ?? TREE_NOW });
  return root;
}

/** Removes a tree made by {@link makeTempDir} / {@link makeCoordTree} (restoring permissions first). */
export async function removeTree(root: string): Promise<void> {
  // A test may have left a file or folder mode 000; rm as non-root would then fail.
  spawnSync('chmod', ['-R', 'u+rwX', root]);
  await fs.rm(root, { recursive: true, force: true });
}

/** Reads and parses `root/rel`. */
export async function readJson(root: string, rel: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(path.join(root, rel), 'utf8')) as unknown;
}

/** Writes `value` to `root/rel` as 2-space JSON with a trailing newline (folders created). */
export async function writeJson(root: string, rel: string, value: unknown): Promise<void> {
  await writeText(root, rel, JSON.stringify(value, null, 2) + '\n');
}

/** Writes raw text or bytes to `root/rel` (folders created). */
export async function writeText(root: string, rel: string, content: string | Buffer): Promise<void> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, content);
}

/**
 * Reads `root/rel` as JSON, lets `edit` change it (in place or by returning a new value),
 * and writes it back.
 */
export async function editJson<T = Record<string, unknown>>(root: string, rel: string, edit: (doc: T) => T | void): Promise<void> {
  const doc = (await readJson(root, rel)) as T;
  const out = edit(doc);
  await writeJson(root, rel, out === undefined ? doc : out);
}

/** Options of {@link fingerprintTree}. */
export interface FingerprintOptions {
  /** Top-level entries to leave out (e.g. `['.git']`). */
  exclude?: string[];
}

/**
 * A fingerprint of every entry under `root`: for each path its type, mode, size, inode,
 * mtime and (for files) the sha256 of the content; for links the target; for folders the
 * mtime too. Equal fingerprints before and after a command prove it wrote nothing — not even
 * an identical rewrite (a rename changes the inode) or a temp file it removed again (the
 * folder's mtime changes).
 * @returns path (relative, '/'-separated) → description, sorted by path
 */
export async function fingerprintTree(root: string, opts: FingerprintOptions = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const exclude = new Set(opts.exclude ?? []);
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? path.join(root, rel) : root;
    const st = await fs.lstat(abs);
    const meta = `mode=${st.mode.toString(8)} ino=${st.ino} mtime=${st.mtimeMs}`;
    const key = rel || '.';
    if (st.isSymbolicLink()) {
      out[key] = `link -> ${await fs.readlink(abs)} ${meta}`;
    } else if (st.isDirectory()) {
      out[key] = `dir ${meta}`;
      const names = (await fs.readdir(abs)).sort();
      for (const n of names) {
        if (!rel && exclude.has(n)) continue;
        await walk(rel ? `${rel}/${n}` : n);
      }
    } else if (st.isFile()) {
      out[key] = `file size=${st.size} ${meta} sha256=${await hashFile(abs)}`;
    } else {
      out[key] = `other ${meta}`;
    }
  };
  await walk('');
  return out;
}

async function hashFile(abs: string): Promise<string> {
  const h = createHash('sha256');
  // A test may make a file unreadable on purpose; its metadata still fingerprints it.
  const fh = await fs.open(abs, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EACCES') return null;
    throw err;
  });
  if (!fh) return 'unreadable';
  try {
    for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return h.digest('hex');
}

/** Result of {@link git}. */
export interface GitRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git ARGS` in `cwd` with the hermetic environment of the jest process
 * (test/support/hermetic-env.js: no global/system config, fixed identity, TZ=UTC) and
 * background gc switched off.
 * @throws Error when git exits non-zero, unless `allowFailure`
 */
export function git(cwd: string, args: string[], opts: { allowFailure?: boolean; input?: string } = {}): GitRun {
  const r = spawnSync('git', ['-c', 'gc.auto=0', '-c', 'commit.gpgsign=false', '-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], {
    cwd, env: process.env, encoding: 'utf8', ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  const res: GitRun = { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.status !== 0 && !opts.allowFailure) throw new Error(`git ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return res;
}

/**
 * Makes `root` a git repository on branch `main` and commits everything in it.
 * @returns the commit id
 */
export function initGitRepo(root: string, message = 'coord init'): string {
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '--no-verify', '-m', message]);
  return git(root, ['rev-parse', 'HEAD']).stdout.trim();
}

/** Number of commits reachable from HEAD. */
export function commitCount(root: string): number {
  return Number(git(root, ['rev-list', '--count', 'HEAD']).stdout.trim());
}
