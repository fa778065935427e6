/**
 * The command-line edge of the operator commands: transaction outcomes become exit codes
 * (a refusal is a value until here), who acts, and the table/time formatting they share.
 */
import Table from 'cli-table3';
import { CoordError } from '../errors.js';
import type { TxOutcome } from '../tx/transaction.js';
import { safeForTerminal } from '../util/terminal-text.js';
import { formatDuration } from '../util/time.js';
import type { CommandContext } from './context.js';
import { colour } from './io.js';

/**
 * The result of a transaction, or the refusal as a CoordError (its code picks the exit code).
 * @returns the result and the commit (null when nothing had to change)
 */
export function settle<R>(out: TxOutcome<R>): { result: R; commit: string | null } {
  if (out.status === 'refused') {
    throw new CoordError(out.refusal.code, out.refusal.message, out.refusal.details ? { details: out.refusal.details } : {});
  }
  return { result: out.result, commit: out.status === 'committed' || out.status === 'queued' ? out.commit : null };
}

/**
 * Who an operator command acts as: this builder (DESIGN.md section 2) when the machine is
 * one, else the person's login name ($USER, else $LOGNAME, used as written), recorded in
 * `created_by`, `locked_by`, `paused.by` and `Coord-Actor`. Never a silent build1.
 * @throws CoordError E_IDENTITY when neither is known, or the login name is not a valid actor
 */
export function operatorActor(ctx: CommandContext): string {
  return ctx.actor();
}

/** Prints warnings on stderr (human mode; with --json they go into the document). */
export function warn(ctx: CommandContext, warnings: readonly string[]): void {
  if (ctx.json) return;
  for (const w of warnings) ctx.io.stderr(`${colour.yellow('warning')}: ${safeForTerminal(w)}\n`);
}

/** A plain table (no colours in borders; NO_COLOR honoured through picocolors). */
export function renderTable(head: string[], rows: (string | number | null)[][]): string {
  const t = new Table({ head: head.map((h) => colour.bold(h)), style: { head: [], border: [], compact: true }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const r of rows) t.push(r.map((c) => (c === null ? '-' : String(c))));
  return t.toString();
}

/** `45s`, `3m 5s`, or '-' for null. */
export function dur(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '-' : formatDuration(seconds * 1000);
}

/** Colours a health word. */
export function healthWord(h: string): string {
  if (h === 'healthy') return colour.green(h);
  if (h === 'stale' || h === 'degraded' || h === 'grounded') return colour.yellow(h);
  return colour.red(h);
}

/** Colours a job status. */
export function statusWord(s: string): string {
  if (s === 'completed') return colour.green(s);
  if (s === 'failed' || s === 'blocked') return colour.red(s);
  if (s === 'running') return colour.cyan(s);
  if (s === 'cancelled') return colour.dim(s);
  return s;
}

/** A scalar argument as text ('' for anything else); yargs gives unknown values. */
export function argText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** Raw positional list (`ids..`) as strings; yargs may turn digits into numbers. */
export function stringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? (v as unknown[]) : [v]).map(argText);
}
