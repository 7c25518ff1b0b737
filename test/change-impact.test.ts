/**
 * The impact assessment against real Postgres: small service maps built by hand, each test with
 * its own CIs, products, cost centres and planned windows (windows of different tests never
 * overlap, so global schedule windows of one test cannot reach another).
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { assessChangeImpact, DEFAULT_IMPACT_DEPTH } from '../model/change-impact';
import { generateEstate, planEstate } from '../scripts/generate-estate';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createAsset, createPerson, relate, type TestPerson } from './support/fixtures';

const unique = () => randomBytes(4).toString('hex');

let database: TestDatabase;
let db: Knex;
let requester: TestPerson;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  requester = await createPerson(db, ['requester'], 'Impact Requester');
});

afterAll(async () => {
  await database?.drop();
});

interface Ci {
  id: string;
  number: string;
  name: string;
}

async function ci(ciClass = 'server', fields: { criticality?: string; ownerId?: string; assetId?: string } = {}): Promise<Ci> {
  const [row] = await db('configuration_items')
    .insert({
      name: `${ciClass}-${unique()}`,
      ci_class: ciClass,
      criticality: fields.criticality ?? null,
      owner_id: fields.ownerId ?? null,
      asset_id: fields.assetId ?? null,
    })
    .returning(['id', 'number', 'name']);
  return row;
}

async function cis(count: number, ciClass = 'virtual_machine'): Promise<Ci[]> {
  return db('configuration_items')
    .insert(Array.from({ length: count }, (_, i) => ({ name: `${ciClass}-${i}-${unique()}`, ci_class: ciClass })))
    .returning(['id', 'number', 'name']);
}

interface ChangeFields {
  affected?: Ci[];
  plannedStart?: string | null;
  plannedEnd?: string | null;
  state?: string;
  costCentreId?: string | null;
  oneOffCostMinor?: number;
  recurringCostMinor?: number;
  currency?: string;
}

async function change(fields: ChangeFields = {}): Promise<{ id: string; number: string; title: string }> {
  const state = fields.state ?? 'assess';
  const [row] = await db('change_requests')
    .insert({
      type: 'normal',
      state,
      close_code: state === 'closed' ? 'cancelled' : null,
      requester_id: requester.id,
      title: `Change ${unique()}`,
      planned_start: fields.plannedStart ?? null,
      planned_end: fields.plannedEnd ?? null,
      cost_centre_id: fields.costCentreId ?? null,
      one_off_cost_minor: fields.oneOffCostMinor ?? 0,
      recurring_cost_minor: fields.recurringCostMinor ?? 0,
      currency: fields.currency ?? 'EUR',
    })
    .returning(['id', 'number', 'title']);
  if (fields.affected?.length) {
    await db('change_affected_cis').insert(fields.affected.map((c) => ({ change_request_id: row.id, ci_id: c.id })));
  }
  return row;
}

const depths = (impact: Awaited<ReturnType<typeof assessChangeImpact>>) =>
  Object.fromEntries(impact.services.cis.map((c) => [c.id, c.depth]));

describe('services: the walk over what depends on the affected CIs', () => {
  it('reaches the dependents of an affected CI and not its dependencies', async () => {
    const server = await ci('server');
    const otherServer = await ci('server');
    const app = await ci('application');
    const database = await ci('database');
    const service = await ci('business_service', { criticality: 'tier_2' });
    await relate(db, app.id, 'runs_on', server.id);
    await relate(db, service.id, 'depends_on', app.id);
    await relate(db, app.id, 'depends_on', database.id);
    await relate(db, database.id, 'runs_on', otherServer.id);

    const fromServer = await assessChangeImpact(db, (await change({ affected: [server] })).id);
    expect(fromServer.maxDepth).toBe(DEFAULT_IMPACT_DEPTH);
    expect(fromServer.services.affectedCiIds).toEqual([server.id]);
    expect(fromServer.services.cisReached).toBe(3);
    expect(fromServer.services.depthLimitReached).toBe(false);
    expect(fromServer.services.cis).toEqual([
      { id: server.id, number: server.number, name: server.name, ciClass: 'server', depth: 0 },
      { id: app.id, number: app.number, name: app.name, ciClass: 'application', depth: 1 },
      { id: service.id, number: service.number, name: service.name, ciClass: 'business_service', depth: 2 },
    ]);

    // From the database the walk climbs to the application and the service, never down to its server.
    const fromDatabase = await assessChangeImpact(db, (await change({ affected: [database] })).id);
    expect(depths(fromDatabase)).toEqual({ [database.id]: 0, [app.id]: 1, [service.id]: 2 });
    expect(Object.keys(depths(fromDatabase))).not.toContain(otherServer.id);
  });

  it('keeps the minimal depth of a CI reached by paths of different lengths', async () => {
    const server = await ci('server');
    const vm = await ci('virtual_machine');
    const app = await ci('application');
    await relate(db, vm.id, 'hosted_on', server.id);
    await relate(db, app.id, 'runs_on', vm.id);
    await relate(db, app.id, 'runs_on', server.id);
    const impact = await assessChangeImpact(db, (await change({ affected: [server] })).id);
    expect(depths(impact)).toEqual({ [server.id]: 0, [vm.id]: 1, [app.id]: 1 });
    expect(impact.services.cisReached).toBe(3);
  });

  it('stops at maxDepth and says so when the chain goes on', async () => {
    const chain = await cis(6, 'application');
    for (let i = 1; i < chain.length; i++) await relate(db, chain[i].id, 'depends_on', chain[i - 1].id);
    const { id } = await change({ affected: [chain[0]] });

    const shallow = await assessChangeImpact(db, id, { maxDepth: 2 });
    expect(shallow.maxDepth).toBe(2);
    expect(shallow.services.cisReached).toBe(3);
    expect(shallow.services.cis.map((c) => c.id)).toEqual(chain.slice(0, 3).map((c) => c.id));
    expect(shallow.services.depthLimitReached).toBe(true);

    const exact = await assessChangeImpact(db, id, { maxDepth: 5 });
    expect(exact.services.cisReached).toBe(6);
    expect(exact.services.depthLimitReached).toBe(false);

    const none = await assessChangeImpact(db, id, { maxDepth: 0 });
    expect(none.services.cisReached).toBe(1);
    expect(none.services.depthLimitReached).toBe(true);

    await expect(assessChangeImpact(db, id, { maxDepth: -1 })).rejects.toThrow(RangeError);
    await expect(assessChangeImpact(db, id, { maxDepth: 1.5 })).rejects.toThrow(RangeError);
  });

  it('terminates on cycles and counts each CI once', async () => {
    const server = await ci('server');
    const [a, b, c, d] = await cis(4, 'application');
    await relate(db, a.id, 'runs_on', server.id);
    await relate(db, b.id, 'depends_on', a.id);
    await relate(db, a.id, 'depends_on', b.id);
    await relate(db, c.id, 'depends_on', b.id);
    await relate(db, d.id, 'depends_on', c.id);
    await relate(db, b.id, 'depends_on', d.id);
    const { id } = await change({ affected: [server] });

    const impact = await assessChangeImpact(db, id, { maxDepth: 50 });
    expect(impact.services.cisReached).toBe(5);
    expect(depths(impact)).toEqual({ [server.id]: 0, [a.id]: 1, [b.id]: 2, [c.id]: 3, [d.id]: 4 });
    expect(impact.services.depthLimitReached).toBe(false);

    // At depth 4 the only dependent of d (b) was already reached: the result is complete.
    expect((await assessChangeImpact(db, id, { maxDepth: 4 })).services.depthLimitReached).toBe(false);
    // At depth 3, d was not reached yet.
    expect((await assessChangeImpact(db, id, { maxDepth: 3 })).services.depthLimitReached).toBe(true);
  });

  it('stays quick on a dense graph full of cycles', async () => {
    // Five layers of twelve CIs, every CI depending on every CI of the layers next to it, both ways.
    const layers = await Promise.all(Array.from({ length: 5 }, () => cis(12, 'application')));
    const edges = [];
    for (let l = 0; l + 1 < layers.length; l++) {
      for (const lower of layers[l]) {
        for (const upper of layers[l + 1]) {
          edges.push({ from_ci_id: upper.id, to_ci_id: lower.id, type: 'depends_on' });
          edges.push({ from_ci_id: lower.id, to_ci_id: upper.id, type: 'depends_on' });
        }
      }
    }
    await db('ci_relationships').insert(edges);
    const started = Date.now();
    const impact = await assessChangeImpact(db, (await change({ affected: [layers[0][0]] })).id, { maxDepth: 8 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(impact.services.cisReached).toBe(60);
    expect(impact.services.depthLimitReached).toBe(false);
    const depthOf = depths(impact);
    expect(depthOf[layers[0][0].id]).toBe(0);
    expect(depthOf[layers[1][0].id]).toBe(1);
    expect(depthOf[layers[0][1].id]).toBe(2);
    expect(depthOf[layers[4][0].id]).toBe(4);
  });

  it('lists at most 200 CIs, nearest first, but counts them all', async () => {
    const server = await ci('server');
    const vms = await cis(250);
    await db('ci_relationships').insert(vms.map((vm) => ({ from_ci_id: vm.id, to_ci_id: server.id, type: 'hosted_on' })));
    const impact = await assessChangeImpact(db, (await change({ affected: [server] })).id);
    expect(impact.services.cisReached).toBe(251);
    expect(impact.services.cis).toHaveLength(200);
    expect(impact.services.cis[0]).toMatchObject({ id: server.id, depth: 0 });
    const numbers = impact.services.cis.slice(1).map((c) => c.number);
    expect(numbers).toEqual([...vms.map((vm) => vm.number)].sort().slice(0, 199));
  });

  it('names the business services reached and the highest criticality', async () => {
    const owner = await createPerson(db, ['approver'], `Service Owner ${unique()}`);
    const server = await ci('server');
    const app = await ci('application');
    const otherApp = await ci('application');
    const payments = await ci('business_service', { criticality: 'tier_1', ownerId: owner.id });
    const reporting = await ci('business_service', { criticality: 'tier_2' });
    const intranet = await ci('business_service', { criticality: 'tier_3' });
    await relate(db, app.id, 'runs_on', server.id);
    await relate(db, reporting.id, 'depends_on', app.id);
    await relate(db, payments.id, 'depends_on', reporting.id);
    await relate(db, intranet.id, 'depends_on', otherApp.id);

    const impact = await assessChangeImpact(db, (await change({ affected: [server] })).id);
    expect(impact.services.businessServices).toEqual([
      { id: payments.id, number: payments.number, name: payments.name, ciClass: 'business_service', depth: 3, criticality: 'tier_1', ownerId: owner.id },
      { id: reporting.id, number: reporting.number, name: reporting.name, ciClass: 'business_service', depth: 2, criticality: 'tier_2', ownerId: null },
    ]);
    expect(impact.services.highestCriticality).toBe('tier_1');

    const quiet = await assessChangeImpact(db, (await change({ affected: [await ci('storage')] })).id);
    expect(quiet.services.businessServices).toEqual([]);
    expect(quiet.services.highestCriticality).toBeNull();
    expect(quiet.services.cisReached).toBe(1);
  });

  it('assesses a change without affected CIs, and refuses an unknown change', async () => {
    const impact = await assessChangeImpact(db, (await change()).id);
    expect(impact.services).toEqual({
      affectedCiIds: [], cisReached: 0, depthLimitReached: false, cis: [], businessServices: [], highestCriticality: null,
    });
    expect(impact.assets).toEqual({ behindCis: [], outOfWarranty: 0, outOfContract: 0, declaredTransitions: [] });
    expect(impact.licences).toEqual({ deltas: [], trueUpCostMinor: 0 });
    await expect(assessChangeImpact(db, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(/not found/);
  });
});

async function contract(endsOn: string): Promise<string> {
  const [{ id: vendorId }] = await db('vendors').insert({ name: `Vendor ${unique()}` }).returning('id');
  const [{ id }] = await db('contracts')
    .insert({ vendor_id: vendorId, kind: 'maintenance', title: `Support ${unique()}`, starts_on: '2024-01-01', ends_on: endsOn, currency: 'EUR' })
    .returning('id');
  return id;
}

describe('assets', () => {
  it('lists the assets behind the reached CIs with their warranty and contract against the planned end', async () => {
    // Planned to end on 2031-06-15: a warranty or contract ending that day still covers it.
    const covered = await createAsset(db, { state: 'in_use', warrantyEnd: '2031-06-15' });
    const lapsed = await createAsset(db, { state: 'in_use', warrantyEnd: '2031-06-14' });
    const bare = await createAsset(db, { state: 'in_use', warrantyEnd: null });
    const unrelated = await createAsset(db, { state: 'in_use', warrantyEnd: '2020-01-01' });
    const coveringContract = await contract('2031-06-15');
    const endedContract = await contract('2031-06-14');
    await db('assets').where({ id: covered.id }).update({ contract_id: coveringContract });
    await db('assets').where({ id: lapsed.id }).update({ contract_id: endedContract });

    const server = await ci('server', { assetId: covered.id });
    const blade = await ci('server', { assetId: lapsed.id });
    const appliance = await ci('load_balancer', { assetId: bare.id });
    const elsewhere = await ci('server', { assetId: unrelated.id });
    await relate(db, blade.id, 'uses', server.id);
    await relate(db, appliance.id, 'runs_on', blade.id);
    await relate(db, server.id, 'uses', elsewhere.id);

    const impact = await assessChangeImpact(db, (await change({
      affected: [server], plannedStart: '2031-06-14T22:00:00Z', plannedEnd: '2031-06-15T02:00:00Z',
    })).id);
    expect(impact.assets.behindCis).toEqual([
      {
        assetId: covered.id, assetTag: covered.assetTag, ciId: server.id, state: 'in_use', warrantyEnd: '2031-06-15', underWarranty: true,
        contractId: coveringContract, contractEndsOn: '2031-06-15', underContract: true,
      },
      {
        assetId: lapsed.id, assetTag: lapsed.assetTag, ciId: blade.id, state: 'in_use', warrantyEnd: '2031-06-14', underWarranty: false,
        contractId: endedContract, contractEndsOn: '2031-06-14', underContract: false,
      },
      {
        assetId: bare.id, assetTag: bare.assetTag, ciId: appliance.id, state: 'in_use', warrantyEnd: null, underWarranty: false,
        contractId: null, contractEndsOn: null, underContract: false,
      },
    ]);
    expect(impact.assets.outOfWarranty).toBe(2);
    expect(impact.assets.outOfContract).toBe(2);
  });

  it('lists the declared transitions with the state the asset is in now', async () => {
    const retiring = await createAsset(db, { state: 'in_use' });
    const repairing = await createAsset(db, { state: 'in_use' });
    const deploying = await createAsset(db, { state: 'in_stock', substate: 'available' });
    const { id } = await change({ affected: [await ci('server')] });
    await db('change_asset_actions').insert([
      { change_request_id: id, asset_id: retiring.id, to_state: 'retired', to_substate: 'disposed' },
      { change_request_id: id, asset_id: repairing.id, to_state: 'in_maintenance', to_substate: null },
      { change_request_id: id, asset_id: deploying.id, to_state: 'in_use', to_substate: null },
    ]);
    await change({ affected: [await ci('server')] }).then(({ id: other }) =>
      db('change_asset_actions').insert({ change_request_id: other, asset_id: retiring.id, to_state: 'missing' }));

    const impact = await assessChangeImpact(db, id);
    expect(impact.assets.declaredTransitions).toEqual(
      [
        { assetId: retiring.id, assetTag: retiring.assetTag, fromState: 'in_use', toState: 'retired', toSubstate: 'disposed' },
        { assetId: repairing.id, assetTag: repairing.assetTag, fromState: 'in_use', toState: 'in_maintenance', toSubstate: null },
        { assetId: deploying.id, assetTag: deploying.assetTag, fromState: 'in_stock', toState: 'in_use', toSubstate: null },
      ].sort((x, y) => x.assetTag.localeCompare(y.assetTag)),
    );
  });
});

describe('licences', () => {
  async function product(unitPriceMinor: number, name = `Product ${unique()}`): Promise<string> {
    const [{ id }] = await db('software_products')
      .insert({ publisher: 'Contoso', name, licence_metric: 'per_user', unit_price_minor: unitPriceMinor, currency: 'EUR' })
      .returning('id');
    return id;
  }
  const entitle = (productId: string, quantity: number, startsOn: string, endsOn: string | null) =>
    db('software_entitlements').insert({ product_id: productId, metric: 'per_user', quantity, starts_on: startsOn, ends_on: endsOn, currency: 'EUR' });
  const consume = (productId: string, units: number, reclaimed = false) =>
    db('software_consumptions').insert({
      product_id: productId, kind: 'assignment', person_id: requester.id, units, reclaimed_at: reclaimed ? new Date().toISOString() : null,
    });

  it('computes entitlement in term at the planned start, consumption after the change, shortfall and true-up', async () => {
    const analytics = await product(24_000, `Analytics ${unique()}`);
    await entitle(analytics, 10, '2030-01-01', '2031-01-10');
    await entitle(analytics, 5, '2029-01-01', '2031-01-09');
    await entitle(analytics, 3, '2031-01-11', null);
    await consume(analytics, 9);
    await consume(analytics, 2, true);
    const viewer = await product(1_500, `Viewer ${unique()}`);
    await entitle(viewer, 4, '2020-01-01', null);
    await consume(viewer, 2);

    const { id } = await change({ affected: [await ci('application')], plannedStart: '2031-01-10T20:00:00Z', plannedEnd: '2031-01-10T23:00:00Z' });
    await db('change_licence_changes').insert([
      { change_request_id: id, product_id: analytics, installs_added: 4, installs_removed: 1 },
      { change_request_id: id, product_id: viewer, installs_added: 0, installs_removed: 5 },
    ]);

    const impact = await assessChangeImpact(db, id);
    const byProduct = Object.fromEntries(impact.licences.deltas.map((d) => [d.productId, d]));
    expect(byProduct[analytics]).toEqual({
      productId: analytics, publisher: 'Contoso', product: expect.stringMatching(/^Analytics/),
      installsAdded: 4, installsRemoved: 1, entitledUnits: 10, consumedBefore: 9, consumedAfter: 12,
      shortfallAfter: 2, unitPriceMinor: 24_000, trueUpCostMinor: 48_000,
    });
    expect(byProduct[viewer]).toMatchObject({
      installsAdded: 0, installsRemoved: 5, entitledUnits: 4, consumedBefore: 2, consumedAfter: 0, shortfallAfter: 0, trueUpCostMinor: 0,
    });
    expect(impact.licences.deltas.map((d) => d.product)).toEqual([...impact.licences.deltas.map((d) => d.product)].sort());
    expect(impact.licences.trueUpCostMinor).toBe(48_000);
  });
});

describe('money', () => {
  async function costCentre() {
    const owner = await createPerson(db, ['approver'], `Budget Owner ${unique()}`);
    const code = `CC-${unique()}`;
    const [{ id }] = await db('cost_centres').insert({ code, name: `Platform ${code}`, owner_id: owner.id }).returning('id');
    return { id, code, name: `Platform ${code}`, ownerId: owner.id };
  }
  const spend = (costCentreId: string, chargeStart: string, billedCost: string, currency = 'EUR') =>
    db('cost_records').insert({
      source_key: `test:${unique()}`,
      billing_period_start: chargeStart, billing_period_end: new Date(Date.parse(chargeStart) + 3_600_000).toISOString(),
      charge_period_start: chargeStart, charge_period_end: new Date(Date.parse(chargeStart) + 3_600_000).toISOString(),
      charge_category: 'Usage', provider_name: 'AWS', service_name: 'Amazon EC2',
      billed_cost: billedCost, effective_cost: billedCost, billing_currency: currency, cost_centre_id: costCentreId,
    });
  async function order(costCentreId: string, amountMinor: number, state: string, currency = 'EUR') {
    const [{ id: vendorId }] = await db('vendors').insert({ name: `Vendor ${unique()}` }).returning('id');
    const [{ id: requestId }] = await db('purchase_requests')
      .insert({ requester_id: requester.id, cost_centre_id: costCentreId, justification: 'capacity', currency, total_minor: amountMinor, state: 'ordering' })
      .returning('id');
    await db('purchase_orders').insert({ purchase_request_id: requestId, vendor_id: vendorId, amount_minor: amountMinor, currency, state });
  }

  it('weighs the change against the budget of its month, less spent and committed, in exact minor units', async () => {
    const centre = await costCentre();
    const other = await costCentre();
    await db('budgets').insert([
      { cost_centre_id: centre.id, period_start: '2031-02-01', amount_minor: 1_000_000, currency: 'EUR' },
      { cost_centre_id: centre.id, period_start: '2031-03-01', amount_minor: 9_000_000, currency: 'EUR' },
    ]);
    // February spend: 1234.565 + 100.10 = 1334.665 major units, 133466.5 minor, rounded to 133467.
    await spend(centre.id, '2031-02-01T00:00:00Z', '1234.565000');
    await spend(centre.id, '2031-02-28T23:00:00Z', '100.100000');
    await spend(centre.id, '2031-01-31T23:00:00Z', '5000.000000');
    await spend(centre.id, '2031-03-01T00:00:00Z', '7000.000000');
    await spend(centre.id, '2031-02-10T00:00:00Z', '300.000000', 'USD');
    await spend(other.id, '2031-02-10T00:00:00Z', '900.000000');
    // Open orders commit their amount; closed and cancelled ones, and other cost centres, do not.
    await order(centre.id, 50_000, 'issued');
    await order(centre.id, 20_000, 'partially_received');
    await order(centre.id, 10_000, 'received');
    await order(centre.id, 99_999, 'closed');
    await order(centre.id, 77_777, 'cancelled');
    await order(other.id, 5_555, 'issued');

    const window = { plannedStart: '2031-02-14T22:00:00Z', plannedEnd: '2031-02-15T02:00:00Z' };
    const within = await assessChangeImpact(db, (await change({
      ...window, costCentreId: centre.id, oneOffCostMinor: 300_000, recurringCostMinor: 25_000,
    })).id);
    expect(within.money).toEqual({
      currency: 'EUR',
      oneOffCostMinor: 300_000,
      recurringCostMinor: 25_000,
      costCentre: centre,
      period: '2031-02-01',
      budgetMinor: 1_000_000,
      budgetCurrency: 'EUR',
      spentMinor: 133_467,
      committedMinor: 80_000,
      remainingBeforeMinor: 786_533,
      remainingAfterMinor: 461_533,
      overBudget: false,
      notComparable: null,
    });

    const over = await assessChangeImpact(db, (await change({ ...window, costCentreId: centre.id, oneOffCostMinor: 786_534 })).id);
    expect(over.money).toMatchObject({ remainingBeforeMinor: 786_533, remainingAfterMinor: -1, overBudget: true });
  });

  // The one budget rule (domain/budget.ts), as procurement applies it: nothing budgeted means any spend is over.
  it('counts a change on a cost centre without a budget for the month as over budget; one without a cost centre as charged to no budget', async () => {
    const centre = await costCentre();
    await spend(centre.id, '2031-04-03T10:00:00Z', '12.340000');
    await order(centre.id, 1_000, 'issued');
    const noBudget = await assessChangeImpact(db, (await change({
      plannedStart: '2031-04-03T22:00:00Z', plannedEnd: '2031-04-04T02:00:00Z', costCentreId: centre.id, oneOffCostMinor: 5_000,
    })).id);
    expect(noBudget.money).toMatchObject({
      period: '2031-04-01', budgetMinor: null, spentMinor: 1_234, committedMinor: 1_000,
      remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: true,
    });

    const unplanned = await assessChangeImpact(db, (await change({ oneOffCostMinor: 7_000 })).id);
    const now = new Date();
    expect(unplanned.money).toEqual({
      currency: 'EUR', oneOffCostMinor: 7_000, recurringCostMinor: 0, costCentre: null,
      period: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().slice(0, 10),
      budgetMinor: null, budgetCurrency: null, spentMinor: 0, committedMinor: 0, remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: false,
      notComparable: null,
    });
  });
});

describe('schedule', () => {
  async function window(kind: 'maintenance' | 'blackout', startsAt: string, endsAt: string, ciId: string | null = null) {
    const name = `${kind} ${unique()}`;
    const [{ id }] = await db('schedule_windows').insert({ kind, name, starts_at: startsAt, ends_at: endsAt, ci_id: ciId }).returning('id');
    return { id, name, startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString(), ciId };
  }

  it('finds open changes in an overlapping window that share affected CIs', async () => {
    const [first, second, third] = await cis(3, 'server');
    const planned = { plannedStart: '2032-03-06T22:00:00Z', plannedEnd: '2032-03-07T02:00:00Z' };
    const ours = await change({ affected: [first, second], ...planned });
    const overlapping = await change({ affected: [second, third], plannedStart: '2032-03-07T01:00:00Z', plannedEnd: '2032-03-07T03:00:00Z' });
    const both = await change({ affected: [first, second], plannedStart: '2032-03-06T20:00:00Z', plannedEnd: '2032-03-06T23:00:00Z', state: 'scheduled' });
    await change({ affected: [first], ...planned, state: 'closed' });
    await change({ affected: [first], plannedStart: '2032-03-07T02:00:00Z', plannedEnd: '2032-03-07T04:00:00Z' });
    await change({ affected: [third], ...planned });
    await change({ affected: [first] });

    const impact = await assessChangeImpact(db, ours.id);
    expect(impact.schedule.plannedStart).toBe('2032-03-06T22:00:00.000Z');
    expect(impact.schedule.plannedEnd).toBe('2032-03-07T02:00:00.000Z');
    expect(impact.schedule.conflicts).toEqual([
      {
        changeId: both.id, number: both.number, title: both.title, state: 'scheduled',
        plannedStart: '2032-03-06T20:00:00.000Z', plannedEnd: '2032-03-06T23:00:00.000Z', sharedCiIds: [first.id, second.id].sort(),
      },
      {
        changeId: overlapping.id, number: overlapping.number, title: overlapping.title, state: 'assess',
        plannedStart: '2032-03-07T01:00:00.000Z', plannedEnd: '2032-03-07T03:00:00.000Z', sharedCiIds: [second.id],
      },
    ]);
  });

  it('finds global blackouts and blackouts on reached CIs that overlap the planned window', async () => {
    const server = await ci('server');
    const app = await ci('application');
    const unrelated = await ci('application');
    await relate(db, app.id, 'runs_on', server.id);
    const global = await window('blackout', '2033-05-01T00:00:00Z', '2033-05-10T00:00:00Z');
    const onDependent = await window('blackout', '2033-05-05T01:00:00Z', '2033-05-05T05:00:00Z', app.id);
    await window('blackout', '2033-05-05T00:00:00Z', '2033-05-06T00:00:00Z', unrelated.id);
    await window('blackout', '2033-05-10T00:00:00Z', '2033-05-11T00:00:00Z');

    const inside = await assessChangeImpact(db, (await change({
      affected: [server], plannedStart: '2033-05-05T00:00:00Z', plannedEnd: '2033-05-05T02:00:00Z',
    })).id);
    expect(inside.schedule.blackouts).toEqual([global, onDependent]);

    // A window that ends as the blackout starts does not overlap it.
    const before = await assessChangeImpact(db, (await change({
      affected: [server], plannedStart: '2033-04-30T20:00:00Z', plannedEnd: '2033-05-01T00:00:00Z',
    })).id);
    expect(before.schedule.blackouts).toEqual([]);
  });

  it('names a maintenance window that contains the whole planned window, not one that only overlaps it', async () => {
    const server = await ci('server');
    const other = await ci('server');
    const weekly = await window('maintenance', '2034-07-01T20:00:00Z', '2034-07-02T04:00:00Z');
    const forServer = await window('maintenance', '2034-07-15T00:00:00Z', '2034-07-15T06:00:00Z', server.id);

    const contained = await assessChangeImpact(db, (await change({
      affected: [server], plannedStart: '2034-07-01T22:00:00Z', plannedEnd: '2034-07-02T04:00:00Z',
    })).id);
    expect(contained.schedule.maintenanceWindow).toEqual(weekly);

    const partial = await assessChangeImpact(db, (await change({
      affected: [server], plannedStart: '2034-07-02T03:00:00Z', plannedEnd: '2034-07-02T05:00:00Z',
    })).id);
    expect(partial.schedule.maintenanceWindow).toBeNull();

    const onAffectedCi = await assessChangeImpact(db, (await change({
      affected: [server], plannedStart: '2034-07-15T01:00:00Z', plannedEnd: '2034-07-15T03:00:00Z',
    })).id);
    expect(onAffectedCi.schedule.maintenanceWindow).toEqual(forServer);

    const onAnotherCi = await assessChangeImpact(db, (await change({
      affected: [other], plannedStart: '2034-07-15T01:00:00Z', plannedEnd: '2034-07-15T03:00:00Z',
    })).id);
    expect(onAnotherCi.schedule.maintenanceWindow).toBeNull();
  });

  it('has no conflicts, blackouts or maintenance window without a planned window', async () => {
    const server = await ci('server');
    await window('blackout', '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z', server.id);
    await window('maintenance', '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z', server.id);
    await change({ affected: [server], plannedStart: '2035-01-01T00:00:00Z', plannedEnd: '2035-01-01T01:00:00Z' });
    const impact = await assessChangeImpact(db, (await change({ affected: [server] })).id);
    expect(impact.schedule).toEqual({ plannedStart: null, plannedEnd: null, conflicts: [], blackouts: [], maintenanceWindow: null });
  });
});

describe('one statement', () => {
  it('assesses a change in exactly one query, with a timestamp of now', async () => {
    const server = await ci('server');
    const app = await ci('application');
    await relate(db, app.id, 'runs_on', server.id);
    const { id } = await change({ affected: [server], plannedStart: '2036-01-01T00:00:00Z', plannedEnd: '2036-01-01T01:00:00Z' });
    const queries: string[] = [];
    const onQuery = (query: { sql: string }) => queries.push(query.sql);
    db.on('query', onQuery);
    const before = Date.now();
    const impact = await assessChangeImpact(db, id).finally(() => db.removeListener('query', onQuery));
    expect(queries).toHaveLength(1);
    expect(impact.services.cisReached).toBe(2);
    expect(impact.assessedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(impact.assessedAt) - before)).toBeLessThan(60_000);
  });
});

describe('on a generated estate', () => {
  it('is the same estate for the same seed, with hubs and cycles the walk survives', async () => {
    expect(planEstate(1_000, 3, 'a-')).toEqual(planEstate(1_000, 3, 'a-'));
    expect(planEstate(1_000, 4, 'a-').edges).not.toEqual(planEstate(1_000, 3, 'a-').edges);

    const estate = await generateEstate(db, { cis: 1_000, seed: 3, prefix: `estate-${unique()}-` });
    expect(estate.ciIds).toHaveLength(1_000);
    expect(estate.serviceIds).toHaveLength(10);
    expect(estate.serverIds).toHaveLength(100);
    const { rows: inDegrees } = await db.raw<{ rows: { n: number }[] }>(
      `SELECT count(*)::int AS n FROM ci_relationships WHERE to_ci_id = ANY (?::uuid[]) GROUP BY to_ci_id`, [estate.hubIds]);
    expect(Math.max(...inDegrees.map((r) => r.n))).toBeGreaterThanOrEqual(20);

    const [a, b] = estate.cycles[0];
    const fromCycle = await assessChangeImpact(db, (await change({ affected: [{ id: a, number: '', name: '' }] })).id);
    expect(depths(fromCycle)[b]).toBe(1);
    const fromHub = await assessChangeImpact(db, (await change({ affected: estate.hubIds.map((id) => ({ id, number: '', name: '' })) })).id);
    expect(fromHub.services.cisReached).toBeGreaterThan(100);
    expect(fromHub.services.businessServices.length).toBeGreaterThan(0);
  });
});
