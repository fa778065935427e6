/** Entry point of the `coord` binary. */
import { runCoord } from './main.js';

const code = await runCoord(process.argv.slice(2));
process.exitCode = code;
