/**
 * Refusing message text that carries a credential (DESIGN.md section 7), with secretlint:
 * the recommended preset finds cloud keys, service tokens (GitHub, Slack, npm, OpenAI,
 * Anthropic, …), private keys and passwords inside URLs; the pattern rule adds what no
 * secretlint rule covers (see {@link EXTRA_PATTERNS}). Findings name the kind of secret
 * and where it is (line, column) — never the secret itself, which would otherwise end up
 * in terminals and logs.
 *
 * Ordinary build talk must pass: commit hashes, job and message ids, UUIDs, version
 * strings, URLs without credentials (test/messages/secrets.test.ts pins these).
 */
import { CoordError } from '../errors.js';

/** One credential found. */
export interface SecretFinding {
  /** What was found, for people: `GitHub token`, `password assignment`, … */
  kind: string;
  /** Which rule found it: `secretlint-rule-github/GITHUB_TOKEN`, `pattern/password assignment`. */
  rule: string;
  /** Which text: `body` or `subject`. */
  field: string;
  /** 1-based line. */
  line: number;
  /** 1-based column (characters). */
  column: number;
}

/**
 * The pattern rule's table: only what no secretlint rule covers. Written as RegExp-like
 * strings (the rule adds the `u` and `g` flags).
 */
export const EXTRA_PATTERNS: readonly { name: string; patterns: string[] }[] = [
  {
    // `password=hunter2`, `DB_PASSWORD: "s3cr3t!"`, `secret := …`, `api_key => …`. A colon
    // form (prose or YAML) needs a value that looks like a credential, not a word.
    name: 'password assignment',
    patterns: [
      String.raw`/(?<![\w-])(?:[a-z0-9]+[_-])*(?:password|passwd|passphrase|pwd)\s*(?::=|=>|=)\s*["'\x60]?(?![$<{%*]|\.\.\.|(?:none|null|nil|empty|unset|redacted|hidden|required|true|false)\b)[^\s"'\x60,;]{3,}/i`,
      String.raw`/(?<![\w-])(?:[a-z0-9]+[_-])*(?:password|passwd|passphrase|pwd)\s*:\s*(?:["'\x60](?![$<{%*])[^\s"'\x60]{3,}["'\x60]|(?=[^\s,;]*(?:[0-9][^\s,;]*[a-z]|[a-z][^\s,;]*[0-9]|[!@#$%^&*+=?~]))(?![$<{%*])[^\s"'\x60,;]{6,})/i`,
    ],
  },
  {
    name: 'secret or token assignment',
    patterns: [
      String.raw`/(?<![\w-])(?:[a-z0-9]+[_-])*(?:secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth)\s*(?::=|=>|=)\s*["'\x60]?(?![$<{%*]|\.\.\.|(?:none|null|nil|empty|unset|redacted|hidden|required|true|false)\b)[^\s"'\x60,;]{6,}/i`,
      String.raw`/(?<![\w-])(?:[a-z0-9]+[_-])*(?:secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)\s*:\s*["'\x60]?(?=[^\s"'\x60,;]*[0-9])(?=[^\s"'\x60,;]*[a-z])(?![$<{%*])[^\s"'\x60,;]{12,}/i`,
    ],
  },
  {
    // `mysql --password hunter2`, `curl --token abc…`
    name: 'credential on a command line',
    patterns: [String.raw`/(?<![\w-])--(?:password|passwd|token|secret|api-key|access-key)\s+(?![-$<{%*])[^\s"'\x60]{3,}/i`],
  },
  {
    name: 'bearer token',
    patterns: [String.raw`/(?<![\w-])bearer\s+(?=[A-Za-z\-._~+\/]*[0-9])[A-Za-z0-9\-._~+\/]{16,}=*/i`],
  },
  {
    name: 'basic authorization header',
    patterns: [String.raw`/(?<![\w-])authorization\s*[:=]\s*["']?basic\s+[A-Za-z0-9+\/]{8,}={0,2}/i`],
  },
  {
    // The preset reports only complete keys; a pasted or truncated key is a leak too.
    name: 'private key block',
    patterns: [String.raw`/-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----/`],
  },
  { name: 'GitLab token', patterns: [String.raw`/(?<![\w-])gl(?:pat|dt|rt|ptt)-[0-9A-Za-z_\-]{20,}/`] },
  { name: 'Stripe secret key', patterns: [String.raw`/(?<![\w-])(?:sk|rk)_live_[0-9A-Za-z]{20,}/`] },
  { name: 'Google API key', patterns: [String.raw`/(?<![\w-])AIza[0-9A-Za-z_\-]{35}(?![\w-])/`] },
  { name: 'JSON Web Token', patterns: [String.raw`/(?<![\w-])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}/`] },
];

/** People's names for what the preset's rules report (rule → message id → kind). */
const PRESET_KINDS: Record<string, string> = {
  'aws/AWSAccessKeyID': 'AWS access key id',
  'aws/AWSSecretAccessKey': 'AWS secret access key',
  'aws/AWSAccountID': 'AWS account id assignment',
  gcp: 'Google Cloud service account key',
  privatekey: 'private key',
  npm: 'npm access token',
  basicauth: 'password inside a URL',
  slack: 'Slack token or webhook',
  sendgrid: 'SendGrid API key',
  shopify: 'Shopify token',
  github: 'GitHub token',
  openai: 'OpenAI API key',
  anthropic: 'Anthropic API key',
  linear: 'Linear API key',
  '1password': '1Password secret',
  'database-connection-string': 'database connection string with a password',
};

function kindOf(ruleId: string, messageId: string): string {
  const short = ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
  return PRESET_KINDS[`${short}/${messageId}`] ?? PRESET_KINDS[short] ?? `${short} (${messageId})`;
}

interface Raw { kind: string; rule: string; start: number; end: number; line: number; column: number; pattern: boolean }

type Lint = (text: string) => Promise<Raw[]>;
let linter: Promise<Lint> | null = null;

/** Loads secretlint on first use (about 35 ms), so commands that never scan do not pay. */
async function loadLinter(): Promise<Lint> {
  const [{ lintSource }, { rules: recommended }, { creator: pattern }] = await Promise.all([
    import('@secretlint/core'),
    import('@secretlint/secretlint-rule-preset-recommend'),
    import('@secretlint/secretlint-rule-pattern'),
  ]);
  // The preset's rules one by one rather than the preset itself: secretlint ignores
  // `disabled` for rules inside a preset, and the comment filter must go — a
  // `secretlint-disable` comment in a message must not switch the scanner off
  // (--allow-secret is the one way past it).
  const config = {
    rules: [
      ...recommended
        .filter((r) => r.meta.id !== '@secretlint/secretlint-rule-filter-comments')
        .map((r) => ({
          id: r.meta.id,
          rule: r,
          // AWS key ids are reported only with the id scan on.
          ...(r.meta.id === '@secretlint/secretlint-rule-aws' ? { options: { enableIDScanRule: true } } : {}),
        })),
      { id: '@secretlint/secretlint-rule-pattern', rule: pattern, options: { patterns: EXTRA_PATTERNS.map((p) => ({ name: p.name, patterns: [...p.patterns] })) } },
    ],
  };
  return async (text) => {
    const res = await lintSource({
      source: { content: text, filePath: 'message.txt', contentType: 'text' },
      // Unmasked: masking hides our pattern names too. The text never leaves this function.
      options: { config: config, noPhysicFilePath: true, maskSecrets: false },
    });
    return res.messages.map((m) => {
      const isPattern = m.ruleId.endsWith('secretlint-rule-pattern');
      // The pattern rule names the pattern in its data; the credential beside it is not kept.
      const data = (m.data ?? {}) as { PATTERN_NAME?: unknown };
      const name = isPattern ? (typeof data.PATTERN_NAME === 'string' ? data.PATTERN_NAME : 'credential pattern') : kindOf(m.ruleId, m.messageId);
      return {
        kind: name,
        rule: isPattern ? `pattern/${name}` : `${m.ruleId.replace(/^@secretlint\//, '')}/${m.messageId}`,
        start: m.range[0], end: m.range[1], line: m.loc.start.line, column: m.loc.start.column + 1, pattern: isPattern,
      };
    });
  };
}

/**
 * `text` with JSON string escapes undone in place, every offset kept (pure): `\"` becomes
 * ` "`, `\\` ` \`, `\/` ` /`, and `\n`, `\r`, `\t`, `\b`, `\f` two spaces; `\uXXXX`
 * stays. Inside a JSON file a message body `db password = "hunter2…"` is stored as
 * `password = \"hunter2…\"`, which no quote-aware pattern matches, and `\npassword=…`
 * hides the key behind the `n` of the escape. Lines and columns of the result are those of
 * `text`, so a finding in it points at the same place in the file.
 */
export function unescapeInPlace(text: string): string {
  return text.replace(/\\(["\\/bfnrt])/g, (_m, c: string) => (c === '"' || c === '\\' || c === '/' ? ` ${c}` : '  '));
}

/**
 * Scans text for credentials. Text holding a backslash is scanned a second time with
 * JSON escapes undone ({@link unescapeInPlace}), so a credential inside a JSON string
 * value is found as it would be in the decoded text (the pre-commit hook and
 * `coord sync --commit` scan coordination files as stored).
 * @param fields field name → text (`body`, `subject`)
 * @returns findings in text order; a finding of our own patterns that overlaps one of the
 *   preset's is dropped (the preset names it more precisely)
 */
export async function scanSecrets(fields: Record<string, string>): Promise<SecretFinding[]> {
  linter ??= loadLinter();
  const lint = await linter;
  const out: SecretFinding[] = [];
  for (const [field, text] of Object.entries(fields)) {
    if (!text) continue;
    const raw = await lint(text);
    if (text.includes('\\')) {
      // Same offsets: a decoded finding that overlaps one of the same kind is the same one.
      for (const d of await lint(unescapeInPlace(text))) {
        if (!raw.some((r) => r.kind === d.kind && r.start < d.end && d.start < r.end)) raw.push(d);
      }
    }
    const preset = raw.filter((r) => !r.pattern);
    const kept = raw.filter((r) => !r.pattern || !preset.some((p) => p.start < r.end && r.start < p.end));
    kept.sort((a, b) => a.start - b.start || a.end - b.end);
    const seen = new Set<string>();
    for (const r of kept) {
      const key = `${r.line}:${r.column}:${r.kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ kind: r.kind, rule: r.rule, field, line: r.line, column: r.column });
    }
  }
  return out;
}

/** `body line 2, column 7: password assignment` */
export function formatFinding(f: SecretFinding): string {
  return `${f.field} line ${f.line}, column ${f.column}: ${f.kind}`;
}

/** The refusal for findings: E_USAGE naming each kind and place, and the way past it. */
export function secretRefusal(findings: readonly SecretFinding[]): CoordError {
  const shown = findings.slice(0, 5).map(formatFinding).join('; ');
  const more = findings.length > 5 ? ` and ${findings.length - 5} more` : '';
  return new CoordError(
    'E_USAGE',
    `the message looks like it carries a credential (${shown}${more}); remove it, or pass --allow-secret if it is not one`,
    { details: { argument: 'BODY', secrets: findings } },
  );
}
