/**
 * `npm start` as a person runs it in a terminal, and Ctrl-C as the terminal sends it: SIGINT to
 * every process of the foreground group. Everything stops, in order (the API and the worker before
 * the Postgres and Temporal they use), quietly: no stack trace, no warning, nothing left running.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../platform/project-root';
import { freePort } from './support/fault-stack';
import { buildDist } from './support/worker-process';

let dataDir: string;

beforeAll(() => {
  buildDist();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-start-stop-'));
  // As root, embedded Postgres runs its binaries as a user of their own, who must reach the folder.
  fs.chmodSync(dataDir, 0o755);
});

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('stops everything on Ctrl-C, the API and worker before the database, without a stack trace or a warning', async () => {
  const [port, metrics, postgres, temporal, ui, smtp] = await Promise.all(Array.from({ length: 6 }, freePort));
  // Everything embedded, as on a fresh machine: none of the test run's own addresses or log level.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, DEMO_DATA: 'false',
    PORT: String(port), WORKER_METRICS_PORT: String(metrics), EMBEDDED_POSTGRES_PORT: String(postgres),
    TEMPORAL_DEV_SERVER_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), SMTP_SINK_PORT: String(smtp),
  };
  // A process group of its own, as a terminal's foreground job.
  const launcher = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'scripts', 'launch.js')], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let ended = false;
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => {
    ended = true;
    resolve(code);
  }));

  const deadline = Date.now() + 90_000;
  while (!output.includes('assetflow is running')) {
    if (ended || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const running = (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
  const started = output.length;

  process.kill(-launcher.pid!, 'SIGINT');
  const code = await exited;

  const stopping = output.slice(started);
  expect(running).toBe(200);
  // 130: ended by SIGINT, as the shell reports an interrupted job.
  expect(code).toBe(130);
  expect(stopping).toContain('stopping');
  expect(stopping).toContain('stopped');
  expect(stopping).not.toMatch(/\n\s+at \S/);
  expect(stopping).not.toMatch(/"level":(40|50|60)|Error/);
  // Nothing of it is left: no process holds its data directory.
  const leftovers = fs.readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && alive(Number(pid)))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir);
      } catch {
        return false;
      }
    });
  expect(leftovers).toEqual([]);
}, 180_000);
