/**
 * The client-side git hooks of a builder's clone (DESIGN.md section 10): a `pre-commit`
 * hook that runs `coord hook pre-commit` (lib/hooks/pre-commit.ts) with this
 * installation's node and `bin/coord.js`, so a hand edit can never be committed invalid or
 * with a credential in it. Upstream shipped hooks that no setup installed; here
 * `scripts/setup_build.sh` installs them through `coord hook install`, and `coord doctor`
 * checks them with {@link inspectClientHooks}.
 *
 * A hook that is already there and is not ours is never overwritten silently: it is kept as
 * `<name>.pre-coord` (mode and content untouched) and our hook runs it after its own checks
 * pass, with the same arguments. When that backup name is taken too, installing refuses.
 *
 * Our own commits never run these hooks: every git call of the tool passes
 * `core.hooksPath=/dev/null` (lib/git/run.ts), so hooks cannot block or hang a transaction.
 */
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { git } from '../git/run.js';

/** The hooks a builder's clone gets. */
export const CLIENT_HOOKS = ['pre-commit'] as const;
export type ClientHookName = (typeof CLIENT_HOOKS)[number];

/** The line that marks a hook file as ours. */
export const HOOK_MARKER = 'installed by build-coord';

/** Suffix of a foreign hook kept by {@link installClientHooks}; our hook runs it after its own checks. */
export const CHAINED_SUFFIX = '.pre-coord';

/** Where hooks live and why. */
export interface HooksLocation {
  /** Absolute folder. */
  dir: string;
  /** `default` (`<git-common-dir>/hooks`) or the config scope that set `core.hooksPath`. */
  source: 'default' | 'local' | 'worktree' | 'global' | 'system';
}

/** What happened (or would happen) to one hook. */
export interface HookOutcome {
  name: ClientHookName;
  path: string;
  /** The setup vocabulary: `done`, `already done`, `would do` (dry run). */
  status: 'done' | 'already done' | 'would do';
  /** For people: what changed, or why nothing did. */
  detail: string;
}

/** How an existing hook file relates to the one we want. */
export type HookState =
  | { kind: 'missing' }
  | { kind: 'current' }
  | { kind: 'ours-outdated'; text: string }
  | { kind: 'foreign' };

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hook script: a few lines of POSIX sh calling `NODE COORD_JS hook NAME`, then the kept
 * earlier hook (if any) with the same arguments.
 * @param node absolute path of the node binary
 * @param coordJs absolute path of this installation's `bin/coord.js`
 */
export function hookScript(name: ClientHookName, node: string, coordJs: string): string {
  return [
    '#!/bin/sh',
    `# ${name} hook ${HOOK_MARKER} (scripts/setup_build.sh, \`coord hook install\`).`,
    '# Refuses a commit whose staged coordination files are invalid (coord validate --staged)',
    '# or whose staged changes carry a credential. Re-run the setup after moving node or the',
    `# installation. A hook that was here before is kept as ${name}${CHAINED_SUFFIX} and runs after.`,
    `${shQuote(node)} ${shQuote(coordJs)} hook ${name} "$@" || exit $?`,
    // git runs hooks by path, so $0 always has a folder part.
    `chained="\${0%/*}/${name}${CHAINED_SUFFIX}"`,
    'if [ -x "$chained" ]; then exec "$chained" "$@"; fi',
    'exit 0',
    '',
  ].join('\n');
}

/** Classifies an existing hook file's text against the one we want (pure). */
export function classifyHook(existing: string | null, wanted: string): HookState {
  if (existing === null) return { kind: 'missing' };
  if (existing === wanted) return { kind: 'current' };
  if (existing.includes(HOOK_MARKER)) return { kind: 'ours-outdated', text: existing };
  return { kind: 'foreign' };
}

/** The node and `bin/coord.js` a hook of ours calls (pure); null when the call line is not there. */
export function parseHookCall(text: string): { node: string; coordJs: string } | null {
  const q = "'((?:[^']|'\\\\'')*)'";
  const m = new RegExp(`^${q} ${q} hook `, 'm').exec(text);
  const un = (s: string) => s.replace(/'\\''/g, "'");
  return m ? { node: un(m[1]), coordJs: un(m[2]) } : null;
}

/**
 * Finds the hooks folder: `core.hooksPath` when set (relative values are relative to the
 * work tree's top, `~/` is the home folder, as git reads them), else
 * `<git-common-dir>/hooks` (shared by linked work trees).
 */
export async function locateHooks(repoRoot: string): Promise<HooksLocation> {
  // Our git door forces core.hooksPath=/dev/null on the command line (scope "command"):
  // ask for every value with its scope and ignore that one.
  const r = await git(repoRoot, ['config', '--show-scope', '--get-all', 'core.hooksPath'], { allowFailure: true });
  const set = r.stdout.split('\n').filter(Boolean)
    .map((l) => { const i = l.indexOf('\t'); return { scope: l.slice(0, i), value: l.slice(i + 1) }; })
    .filter((e) => e.scope !== 'command' && e.value !== '');
  const last = set[set.length - 1];
  if (last) {
    const v = last.value.startsWith('~/') ? path.join(os.homedir(), last.value.slice(2)) : last.value;
    const scope = (['local', 'worktree', 'global', 'system'].includes(last.scope) ? last.scope : 'global') as HooksLocation['source'];
    return { dir: path.resolve(repoRoot, v), source: scope };
  }
  const common = (await git(repoRoot, ['rev-parse', '--git-common-dir'])).stdout.trim();
  return { dir: path.join(path.resolve(repoRoot, common), 'hooks'), source: 'default' };
}

async function readText(p: string): Promise<string | null> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

async function writeExecutable(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o755 });
  await fs.chmod(tmp, 0o755); // the umask may have taken bits away
  await fs.rename(tmp, file);
}

export interface InstallHooksOptions {
  repoRoot: string;
  /** Absolute node binary the hooks call. */
  node: string;
  /** Absolute `bin/coord.js` the hooks call. */
  coordJs: string;
  /** Report only; write nothing. */
  dryRun: boolean;
}

/**
 * Installs (or checks) every client hook. Idempotent: a current hook is left alone, file
 * and mtime untouched.
 * @throws CoordError E_USAGE when `core.hooksPath` comes from global or system config (our
 *   hook would then run in every repository of the user), or when a foreign hook is there
 *   and its backup name is taken as well
 */
export async function installClientHooks(o: InstallHooksOptions): Promise<HookOutcome[]> {
  const loc = await locateHooks(o.repoRoot);
  if (loc.source === 'global' || loc.source === 'system') {
    throw new CoordError('E_USAGE', `core.hooksPath is set in ${loc.source} git config (${loc.dir}): a hook installed there would run in every repository. ` +
      `Give this clone its own hooks folder (git -C ${o.repoRoot} config core.hooksPath .git/hooks) and run setup again`);
  }
  const out: HookOutcome[] = [];
  for (const name of CLIENT_HOOKS) {
    const file = path.join(loc.dir, name);
    const wanted = hookScript(name, o.node, o.coordJs);
    const state = classifyHook(await readText(file), wanted);
    if (state.kind === 'current') {
      // The content is right; a lost executable bit would still stop git from running it.
      const st = await fs.stat(file);
      if (st.mode & constants.S_IXUSR) { out.push({ name, path: file, status: 'already done', detail: file }); continue; }
      if (!o.dryRun) await fs.chmod(file, 0o755);
      out.push({ name, path: file, status: o.dryRun ? 'would do' : 'done', detail: `${file} made executable` });
      continue;
    }
    let detail = file;
    if (state.kind === 'foreign') {
      const backup = file + CHAINED_SUFFIX;
      if (await exists(backup)) {
        throw new CoordError('E_USAGE', `${file} is a hook build-coord did not write, and ${backup} exists as well; ` +
          `merge the two by hand (keep one as ${name}${CHAINED_SUFFIX}, which our hook runs after its checks), then run setup again`);
      }
      if (!o.dryRun) await fs.rename(file, backup);
      detail = `${file} (your earlier hook kept as ${path.basename(backup)}; it runs after ours)`;
    } else if (state.kind === 'ours-outdated') {
      const was = parseHookCall(state.text)?.coordJs;
      detail = `${file} (updated${was && was !== o.coordJs ? `; it called ${was}` : ''})`;
    }
    if (!o.dryRun) {
      await fs.mkdir(loc.dir, { recursive: true });
      await writeExecutable(file, wanted);
    }
    out.push({ name, path: file, status: o.dryRun ? 'would do' : 'done', detail });
  }
  return out;
}

/** One hook as `coord doctor` sees it. */
export interface HookInspection {
  name: ClientHookName;
  path: string;
  /** `ok`: ours, current, executable, and its node exists. */
  ok: boolean;
  /** What is wrong, for people; null when ok. */
  problem: string | null;
}

/**
 * Checks every client hook against this installation (read-only): ours, current, calling
 * this installation's `bin/coord.js` with a node that exists, executable.
 */
export async function inspectClientHooks(repoRoot: string, coordJs: string): Promise<HookInspection[]> {
  const loc = await locateHooks(repoRoot);
  const out: HookInspection[] = [];
  for (const name of CLIENT_HOOKS) {
    const file = path.join(loc.dir, name);
    const text = await readText(file);
    const fail = (problem: string) => out.push({ name, path: file, ok: false, problem });
    if (text === null) { fail(`${file} is missing`); continue; }
    if (!text.includes(HOOK_MARKER)) { fail(`${file} is not build-coord's hook`); continue; }
    const call = parseHookCall(text);
    if (!call || call.coordJs !== coordJs) { fail(`${file} calls ${call?.coordJs ?? 'an unknown coord'}, not this installation's ${coordJs}`); continue; }
    if (!(await fs.access(call.node, constants.X_OK).then(() => true, () => false))) { fail(`${file} calls node at ${call.node}, which is not there`); continue; }
    if (text !== hookScript(name, call.node, coordJs)) { fail(`${file} is an older version of build-coord's hook`); continue; }
    const st = await fs.stat(file);
    if (!(st.mode & constants.S_IXUSR)) { fail(`${file} is not executable, so git skips it`); continue; }
    out.push({ name, path: file, ok: true, problem: null });
  }
  return out;
}
