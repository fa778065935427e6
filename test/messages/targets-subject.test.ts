/**
 * TARGETS, bodies and subjects (lib/messages/targets.ts, subject.ts): pure, table-driven.
 */
import { isCoordError } from '../../lib/errors.js';
import { parseTargets, resolveTargets } from '../../lib/messages/targets.js';
import { bodyLines, checkBody, checkSubject, chooseSubject, cutAtWord, decodeStdinBody, deriveSubject } from '../../lib/messages/subject.js';

const FLEET = ['build1', 'build2', 'build3', 'build4'];

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isCoordError(err, 'E_USAGE')) return err.message;
    throw err;
  }
  throw new Error('expected an E_USAGE error');
}

describe('parseTargets: accepted', () => {
  test.each<[string, ReturnType<typeof parseTargets>]>([
    ['all', { kind: 'all' }],
    ['ALL', { kind: 'all' }],
    ['2', { kind: 'builders', builders: ['build2'] }],
    ['12', { kind: 'builders', builders: ['build1', 'build2'] }],
    ['13', { kind: 'builders', builders: ['build1', 'build3'] }],
    ['221', { kind: 'builders', builders: ['build2', 'build1'] }],
    ['1,12', { kind: 'builders', builders: ['build1', 'build12'] }],
    ['build3', { kind: 'builders', builders: ['build3'] }],
    ['Build3', { kind: 'builders', builders: ['build3'] }],
    ['1, build4', { kind: 'builders', builders: ['build1', 'build4'] }],
    ['2,2', { kind: 'builders', builders: ['build2'] }],
  ])('%s', (raw, want) => {
    expect(parseTargets(raw)).toEqual(want);
  });
});

describe('parseTargets: refused with E_USAGE naming TARGETS', () => {
  test.each<[string, RegExp]>([
    ['0', /TARGETS "0": builder 0 does not exist/],
    ['10', /no builder 0 \(for build10 and up write build10/],
    ['build', /"build" has no number/],
    ['build0', /builder build0 does not exist/],
    ['1,,2', /item 2 of the comma list is empty/],
    [',1', /item 1 of the comma list is empty/],
    ['all,1', /"all" cannot be combined/],
    ['1,all', /"all" cannot be combined/],
    ['', /no target given/],
    ['x', /"x" is not a builder/],
    ['build2x', /"build2x" is not a builder/],
    ['01,2', /leading zero/],
    ['-1', /is not a builder/],
  ])('%j', (raw, re) => {
    expect(usageError(() => parseTargets(raw))).toMatch(re);
  });
});

describe('resolveTargets', () => {
  const resolve = (raw: string, sender = 'build1', builders = FLEET) => resolveTargets(parseTargets(raw), raw, { builders, sender });

  test('all: every configured builder but the sender', () => {
    expect(resolve('all')).toEqual({ to: 'all', recipients: ['build2', 'build3', 'build4'], droppedSelf: false });
  });
  test('one builder: to is a string; several: a sorted list', () => {
    expect(resolve('2').to).toBe('build2');
    expect(resolve('4,2').to).toEqual(['build2', 'build4']);
  });
  test('the sender named among others is left out (and said so)', () => {
    expect(resolve('12')).toEqual({ to: 'build2', recipients: ['build2'], droppedSelf: true });
  });
  test('9 in a fleet of 4: the error lists the configured builders', () => {
    expect(usageError(() => resolve('9'))).toMatch(/build9 is not a configured builder; configured builders: build1, build2, build3, build4/);
  });
  test('only the sender itself: refused', () => {
    expect(usageError(() => resolve('1'))).toMatch(/build1 is the sender/);
  });
  test('all in a fleet of one: refused', () => {
    expect(usageError(() => resolve('all', 'build1', ['build1']))).toMatch(/no builder besides build1/);
  });
  test('a trusted sender may send to all builders', () => {
    expect(resolve('all', 'alice').recipients).toEqual(FLEET);
  });
});

describe('subjects', () => {
  test.each<[string, string]>([
    ['acked', 'acked'],
    ['\n\n  first real line  \nsecond', 'first real line'],
    ['build failed\\nsee the log at /var/log/x', 'build failed'],
    ['\\n\\nafter literal blanks\\nmore', 'after literal blanks'],
    ['real newline wins\nover a literal \\n inside', 'real newline wins'],
    ['tabs\tand   spaces', 'tabs and spaces'],
    ['CRLF line\r\nnext', 'CRLF line'],
  ])('%j → %j', (body, subject) => {
    expect(deriveSubject(body)).toBe(subject);
  });

  test('a long first line is cut at a word, at most 100 characters, marked with …', () => {
    const s = deriveSubject(`${'word '.repeat(40)}end`);
    expect([...s].length).toBeLessThanOrEqual(100);
    expect(s).toMatch(/^word( word)+…$/);
  });
  test('a single 150-character word is cut inside the word', () => {
    const s = cutAtWord('x'.repeat(150));
    expect([...s].length).toBe(100);
    expect(s.endsWith('…')).toBe(true);
  });
  test('characters, not UTF-16 units: 100 emoji fit', () => {
    expect(cutAtWord('😀'.repeat(100))).toBe('😀'.repeat(100));
  });
  test('the body keeps literal \\n: only the subject splits on it', () => {
    expect(bodyLines('a\\nb')).toEqual(['a', 'b']);
    expect(chooseSubject('a\\nb', undefined)).toBe('a');
  });
  test('--subject: 100 characters pass, 101 are refused, empty and multi-line are refused', () => {
    expect(() => checkSubject('s'.repeat(100))).not.toThrow();
    expect(usageError(() => checkSubject('s'.repeat(101)))).toMatch(/--subject is 101 characters, over the 100-character limit/);
    expect(usageError(() => checkSubject('  '))).toMatch(/--subject is empty/);
    expect(usageError(() => checkSubject('a\nb'))).toMatch(/one line/);
  });
});

describe('bodies', () => {
  test('10,000 characters pass; 10,001 are refused naming the limit', () => {
    expect(() => checkBody('b'.repeat(10_000))).not.toThrow();
    expect(usageError(() => checkBody('b'.repeat(10_001)))).toMatch(/BODY is 10001 characters, over the 10000-character limit/);
  });
  test('empty or blank: refused', () => {
    expect(usageError(() => checkBody(''))).toMatch(/BODY is empty/);
    expect(usageError(() => checkBody(' \n\t'))).toMatch(/BODY is empty/);
  });
  test('standard input: empty (closed), binary, not UTF-8 are refused', () => {
    expect(usageError(() => decodeStdinBody(Buffer.alloc(0)))).toMatch(/standard input is empty/);
    expect(usageError(() => decodeStdinBody(Buffer.from([0x68, 0x00, 0x69])))).toMatch(/standard input is binary \(NUL byte at offset 1\)/);
    expect(usageError(() => decodeStdinBody(Buffer.from([0xc3, 0x28])))).toMatch(/not UTF-8/);
  });
  test('standard input: byte-exact except trailing line breaks', () => {
    const text = '$(rm -rf ~) `id` ;|& "q" \'s\' \\n  \n  indented\n\n';
    expect(decodeStdinBody(Buffer.from(text))).toBe('$(rm -rf ~) `id` ;|& "q" \'s\' \\n  \n  indented');
  });
});
