/** Exit statuses of the `--exec` launcher (exec-wrapper.ts), shared with the watcher. */

/** Another watcher claimed the hand-off first; the command was not run. */
export const ALREADY_CLAIMED = 75;
