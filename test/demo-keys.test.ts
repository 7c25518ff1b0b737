/**
 * The demo people's keys (af_demo_<login>) are printed in the README: anyone can use them. They
 * are loaded only into the embedded demo database, never into a database given by DATABASE_URL,
 * even with DEMO_DATA=true, unless DEMO_PUBLIC_KEYS=true forces them (a shared demo server).
 */
import { principalByApiKey } from '../api/auth';
import { demoPeople, loadDemoData } from '../demo/seed';
import { loadConfig } from '../platform/config';
import { createTestDatabase, type TestDatabase } from './support/database';

const databases: TestDatabase[] = [];

afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

/** Loads the demo as scripts/start.ts does with this environment; answers which demo keys then sign in. */
async function loadAsStartWould(env: NodeJS.ProcessEnv): Promise<{ returned: number; working: number; keyed: number }> {
  const database = await createTestDatabase();
  databases.push(database);
  const config = loadConfig(env);
  expect(config.loadDemoData).toBe(true);
  const { people } = await loadDemoData(database.db, () => {}, new Date(), { publicKeys: config.demoKeys });
  let working = 0;
  for (const person of demoPeople()) if (await principalByApiKey(database.db, person.apiKey)) working++;
  const [{ n }] = await database.db('api_keys').count({ n: '*' });
  return { returned: people.length, working, keyed: Number(n) };
}

it('loads no demo key into a database given by DATABASE_URL, even with DEMO_DATA=true', async () => {
  const loaded = await loadAsStartWould({ DATABASE_URL: 'postgres://assetflow@db.internal.example:5432/assetflow', DEMO_DATA: 'true' });
  expect(loaded).toEqual({ returned: 0, working: 0, keyed: 0 });
});

it('loads the demo keys into the embedded demo database', async () => {
  const everyone = demoPeople().length;
  expect(await loadAsStartWould({})).toEqual({ returned: everyone, working: everyone, keyed: everyone });
});

it('loads the demo keys into a database given by DATABASE_URL when DEMO_PUBLIC_KEYS=true forces them', async () => {
  const everyone = demoPeople().length;
  const loaded = await loadAsStartWould({ DATABASE_URL: 'postgres://assetflow@db.internal.example:5432/assetflow', DEMO_DATA: 'true', DEMO_PUBLIC_KEYS: 'true' });
  expect(loaded).toEqual({ returned: everyone, working: everyone, keyed: everyone });
});

it('says which configurations get demo keys: only the embedded database with demo data, or when forced', () => {
  expect(loadConfig({}).demoKeys).toBe(true);
  expect(loadConfig({ DEMO_DATA: 'false' }).demoKeys).toBe(false);
  expect(loadConfig({ DATABASE_URL: 'postgres://db.example/assetflow' }).demoKeys).toBe(false);
  expect(loadConfig({ DATABASE_URL: 'postgres://db.example/assetflow', DEMO_DATA: 'yes' }).demoKeys).toBe(false);
  expect(loadConfig({ DATABASE_URL: 'postgres://db.example/assetflow', DEMO_DATA: 'yes', DEMO_PUBLIC_KEYS: 'yes' }).demoKeys).toBe(true);
  expect(loadConfig({ DEMO_PUBLIC_KEYS: 'no' }).demoKeys).toBe(false);
});
