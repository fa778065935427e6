/** Entry point of the `sm` and `sendmessages` binaries. */
import path from 'node:path';
import { runSm } from './sm.js';

const name = path.basename(process.argv[1] ?? 'sm').replace(/\.js$/, '');
const code = await runSm(process.argv.slice(2), undefined, undefined, name === 'sendmessages' ? 'sendmessages' : 'sm');
process.exitCode = code;
