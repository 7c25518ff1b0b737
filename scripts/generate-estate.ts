import type { Knex } from 'knex';
import { createDatabase } from '../platform/database';

/**
 * A synthetic service map for benchmarks: business services on applications on databases and
 * virtual machines on servers, with the shared infrastructure real estates have (core network
 * devices, storage arrays and load balancers that thousands of CIs use) and a few dependency
 * cycles. The shape is deterministic from the seed; ids and CI numbers come from the database.
 *
 *   node dist/scripts/generate-estate.js --cis 100000 [--seed 1] [--prefix estate-]   (DATABASE_URL)
 */

export interface EstateOptions {
  /** How many configuration items to create (at least 100). */
  cis: number;
  seed?: number;
  /** Prefixes every CI name, so that several estates can live in one database. */
  prefix?: string;
  /** Refresh the planner statistics of the CI tables afterwards (default true). */
  analyze?: boolean;
}

export interface Estate {
  ownerId: string;
  ciIds: string[];
  serviceIds: string[];
  applicationIds: string[];
  databaseIds: string[];
  vmIds: string[];
  serverIds: string[];
  /** Shared infrastructure with a high in-degree: core network devices, storage arrays, load balancers. */
  hubIds: string[];
  /** Applications that depend on each other, directly (A, B) or round a triangle (A, B, C). */
  cycles: string[][];
  relationships: number;
  elapsedMs: number;
}

const OWNER_EMAIL = 'estate.owner@estate.example';
const TIERS = ['tier_1', 'tier_2', 'tier_3', 'tier_4'] as const;
const EDGE_TYPES = ['depends_on', 'runs_on', 'hosted_on', 'uses'] as const;
type EdgeType = (typeof EDGE_TYPES)[number];
const CI_BATCH = 5_000;
const EDGE_BATCH = 20_000;

/** mulberry32: small, fast and good enough to shape a graph reproducibly. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  /** Skewed towards the first items: a few popular targets, a long tail. */
  const pickSkewed = <T>(items: readonly T[]) => items[Math.floor(next() * next() * items.length)];
  const sample = <T>(items: readonly T[], count: number): T[] => {
    const chosen = new Set<T>();
    const wanted = Math.min(count, items.length);
    while (chosen.size < wanted) chosen.add(pick(items));
    return [...chosen];
  };
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  };
  return { next, int, pick, pickSkewed, sample, shuffle };
}

interface Plan {
  names: string[];
  classes: string[];
  /** '' for CIs other than business services. */
  criticalities: string[];
  edges: { from: number[]; to: number[]; type: EdgeType[] };
  groups: Record<'services' | 'applications' | 'databases' | 'vms' | 'servers' | 'hubs', number[]>;
  cycles: number[][];
}

/** The estate as indexes into one CI list; pure and deterministic from the seed. */
export function planEstate(cis: number, seed: number, prefix: string): Plan {
  if (!Number.isSafeInteger(cis) || cis < 100) throw new RangeError(`an estate needs at least 100 CIs, not ${cis}`);
  const random = createRandom(seed);
  const names: string[] = [];
  const classes: string[] = [];
  const criticalities: string[] = [];
  const add = (ciClass: string, short: string, count: number, criticality?: () => string): number[] => {
    const ids: number[] = [];
    for (let i = 1; i <= count; i++) {
      ids.push(names.length);
      names.push(`${prefix}${short}-${String(i).padStart(6, '0')}`);
      classes.push(ciClass);
      criticalities.push(criticality ? criticality() : '');
    }
    return ids;
  };

  const scale = Math.max(1, Math.round(Math.log10(cis)));
  const services = add('business_service', 'svc', Math.max(1, Math.round(cis * 0.01)), () => {
    const r = random.next();
    return r < 0.1 ? TIERS[0] : r < 0.35 ? TIERS[1] : r < 0.75 ? TIERS[2] : TIERS[3];
  });
  const applications = add('application', 'app', Math.max(4, Math.round(cis * 0.1)));
  const databases = add('database', 'db', Math.max(1, Math.round(cis * 0.05)));
  const vms = add('virtual_machine', 'vm', Math.round(cis * 0.4));
  const servers = add('server', 'srv', Math.max(1, Math.round(cis * 0.1)));
  const coreNetwork = add('network_device', 'core-net', scale + 1);
  const storageArrays = add('storage', 'san', scale + 1);
  const sharedBalancers = add('load_balancer', 'shared-lb', scale);
  const rest = cis - names.length;
  const balancers = add('load_balancer', 'lb', Math.round(rest * 0.1));
  const volumes = add('storage', 'vol', Math.max(1, Math.round(rest * 0.2)));
  const switches = add('network_device', 'sw', Math.max(1, Math.round(rest * 0.25)));
  const cloud = add('cloud_resource', 'cloud', cis - names.length);

  const from: number[] = [];
  const to: number[] = [];
  const type: EdgeType[] = [];
  const seen = new Set<number>();
  const link = (a: number, t: EdgeType, b: number) => {
    if (a === b) return;
    const key = (a * cis + b) * 4 + EDGE_TYPES.indexOf(t);
    if (seen.has(key)) return;
    seen.add(key);
    from.push(a);
    to.push(b);
    type.push(t);
  };

  // Services sit on front-line applications, dealt from a shuffled deck so that most are used;
  // the applications no service names directly are the shared platform the others depend on.
  const deck = random.shuffle([...applications]);
  const frontLine = deck.slice(0, Math.max(1, Math.round(deck.length * 0.65)));
  const platform = deck.slice(frontLine.length);
  let cursor = 0;
  for (const service of services) {
    for (let k = random.int(3, 10); k > 0; k--) link(service, 'depends_on', frontLine[cursor++ % frontLine.length]);
  }
  for (const lb of balancers) {
    link(random.pick(services), 'depends_on', lb);
    for (const vm of random.sample(vms, 2)) link(lb, 'runs_on', vm);
  }

  for (const app of applications) {
    for (const db of random.sample(databases, random.int(1, 3))) link(app, 'depends_on', db);
    if (random.next() < 0.15 && cloud.length) {
      for (const c of random.sample(cloud, random.int(1, 2))) link(app, 'runs_on', c);
    } else {
      for (const vm of random.sample(vms, random.int(2, 4))) link(app, 'runs_on', vm);
    }
    if (platform.length && random.next() < 0.5) {
      for (let k = random.int(1, 2); k > 0; k--) link(app, 'depends_on', random.pickSkewed(platform));
    }
    if (random.next() < 0.3) link(app, 'depends_on', random.pick(sharedBalancers));
    if (random.next() < 0.2 && cloud.length) link(app, 'uses', random.pick(cloud));
  }
  for (const db of databases) for (const vm of random.sample(vms, random.int(1, 2))) link(db, 'runs_on', vm);
  for (const vm of vms) {
    link(vm, 'hosted_on', random.pick(servers));
    link(vm, 'uses', random.next() < 0.4 ? random.pick(storageArrays) : random.pick(volumes));
  }
  servers.forEach((server, i) => {
    link(server, 'uses', coreNetwork[i % coreNetwork.length]);
    link(server, 'uses', switches[Math.floor((i * switches.length) / servers.length)]);
  });
  for (const volume of volumes) link(volume, 'uses', random.pick(switches));
  storageArrays.forEach((array, i) => link(array, 'uses', coreNetwork[i % coreNetwork.length]));
  sharedBalancers.forEach((lb, i) => link(lb, 'uses', coreNetwork[i % coreNetwork.length]));

  // Dependency cycles among applications: pairs that depend on each other, and one triangle.
  const cycles: number[][] = [];
  const cycleApps = random.sample(applications, 2 * Math.max(1, Math.round(applications.length / 500)) + 3);
  const triangle = cycleApps.splice(0, 3);
  for (let i = 0; i + 1 < cycleApps.length; i += 2) {
    link(cycleApps[i], 'depends_on', cycleApps[i + 1]);
    link(cycleApps[i + 1], 'depends_on', cycleApps[i]);
    cycles.push([cycleApps[i], cycleApps[i + 1]]);
  }
  triangle.forEach((app, i) => link(app, 'depends_on', triangle[(i + 1) % 3]));
  cycles.push(triangle);

  return {
    names, classes, criticalities, edges: { from, to, type }, cycles,
    groups: { services, applications, databases, vms, servers, hubs: [...coreNetwork, ...storageArrays, ...sharedBalancers] },
  };
}

async function estateOwner(db: Knex): Promise<string> {
  await db('people').insert({ email: OWNER_EMAIL, name: 'Estate Owner', title: 'Synthetic estate owner' }).onConflict('email').ignore();
  return (await db('people').where({ email: OWNER_EMAIL }).first('id')).id;
}

/**
 * Inserts a synthetic estate of `cis` configuration items and its relationships in bulk
 * (unnest-array inserts of a few thousand rows each, in one transaction).
 */
export async function generateEstate(db: Knex, options: EstateOptions): Promise<Estate> {
  const started = Date.now();
  const plan = planEstate(options.cis, options.seed ?? 1, options.prefix ?? 'estate-');
  const ids: string[] = new Array(plan.names.length);
  const ownerId = await db.transaction(async (trx) => {
    const owner = await estateOwner(trx);
    const index = new Map(plan.names.map((name, i) => [name, i]));
    for (let start = 0; start < plan.names.length; start += CI_BATCH) {
      const end = start + CI_BATCH;
      const { rows } = await trx.raw<{ rows: { id: string; name: string }[] }>(
        `INSERT INTO configuration_items (name, ci_class, criticality, owner_id)
         SELECT n, c, nullif(k, ''), ?::uuid FROM unnest(?::text[], ?::text[], ?::text[]) AS t(n, c, k)
         RETURNING id, name`,
        [owner, plan.names.slice(start, end), plan.classes.slice(start, end), plan.criticalities.slice(start, end)],
      );
      for (const row of rows) ids[index.get(row.name)!] = row.id;
    }
    const { from, to, type } = plan.edges;
    for (let start = 0; start < from.length; start += EDGE_BATCH) {
      const end = start + EDGE_BATCH;
      await trx.raw(
        `INSERT INTO ci_relationships (from_ci_id, to_ci_id, type) SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::text[])`,
        [from.slice(start, end).map((i) => ids[i]), to.slice(start, end).map((i) => ids[i]), type.slice(start, end)],
      );
    }
    return owner;
  });
  if (options.analyze !== false) await db.raw('ANALYZE configuration_items, ci_relationships');
  const of = (indexes: number[]) => indexes.map((i) => ids[i]);
  return {
    ownerId,
    ciIds: ids,
    serviceIds: of(plan.groups.services),
    applicationIds: of(plan.groups.applications),
    databaseIds: of(plan.groups.databases),
    vmIds: of(plan.groups.vms),
    serverIds: of(plan.groups.servers),
    hubIds: of(plan.groups.hubs),
    cycles: plan.cycles.map(of),
    relationships: plan.edges.from.length,
    elapsedMs: Date.now() - started,
  };
}

function argument(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const db = createDatabase(url, 2);
  try {
    const estate = await generateEstate(db, {
      cis: Number(argument(args, 'cis') ?? 10_000),
      seed: Number(argument(args, 'seed') ?? 1),
      prefix: argument(args, 'prefix'),
    });
    console.log(`generated ${estate.ciIds.length} CIs and ${estate.relationships} relationships in ${estate.elapsedMs} ms`);
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
