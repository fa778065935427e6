/**
 * Credential scanning of message text (lib/messages/secrets.ts, secretlint): each kind is
 * refused with its name and place; ordinary build talk passes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { formatFinding, scanSecrets, secretRefusal } from '../../lib/messages/secrets.js';

// Assembled at run time so this file holds no credential-shaped literal for other scanners.
const j = (...parts: string[]) => parts.join('');
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

describe('refused: each kind, with where', () => {
  test.each<[string, string, RegExp]>([
    ['password assignment', 'deploy with password=hunter2 please', /password assignment/],
    ['password in YAML', 'db:\n  password: "s3cr3t-Pa55"', /password assignment/],
    ['password in prose with a colon', 'the root password: Tr0ub4dor&3', /password assignment/],
    ['env secret', 'export API_SECRET=9f8e7d6c5b4a', /secret or token assignment/],
    ['token assignment', 'GITLAB_TOKEN := abcdef123456', /secret or token assignment/],
    ['api key', 'api_key = "q1w2e3r4t5y6"', /secret or token assignment/],
    ['command-line password', 'mysql -u root --password hunter2 app', /credential on a command line/],
    ['bearer token', j('curl -H "Authorization: Bearer ', 'eyJhbGciOiJIUzI1NiJ9abc123xyz456', '"'), /bearer token/],
    ['basic auth header', j('Authorization: Basic ', 'dXNlcjpwYXNzd29yZA=='), /basic authorization header/],
    ['private key (complete)', `key:\n${rsaKey}`, /private key/],
    ['private key (header only, truncated)', j('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\nb3Blbn...'), /private key block/],
    ['AWS access key id', j('aws key ', 'AKIA', 'QWERTYUIOPASDFGH'), /AWS access key id/],
    ['AWS secret access key', j('aws_secret_access_key = ', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz'), /AWS secret access key|secret or token assignment/],
    ['GitHub token', j('use ', 'ghp_', '123456789012345678901234567890123456'), /GitHub token/],
    ['Slack token', j('xoxb-', '1234567890-1234567890123-abcdefghijklmnopqrstuvwx'), /Slack/],
    ['npm token', j('//registry.npmjs.org/:_authToken=', 'npm_', 'abcdefghijklmnopqrstuvwxyz0123456789'), /npm access token/],
    ['password inside a URL', 'clone https://deploy:hunter22@git.example.com/app.git', /password inside a URL/],
    ['database connection string', 'DATABASE_URL=postgres://admin:s3cretpw@db.example.com:5432/app', /database connection string|password inside a URL/],
    ['GitLab token', j('glpat-', 'abcdefghij0123456789'), /GitLab token/],
    ['Stripe key', j('sk_', 'live_', 'abcdefghijklmnopqrstuvwx'), /Stripe secret key/],
    ['Google API key', j('AIza', 'SyA-abcdefghijklmnopqrstuvwxyz01234'), /Google API key/],
    ['JSON Web Token', j('eyJhbGciOiJIUzI1NiJ9', '.eyJzdWIiOiIxMjM0NTY3ODkwIn0', '.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'), /JSON Web Token|bearer token/],
  ])('%s', async (_name, text, kind) => {
    const findings = await scanSecrets({ body: text });
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.map((f) => f.kind).join(' | ')).toMatch(kind);
    for (const f of findings) {
      expect(f.line).toBeGreaterThanOrEqual(1);
      expect(f.column).toBeGreaterThanOrEqual(1);
    }
  });

  test('the place is line and column of the body; the secret itself is never in the report', async () => {
    const findings = await scanSecrets({ body: 'line one\n  password=hunter2' });
    expect(findings).toEqual([expect.objectContaining({ kind: 'password assignment', field: 'body', line: 2, column: 3 })]);
    const err = secretRefusal(findings);
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toContain(formatFinding(findings[0]));
    expect(err.message).toContain('body line 2, column 3: password assignment');
    expect(err.message).toContain('--allow-secret');
    expect(JSON.stringify(err.details) + err.message).not.toContain('hunter2');
  });

  test('a secretlint-disable comment in the text does not switch the scanner off', async () => {
    const findings = await scanSecrets({ body: j('// secretlint-disable\nuse ', 'ghp_', '123456789012345678901234567890123456') });
    expect(findings.map((f) => f.kind)).toContain('GitHub token');
  });

  test('an explicit subject is scanned too', async () => {
    expect((await scanSecrets({ subject: 'password=hunter2', body: 'see subject' })).map((f) => f.field)).toEqual(['subject']);
  });
});

describe('passed: ordinary build talk', () => {
  test.each<[string, string]>([
    ['commit hashes', 'built 3f9a2c1d5e6b7a8c9d0e1f2a3b4c5d6e7f8a9b0c on main (short 3f9a2c1)'],
    ['sha256', 'artifact sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['job ids', 'job-20261130-193728-build1-4f9a2c1d failed on build3, retry job-20261130-193900-build2-0a1b2c3d'],
    ['message ids', 'see msg-20261130-202202-build1-c7fb9b8ed560'],
    ['UUIDs', 'run 123e4567-e89b-12d3-a456-426614174000 and 550e8400-e29b-41d4-a716-446655440000'],
    ['version strings', 'upgraded node v20.19.0 → 20.20.1, app 1.2.3-rc.1+build.5, gcc 13.2.0'],
    ['URLs without credentials', 'https://git.example.com/app.git, ssh://git@git.example.com:2222/app.git, git@github.com:org/repo.git, http://10.0.0.5:8080/status?x=1'],
    ['talk about passwords', 'password rotation done; the token expired; secret: see the vault; password: required'],
    ['placeholders', 'set password=$DB_PASSWORD or token=<your token> or api_key=*** or secret=${SECRET}'],
    ['lease and fencing words', 'lock job_assignment renewed, lease_ttl_s=300, token rotation at 19:37'],
    ['paths and flags', 'see /var/log/build/token-refresh.log and --token-file /etc/coord/token'],
    ['base64 of build output', 'checksum: 2jmj7l5rSw0yVb/vlWAYkK/YBwk='],
    ['a timestamp', 'at 2026-11-30T19:37:28Z, duration 12m 5s'],
    ['the bearer of news', 'I am the bearer of bad news: build3 is down'],
  ])('%s', async (_name, text) => {
    expect(await scanSecrets({ body: text })).toEqual([]);
  });
});
