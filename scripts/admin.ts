import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import pg from 'pg';
import { z } from 'zod';
import { apiKeyName } from '../api/api-keys';
import { DirectoryRefused } from '../domain/directory';
import { ApiKeyRefused, createApiKey } from '../model/api-keys';
import { createPerson, peopleByEmail } from '../model/people';
import { loadConfig, type Config } from '../platform/config';
import { createDatabase, embeddedPostgresUrl, migrateToLatest, type Database } from '../platform/database';
import { createLogger } from '../platform/logger';
import { describeFailure } from '../platform/temporal';

/** Who the audit log names for what this command does. */
const ACTOR = 'system:admin-cli';
/** What the first administrator can do: everything, and request like everyone else. */
const ADMIN_ROLES = ['admin', 'requester'] as const;
const BOOTSTRAP_KEY_NAME = 'bootstrap';

export const ADMIN_USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  create-admin --email <email> --name <full name>
      Creates an administrator (roles admin and requester) with an API key named "bootstrap",
      and prints the key once. Refused when someone has this email already.
  create-api-key --email <email> --name <key name>
      Break-glass: a new API key for an active person, printed once.

The database is DATABASE_URL; without it, the embedded Postgres of \`npm start\` (DATA_DIR,
EMBEDDED_POSTGRES_PORT), started for the command when it is not running. Pending migrations
are applied first, so this works on an empty database.`;

/** The command that creates the first administrator, as `npm start` and the README print it. */
export const CREATE_ADMIN_COMMAND = 'npm run admin -- create-admin --email you@example.com --name "Your Name"';

type AdminCommand =
  | { command: 'create-admin'; email: string; name: string }
  | { command: 'create-api-key'; email: string; keyName: string };

const email = z.string().trim().toLowerCase().pipe(z.email());
const personName = z.string().trim().min(1).max(200);

/** The command the arguments ask for, or why they ask for none (then the usage is the answer). */
export function parseAdminCommand(argv: readonly string[]): AdminCommand | { problem?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { email: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return {};
  if (positionals.length !== 1) return { problem: positionals.length ? `one command at a time, not ${positionals.join(' ')}` : undefined };
  const [command] = positionals;
  if (command !== 'create-admin' && command !== 'create-api-key') return { problem: `no command ${command}` };
  const givenEmail = email.safeParse(values.email ?? '');
  if (!givenEmail.success) return { problem: `${command} needs --email <a valid email>` };
  if (command === 'create-admin') {
    const name = personName.safeParse(values.name ?? '');
    if (!name.success) return { problem: 'create-admin needs --name <full name> (1 to 200 characters)' };
    return { command, email: givenEmail.data, name: name.data };
  }
  const keyName = apiKeyName.safeParse(values.name ?? '');
  if (!keyName.success) return { problem: 'create-api-key needs --name <key name> (1 to 100 characters)' };
  return { command, email: givenEmail.data, keyName: keyName.data };
}

/** A refusal the command explains and exits 1 for; nothing was written. */
class Refused extends Error {}

const emailTaken = (address: string) =>
  new Refused(`a person with the email ${address} exists already; nothing was changed. To give them a new key: npm run admin -- create-api-key --email ${address} --name <key name>`);

/** The person with their roles (audited by createPerson) and their first key, in one transaction. */
async function createAdmin(db: Knex, input: { email: string; name: string }): Promise<{ key: string; lines: string[] }> {
  try {
    return await db.transaction(async (trx) => {
      const person = await createPerson(trx, { email: input.email, name: input.name, roles: [...ADMIN_ROLES] }, ACTOR);
      const { key } = await createApiKey(trx, { personId: person.id, name: BOOTSTRAP_KEY_NAME, expiresAt: null, actor: ACTOR });
      return { key, lines: [`Created the administrator ${input.name} <${input.email}> (roles: ${ADMIN_ROLES.join(', ')}) with the API key "${BOOTSTRAP_KEY_NAME}".`] };
    });
  } catch (error) {
    if (error instanceof DirectoryRefused && error.refusal.rule === 'email_taken') throw emailTaken(input.email);
    throw error;
  }
}

async function createKeyForPerson(db: Knex, input: { email: string; keyName: string }): Promise<{ key: string; lines: string[] }> {
  const person = (await peopleByEmail(db, [input.email])).get(input.email);
  if (!person) throw new Refused(`no person has the email ${input.email}; nothing was changed (create-admin creates an administrator)`);
  if (!person.active) throw new Refused(`${input.email} is deactivated; nothing was changed (reactivate them first)`);
  try {
    const { key } = await createApiKey(db, { personId: person.id, name: input.keyName, expiresAt: null, actor: ACTOR });
    return { key, lines: [`Created the API key "${input.keyName}" of ${person.name} <${input.email}>.`] };
  } catch (error) {
    if (error instanceof ApiKeyRefused) throw new Refused(`${error.message}; nothing was changed`);
    throw error;
  }
}

/** Says what is wrong with the arguments, if anything, and how to call the command: exit code 2. */
function usage(problem: string | undefined, out: (line: string) => void, err: (line: string) => void): number {
  if (problem) err(`admin: ${problem}\n`);
  out(ADMIN_USAGE);
  return 2;
}

export interface AdminIo {
  db: Knex;
  /** Where the answer goes, a line at a time; the key is written here once, and nowhere else. */
  out: (line: string) => void;
  /** Where refusals go (default: out). */
  err?: (line: string) => void;
}

/**
 * Runs one command of `npm run admin` on this database and answers its exit code: 0 done, 1
 * refused (nothing written), 2 usage.
 */
export async function runAdminCommand(argv: readonly string[], io: AdminIo): Promise<number> {
  const err = io.err ?? io.out;
  const parsed = parseAdminCommand(argv);
  if (!('command' in parsed)) return usage(parsed.problem, io.out, err);
  await migrateToLatest(io.db);
  let created: { key: string; lines: string[] };
  try {
    created = parsed.command === 'create-admin' ? await createAdmin(io.db, parsed) : await createKeyForPerson(io.db, parsed);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    err(`admin: ${error.message}`);
    return 1;
  }
  for (const line of created.lines) io.out(line);
  io.out('The key is shown this once and stored only as a hash. Keep it safe (a password manager): whoever holds it acts as this person.');
  io.out('');
  io.out(`    ${created.key}`);
  io.out('');
  io.out('Sign in to the web UI (/ui) with it, or send it as "Authorization: Bearer <key>". Make more keys and revoke this one at /ui/api-keys.');
  return 0;
}

/** Whether a Postgres answers at this URL (the embedded one of a running `npm start`), asked quietly. */
async function isAnswering(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** DATABASE_URL, else the embedded Postgres: the running one of `npm start`, or started for this command. */
async function openDatabase(config: Config): Promise<{ db: Database; close: () => Promise<void> }> {
  if (config.DATABASE_URL) {
    const db = createDatabase(config.DATABASE_URL, 2);
    return { db, close: () => db.destroy() };
  }
  const url = embeddedPostgresUrl(config.EMBEDDED_POSTGRES_PORT, 'assetflow');
  if (await isAnswering(url)) {
    const db = createDatabase(url, 2);
    return { db, close: () => db.destroy() };
  }
  // Loaded only here: embedded-postgres is an ES module, and the command's core runs without it (tests, DATABASE_URL).
  const { startEmbeddedPostgres } = await import('../platform/embedded-postgres');
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'postgres'),
    port: config.EMBEDDED_POSTGRES_PORT,
    database: 'assetflow',
    logger: createLogger('warn', 'admin'),
  });
  const db = createDatabase(postgres.connectionString, 2);
  return {
    db,
    close: async () => {
      await db.destroy();
      await postgres.stop();
    },
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const parsed = parseAdminCommand(argv);
  if (!('command' in parsed)) return usage(parsed.problem, out, err);
  const { db, close } = await openDatabase(loadConfig());
  try {
    return await runAdminCommand(argv, { db, out, err });
  } finally {
    await close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`admin: ${describeFailure(error)}`);
      process.exit(1);
    },
  );
}
