/**
 * `coord doctor` checks of what runs this builder: the cron heartbeat entry and the systemd
 * unit of the daemon, as `scripts/setup_build.sh` writes them (under its `--prefix` when it
 * had one), and — on a machine running systemd with no prefix — whether the unit is
 * enabled and active.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { check, type DoctorCheck } from './model.js';
import { setupCommand } from './local-checks.js';
import type { SetupRecord } from './setup-record.js';

/** The cron entry setup writes: `<prefix>/etc/cron.d/build-coord-<builder>`. */
export function cronFileOf(prefix: string, builder: string): string {
  return path.join(prefix || '/', 'etc/cron.d', `build-coord-${builder}`);
}

/** The unit's name: `build-coord-<builder>.service` (one per builder, each with its own clone). */
export function unitNameOf(builder: string): string {
  return `build-coord-${builder}.service`;
}

export function unitFileOf(prefix: string, builder: string): string {
  return path.join(prefix || '/', 'etc/systemd/system', unitNameOf(builder));
}

/** True when this machine was booted with systemd (the test sd_booted(3) makes). */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

/** A cron daemon among the processes (best effort: /proc). */
async function cronDaemonRunning(): Promise<boolean | null> {
  const pids = await fs.readdir('/proc').catch(() => null);
  if (!pids) return null;
  for (const p of pids.filter((n) => /^\d+$/.test(n))) {
    const comm = (await fs.readFile(`/proc/${p}/comm`, 'utf8').catch(() => '')).trim();
    if (/^(cron|crond|cronie|fcron|dcron|busybox)$/.test(comm)) return true;
  }
  return false;
}

export interface ServiceCheckInput {
  builder: string | null;
  /** '' for the real system, else the setup's `--prefix`. */
  prefix: string;
  coordJs: string;
  record: SetupRecord | null;
  /** `policy.drain_timeout_s`: the unit's TimeoutStopSec must exceed it. */
  drainTimeoutS: number;
  /** Pid of a live `coord daemon` of this builder on this machine (see {@link liveDaemonPid}), else null. */
  daemonPid?: number | null;
}


export async function checkCron(o: ServiceCheckInput): Promise<DoctorCheck> {
  if (o.record && o.record.cron_file === null) return check('cron', 'skipped', 'setup ran with --no-cron');
  if (!o.builder) return check('cron', 'skipped', 'identity unknown');
  const file = cronFileOf(o.prefix, o.builder);
  const fix = `re-run ${setupCommand(o.builder)}${o.prefix ? ` --prefix ${o.prefix}` : ''}`;
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return check('cron', 'problem', `${file} is missing: no heartbeat while the daemon is down`, fix);
  const st = await fs.stat(file);
  if (st.mode & 0o022) return check('cron', 'problem', `${file} is group- or world-writable, so cron ignores it`, `chmod 644 ${file}`);
  if (!text.includes(`COORD_BUILDER=${o.builder}`) || !text.includes(o.coordJs) || !/ heartbeat\b/.test(text)) {
    return check('cron', 'problem', `${file} does not run this installation's coord heartbeat as ${o.builder}`, fix);
  }
  if (!o.prefix && (await cronDaemonRunning()) === false) {
    return check('cron', 'warning', `${file} is in place, but no cron daemon seems to run`, 'start cron (systemctl enable --now cron, or crond)');
  }
  return check('cron', 'ok', `${file}: coord heartbeat every minute`);
}

async function systemctl(args: string[]): Promise<string> {
  const r = await execa('systemctl', args, { reject: false, timeout: 10_000, stdin: 'ignore' });
  return typeof r.stdout === 'string' ? r.stdout.trim() : '';
}

export async function checkSystemd(o: ServiceCheckInput): Promise<DoctorCheck> {
  if (o.record && o.record.unit_file === null) return check('systemd', 'skipped', 'setup ran with --no-systemd');
  if (!o.builder) return check('systemd', 'skipped', 'identity unknown');
  const file = unitFileOf(o.prefix, o.builder);
  const unit = unitNameOf(o.builder);
  const fix = `re-run ${setupCommand(o.builder)}${o.prefix ? ` --prefix ${o.prefix}` : ''}`;
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) {
    if (o.daemonPid) {
      return check('systemd', 'warning', `${file} is missing; coord daemon runs as pid ${o.daemonPid}, started by hand: nothing restarts it after a crash or a reboot`, fix);
    }
    return check('systemd', 'problem', `${file} is missing and no coord daemon of ${o.builder} runs here: nothing claims jobs`, o.prefix || systemdRunning() ? fix : `${fix}, or run coord daemon under this machine's supervisor (it has no systemd)`);
  }
  const exec = /^ExecStart=(.*)$/m.exec(text)?.[1] ?? '';
  if (!exec.includes(o.coordJs) || !/\bdaemon\b/.test(exec) || !text.includes(`COORD_BUILDER=${o.builder}`)) {
    return check('systemd', 'problem', `${file} does not run this installation's coord daemon as ${o.builder}`, fix);
  }
  const stop = Number(/^TimeoutStopSec=(\d+)s?$/m.exec(text)?.[1] ?? NaN);
  if (!(stop > o.drainTimeoutS)) {
    return check('systemd', 'problem', `${file}: TimeoutStopSec=${Number.isNaN(stop) ? '(unset)' : stop} is not above policy.drain_timeout_s=${o.drainTimeoutS}, so systemd kills running jobs before the daemon requeues them`, fix);
  }
  if (o.prefix) return check('systemd', 'ok', `${file} (under --prefix: not asked whether it runs)`);
  if (!systemdRunning()) {
    return check('systemd', 'warning', `${file} is in place, but this machine does not run systemd: nothing starts the daemon`, 'run coord daemon under your init system or supervisor (the cron entry keeps only the heartbeat)');
  }
  const enabled = await systemctl(['is-enabled', unit]);
  const active = await systemctl(['is-active', unit]);
  if (enabled !== 'enabled' || active !== 'active') {
    return check('systemd', 'problem', `${unit} is ${enabled || 'unknown'} and ${active || 'unknown'}`, `systemctl enable --now ${unit}; journalctl -u ${unit} -n 50 shows why it stopped`);
  }
  return check('systemd', 'ok', `${unit} enabled and active`);
}
