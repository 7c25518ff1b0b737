import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * `npm start`'s entry: runs scripts/start.js in a process group of its own and hands it the
 * signals this process gets. A Ctrl-C in the terminal goes to every process of the terminal's
 * group at once: Postgres and Temporal then stopped under a worker that was still draining, which
 * printed its errors. In a group of its own, start.js alone is told, and stops the API and the
 * worker before the services they use.
 */
const everything = spawn(process.execPath, [path.join(__dirname, 'start.js'), ...process.argv.slice(2)], { stdio: 'inherit', detached: true });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => everything.kill(signal));
everything.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
