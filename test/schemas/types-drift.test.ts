import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- a plain .mjs dev script without types
import { renderSchemaTypes } from '../../scripts/dev/render-types.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('generated schema types', () => {
  test('lib/schemas/types.gen.ts matches schemas/ (run npm run gen:types after editing a schema)', async () => {
    const expected = await (renderSchemaTypes as (dir: string) => Promise<string>)(path.join(root, 'schemas'));
    const actual = await readFile(path.join(root, 'lib/schemas/types.gen.ts'), 'utf8');
    expect(actual).toBe(expected);
  });
});

describe('the drift check can fail', () => {
  test('a changed schema renders different types', async () => {
    const { mkdtemp, cp, rm, writeFile: wf } = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'coord-drift-'));
    await cp(path.join(root, 'schemas'), dir, { recursive: true });
    const file = path.join(dir, 'jobs.schema.json');
    const schema = JSON.parse(await readFile(file, 'utf8'));
    schema.properties.extra_field_for_test = { type: 'string' };
    await wf(file, JSON.stringify(schema));
    let changed: string;
    try {
      changed = await (renderSchemaTypes as (dir: string) => Promise<string>)(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const actual = await readFile(path.join(root, 'lib/schemas/types.gen.ts'), 'utf8');
    expect(changed).not.toBe(actual);
    expect(changed).toContain('extra_field_for_test');
  });
});
