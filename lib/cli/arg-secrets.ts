/**
 * Free text given on the command line that ends up in a shared file — a job's description
 * and params, a lock's or a grounding's reason — is scanned for credentials the way `sm`
 * scans a message body (lib/messages/secrets.ts): "a credential pushed is a credential
 * leaked" (METHODOLOGY.md section 3). `COORD_ALLOW_SECRET=1` lets a false alarm through.
 */
import { CoordError } from '../errors.js';
import { formatFinding, scanSecrets } from '../messages/secrets.js';

/**
 * @param fields option name (`--description`, `--param NAME`) → the text given
 * @param env the environment (`COORD_ALLOW_SECRET`)
 * @throws CoordError E_USAGE (exit 2) naming each finding's option, place and kind (never
 *   the secret), when a credential is found and COORD_ALLOW_SECRET is not set
 */
export async function refuseCredentialArgs(fields: Record<string, string | null | undefined>, env: NodeJS.ProcessEnv): Promise<void> {
  if (/^(1|true|yes)$/i.test(env.COORD_ALLOW_SECRET ?? '')) return;
  const given = Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  if (!Object.keys(given).length) return;
  const found = await scanSecrets(given);
  if (!found.length) return;
  const shown = found.slice(0, 5).map(formatFinding).join('; ') + (found.length > 5 ? ` and ${found.length - 5} more` : '');
  throw new CoordError('E_USAGE',
    `${found[0].field} looks like it carries a credential (${shown}); it would be pushed to every clone of the fleet. Remove it (pass secrets to jobs through the builder's environment, not the queue), or set COORD_ALLOW_SECRET=1 if it is not one`,
    { details: { argument: found[0].field, secrets: found } });
}
