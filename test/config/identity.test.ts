/**
 * Builder identity (DESIGN.md section 2, lib/config/identity.ts): `--builder` >
 * `COORD_BUILDER` > `SERVER_ID` > `/etc/build_server_id` > `<repo>/.build_server_id` > a
 * hostname ending in build<N>/builder<N>; never a silent default to build1.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isCoordError } from '../../lib/errors.js';
import { findIdentity, normalizeBuilderId, requireIdentity, type IdentitySources } from '../../lib/config/identity.js';
import { makeTempDir, removeTree } from '../support/tree.js';

let dir: string;
let etcFile: string;
let repoRoot: string;

beforeAll(async () => {
  dir = await makeTempDir('coord-identity-');
  etcFile = path.join(dir, 'etc_build_server_id');
  repoRoot = path.join(dir, 'repo');
  await fs.mkdir(repoRoot);
});

afterAll(async () => {
  await removeTree(dir);
});

afterEach(async () => {
  await fs.rm(etcFile, { force: true });
  await fs.rm(path.join(repoRoot, '.build_server_id'), { force: true });
});

/** Which sources are set, for one row of the table. */
interface Row {
  flag?: string;
  coordBuilder?: string;
  serverId?: string;
  etc?: string;
  repoFile?: string;
  hostname?: string;
}

async function sources(row: Row): Promise<IdentitySources> {
  if (row.etc !== undefined) await fs.writeFile(etcFile, row.etc);
  if (row.repoFile !== undefined) await fs.writeFile(path.join(repoRoot, '.build_server_id'), row.repoFile);
  const env: NodeJS.ProcessEnv = {};
  if (row.coordBuilder !== undefined) env.COORD_BUILDER = row.coordBuilder;
  if (row.serverId !== undefined) env.SERVER_ID = row.serverId;
  return { flag: row.flag, env, repoRoot, etcFile, hostname: row.hostname ?? 'ci-runner.example' };
}

describe('findIdentity: resolution order', () => {
  const all: Row = { flag: 'build1', coordBuilder: 'build2', serverId: 'build3', etc: 'build4\n', repoFile: 'build5\n', hostname: 'farm-build6.example' };
  test.each<[string, Row, string, RegExp]>([
    ['--builder wins over everything', all, 'build1', /^--builder$/],
    ['then COORD_BUILDER', { ...all, flag: undefined }, 'build2', /^COORD_BUILDER$/],
    ['then SERVER_ID', { ...all, flag: undefined, coordBuilder: undefined }, 'build3', /^SERVER_ID$/],
    ['then /etc/build_server_id', { repoFile: 'build5', etc: 'build4\n', hostname: 'farm-build6' }, 'build4', /etc_build_server_id$/],
    ['then <repo>/.build_server_id', { repoFile: '5\n', hostname: 'farm-build6' }, 'build5', /repo\/\.build_server_id$/],
    ['then a hostname ending in build<N>', { hostname: 'farm-build6.example.org' }, 'build6', /^hostname farm-build6\.example\.org$/],
    ['or ending in builder<N>', { hostname: 'builder12' }, 'build12', /^hostname builder12$/],
    ['an empty flag is no flag', { flag: '', coordBuilder: 'build2' }, 'build2', /^COORD_BUILDER$/],
    ['an empty file is no file', { etc: '  \n', repoFile: 'build5' }, 'build5', /\.build_server_id$/],
  ])('%s', async (_name, row, builder, source) => {
    const id = findIdentity(await sources(row));
    expect(id?.builder).toBe(builder);
    expect(id?.source).toMatch(source);
  });
});

describe('normalizeBuilderId', () => {
  test.each([
    ['2', 'build2'],
    ['12', 'build12'],
    [' 3 \n', 'build3'],
    ['build2', 'build2'],
    ['Build2', 'build2'],
    ['BUILD7', 'build7'],
    ['0', null],
    ['02', null],
    ['build0', null],
    ['build', null],
    ['builder2', null],
    ['build-2', null],
    ['server1', null],
    ['12345', null],
    ['', null],
  ])('%j → %j', (raw, id) => {
    expect(normalizeBuilderId(raw)).toBe(id);
  });

  test('"2" from any source means build2', async () => {
    for (const row of [{ flag: '2' }, { coordBuilder: '2' }, { serverId: '2' }, { etc: '2\n' }, { repoFile: '2' }] as Row[]) {
      expect(findIdentity(await sources(row))?.builder).toBe('build2');
      await fs.rm(etcFile, { force: true });
      await fs.rm(path.join(repoRoot, '.build_server_id'), { force: true });
    }
  });
});

describe('garbage is refused, never skipped', () => {
  test.each<[string, Row, RegExp]>([
    ['--builder banana', { flag: 'banana', coordBuilder: 'build2' }, /--builder says "banana"/],
    ['COORD_BUILDER=build0', { coordBuilder: 'build0', serverId: 'build3' }, /COORD_BUILDER says "build0"/],
    ['SERVER_ID=web-01', { serverId: 'web-01' }, /SERVER_ID says "web-01"/],
    ['/etc/build_server_id holding a sentence', { etc: 'this is build 4\n', repoFile: 'build5' }, /etc_build_server_id says "this is build 4"/],
    ['.build_server_id holding -1', { repoFile: '-1' }, /\.build_server_id says "-1"/],
  ])('%s → E_IDENTITY naming the source', async (_name, row, message) => {
    const src = await sources(row);
    let caught: unknown;
    try { findIdentity(src); } catch (err) { caught = err; }
    expect(isCoordError(caught, 'E_IDENTITY')).toBe(true);
    expect((caught as Error).message).toMatch(message);
    expect(() => requireIdentity(src)).toThrow(message);
  });
});

describe('nothing names a builder', () => {
  test.each(['ci-runner', 'build', 'build0', 'rebuild-server', 'build1x', 'localhost'])('hostname %j → null, and requireIdentity throws E_IDENTITY', async (hostname) => {
    const src = await sources({ hostname });
    expect(findIdentity(src)).toBeNull();
    let caught: unknown;
    try { requireIdentity(src); } catch (err) { caught = err; }
    expect(isCoordError(caught, 'E_IDENTITY')).toBe(true);
    expect((caught as Error).message).toMatch(/--builder buildN.*COORD_BUILDER.*\.build_server_id/);
  });

  test('there is no silent default to build1', async () => {
    const id = findIdentity(await sources({ hostname: 'nothing-here' }));
    expect(id).toBeNull();
  });
});
