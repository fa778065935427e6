/**
 * Parsing the output of `git cat-file --batch` as a peer sent it (lib/ssh/peer-status.ts).
 * Pure. The peer is not trusted: every header is checked, every size bounded, and output
 * that does not follow the format is refused rather than guessed at.
 */

export type BatchResult =
  | { ok: true; blobs: Map<string, Buffer | null> }
  | { ok: false; reason: string };

const HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) ([0-9]{1,12})$/;

/**
 * Splits `--batch` output into one entry per request, in order.
 * @param requests the `<rev>:<path>` lines sent, in order
 * @param maxBlobBytes largest blob accepted; a bigger one fails the whole read
 * @returns request → bytes (null: missing there, or not a file)
 */
export function parseCatFileBatch(out: Buffer, requests: readonly string[], maxBlobBytes: number): BatchResult {
  const blobs = new Map<string, Buffer | null>();
  let pos = 0;
  for (const req of requests) {
    const nl = out.indexOf(10, pos);
    if (nl < 0) return { ok: false, reason: `output ends before the answer for ${req}` };
    const header = out.subarray(pos, nl).toString('utf8');
    pos = nl + 1;
    if (header === `${req} missing` || header === `${req} ambiguous`) { blobs.set(req, null); continue; }
    const m = HEADER.exec(header);
    if (!m) return { ok: false, reason: `unexpected line ${JSON.stringify(header.slice(0, 120))} for ${req}` };
    const size = Number(m[3]);
    if (size > maxBlobBytes) return { ok: false, reason: `${req} is ${size} bytes, over the ${maxBlobBytes}-byte limit` };
    if (pos + size + 1 > out.length) return { ok: false, reason: `output ends inside ${req}` };
    blobs.set(req, m[2] === 'blob' ? Buffer.from(out.subarray(pos, pos + size)) : null);
    pos += size + 1;
  }
  return { ok: true, blobs };
}
