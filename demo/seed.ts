/**
 * Loads the demo company, Northwind Analytics (its data is in demo/data/): people, groups and
 * roles; cost centres and budgets; vendors and contracts; the catalogue; about 200 assets; a
 * service map of about 300 configuration items behind five business services; licences; three
 * months of FOCUS cost records; approval rules, change models and maintenance / blackout windows;
 * and sixteen weeks of finished changes and purchase requests, recorded as their workflows would
 * have left them (demo/load/history.ts).
 *
 * Loaded in one transaction and only once: the marker person admin@northwind.example says the
 * data is there. A seeded PRNG makes every load produce the same rows; dates are relative to the
 * day of loading so warranties, leases and cost months look current. Each part of the loading is
 * in demo/load/.
 */
import type { Knex } from 'knex';
import { CONTRACT_PRICES, CONTRACTS, HARDWARE_MODELS, SOFTWARE_PRODUCTS, VENDORS } from './data/catalogue';
import { HISTORY_DAYS } from './data/history';
import { BUDGET_MONTHS, COST_CENTRES, DOMAIN, GROUPS, PEOPLE } from './data/organisation';
import { APPROVAL_RULES, CHANGE_MODELS, MAINTENANCE_WINDOW, SLA_TARGETS } from './data/processes';
import { insertCatalogue } from './load/catalogue';
import { insertCostRecords } from './load/costs';
import { insertAssets } from './load/estate';
import { insertHistory } from './load/history';
import { insertLicences } from './load/licences';
import { demoPeople, insertCostCentres, insertOrganisation, type DemoPerson } from './load/organisation';
import { insertProcessConfiguration } from './load/processes';
import { insertServiceMap } from './load/service-map';
import { createRandom, startOfUtcDay, type Context } from './load/support';

export { demoPeople, type DemoPerson };

const MARKER_EMAIL = `admin@${DOMAIN}`;
const SEED = 20261127;
/** Any fixed number: a second loader waits on it instead of racing the first one's inserts. */
const ADVISORY_LOCK_KEY = 73_014_552_019;

/**
 * `publicKeys` gives every demo person the key printed in the README (af_demo_<login>): only for
 * the embedded demo database (config.demoKeys), never for a database others reach. The people
 * returned are those whose public key works: none without `publicKeys`.
 */
export async function loadDemoData(
  db: Knex,
  log: (line: string) => void = () => {},
  now: Date = new Date(),
  options: { publicKeys: boolean } = { publicKeys: false },
): Promise<{ loaded: boolean; people: DemoPerson[] }> {
  const people = demoPeople();
  const loaded = await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', [ADVISORY_LOCK_KEY]);
    if (await trx('people').where({ email: MARKER_EMAIL }).first('id')) return false;
    await insertDemoData(trx, people, now, log, options.publicKeys);
    return true;
  });
  if (!loaded) log(`demo: ${MARKER_EMAIL} exists, so the demo data is already there; nothing loaded`);
  return { loaded, people: options.publicKeys ? people : [] };
}

async function insertDemoData(trx: Knex.Transaction, people: DemoPerson[], now: Date, log: (line: string) => void, publicKeys: boolean): Promise<void> {
  const today = startOfUtcDay(now);
  const ctx: Context = {
    today, person: new Map(), group: new Map(), costCentre: new Map(), vendor: new Map(), contract: new Map(), model: new Map(), product: new Map(),
  };
  // One PRNG stream per section, so a row added to one section does not reshuffle the others.
  await insertOrganisation(trx, ctx, people, publicKeys);
  log(`demo: ${PEOPLE.length} people${publicKeys ? ' with their public demo keys' : ' (no API keys: this is not the embedded demo database)'}, ${GROUPS.length} groups`);
  await insertCostCentres(trx, ctx, createRandom(SEED + 1));
  log(`demo: ${COST_CENTRES.length} cost centres with ${BUDGET_MONTHS.length} monthly budgets each`);
  await insertCatalogue(trx, ctx);
  log(`demo: ${VENDORS.length} vendors, ${CONTRACTS.length} contracts (${CONTRACT_PRICES.length} negotiated prices), ${HARDWARE_MODELS.length} hardware models, ${SOFTWARE_PRODUCTS.length} software products`);
  const assets = await insertAssets(trx, ctx, createRandom(SEED + 2));
  log(`demo: ${assets.size} assets`);
  const serviceMap = await insertServiceMap(trx, ctx, assets, createRandom(SEED + 3));
  log(`demo: ${serviceMap.ciCount} configuration items, ${serviceMap.relationshipCount} relationships`);
  const licences = await insertLicences(trx, ctx, assets, createRandom(SEED + 4));
  log(`demo: ${licences.entitlements} entitlements, ${licences.consumptions} consumptions`);
  const costRows = await insertCostRecords(trx, ctx, assets, serviceMap, createRandom(SEED + 5));
  log(`demo: ${costRows} cost records`);
  await insertProcessConfiguration(trx, ctx, now);
  log(`demo: ${APPROVAL_RULES.length} approval rules, ${CHANGE_MODELS.length} change models, ${SLA_TARGETS.length} SLA targets, ${MAINTENANCE_WINDOW.weeks + 1} schedule windows`);
  const history = await insertHistory(trx, ctx, now, createRandom(SEED + 6));
  log(`demo: the last ${HISTORY_DAYS / 7} weeks: ${history.changes} finished changes, ${history.purchases} finished purchase requests (${history.receipts} deliveries), ${history.approvals} approvals, ${history.auditRows} audit rows`);
}
