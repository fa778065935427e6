/**
 * The file-system door for coordination files: safe path resolution inside a repository
 * and atomic writes (temp file in the same folder, fsync, rename), so a crash between
 * write and rename leaves the old file whole.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { MAX_FILE_BYTES } from './parse.js';
import { cryptoRandomHex } from '../util/ids.js';

/**
 * Resolves `input` (absolute, or relative to `cwd`) to a '/'-separated path relative to
 * `repoRoot`.
 * @throws CoordError E_PATH when the path lies outside the repository
 */
export function repoRelative(repoRoot: string, input: string, cwd: string = process.cwd()): string {
  const abs = path.resolve(cwd, input);
  const rel = path.relative(repoRoot, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new CoordError('E_PATH', `${input}: path is outside the repository ${repoRoot}; give a file inside it`);
  }
  return rel.split(path.sep).join('/');
}

/**
 * Reads a coordination file's bytes, refusing what must not be trusted: a symlink (it
 * could point anywhere, and git stores it as a link), anything that is not a regular
 * file, a file over the size limit (read no further than needed), an unreadable file.
 * @returns the bytes, or null when the file does not exist
 * @throws CoordError E_INVALID with one issue naming the file
 */
export async function readRepoFile(repoRoot: string, rel: string): Promise<Buffer | null> {
  const abs = path.join(repoRoot, rel);
  const fail = (reason: string): never => {
    throw new CoordError('E_INVALID', `${rel}: ${reason}`, { issues: [{ file: rel, pointer: '', reason, severity: 'error' }] });
  };
  // Every parent folder must be a real folder inside the repository too.
  const real = await fs.realpath(path.dirname(abs)).catch(() => null);
  const realRoot = await fs.realpath(repoRoot);
  if (real !== null && real !== realRoot && !real.startsWith(realRoot + path.sep)) fail(`folder is a link to ${real}, outside the repository`);
  let st;
  try {
    st = await fs.lstat(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return fail(`cannot be read: ${(err as Error).message}`);
  }
  if (st.isSymbolicLink()) {
    const target = await fs.readlink(abs).catch(() => '?');
    return fail(`is a symbolic link (to ${target}); coordination files must be regular files in the repository`);
  }
  if (!st.isFile()) return fail('is not a regular file');
  if (st.size > MAX_FILE_BYTES) return fail(`file is ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte limit; archive old records instead of growing it`);
  try {
    return await fs.readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'EACCES' ? 'permission denied: the file is not readable by this user; fix its mode (chmod 644) or owner' : `cannot be read: ${(err as Error).message}`);
  }
}

/**
 * Writes `text` to `repoRoot/rel` atomically: a temp file beside the target, fsync, rename,
 * then fsync of the folder. The target is never half-written.
 */
export async function writeFileAtomic(repoRoot: string, rel: string, text: string): Promise<void> {
  const abs = path.join(repoRoot, rel);
  const dir = path.dirname(abs);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(abs)}.${process.pid}.${cryptoRandomHex(4)}.tmp`);
  const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, abs);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  const dh = await fs.open(dir, constants.O_RDONLY).catch(() => null);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
  }
}
