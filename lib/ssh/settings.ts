/**
 * The environment's part of the ssh settings (layering: defaults < shared/build_config.json
 * < environment). The environment is passed in by the caller (the command line's IO door);
 * this is the only place in lib/ssh that looks at it.
 *
 * - `COORD_SSH_KNOWN_HOSTS`: known_hosts file for every builder (tests and operators who keep
 *   the fleet's host keys apart from `~/.ssh/known_hosts`).
 * - `COORD_SSH_CONFIG`: ssh client config file (`ssh -F`); `/dev/null` ignores `~/.ssh/config`.
 * - `COORD_SSH_CONNECT_TIMEOUT`: seconds, overrides `connect_timeout_s`.
 * - `COORD_SSH_BIN`: the ssh client program (default `ssh` on PATH).
 */
import { CoordError } from '../errors.js';

export interface SshSettings {
  knownHostsFile: string | null;
  configFile: string | null;
  connectTimeoutS: number | null;
  sshBin: string;
}

export const DEFAULT_SSH_SETTINGS: Readonly<SshSettings> = Object.freeze({ knownHostsFile: null, configFile: null, connectTimeoutS: null, sshBin: 'ssh' });

/**
 * Reads the settings from `env`.
 * @throws CoordError E_USAGE for a malformed value (named)
 */
export function sshSettingsFromEnv(env: NodeJS.ProcessEnv): SshSettings {
  const out: SshSettings = { ...DEFAULT_SSH_SETTINGS };
  const kh = env.COORD_SSH_KNOWN_HOSTS?.trim();
  if (kh) out.knownHostsFile = kh;
  const cf = env.COORD_SSH_CONFIG?.trim();
  if (cf) {
    if (cf.startsWith('-')) throw new CoordError('E_USAGE', `COORD_SSH_CONFIG=${JSON.stringify(cf)}: give a file path`);
    out.configFile = cf;
  }
  const to = env.COORD_SSH_CONNECT_TIMEOUT?.trim();
  if (to) {
    if (!/^[0-9]{1,3}$/.test(to) || Number(to) < 1 || Number(to) > 120) throw new CoordError('E_USAGE', `COORD_SSH_CONNECT_TIMEOUT=${JSON.stringify(to)}: give whole seconds from 1 to 120`);
    out.connectTimeoutS = Number(to);
  }
  const bin = env.COORD_SSH_BIN?.trim();
  if (bin) out.sshBin = bin;
  return out;
}
