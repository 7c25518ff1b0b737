/**
 * The database knows each process's states twice: CHECK constraints list the states a row may hold,
 * and the process index's triggers decide when a process has finished. Both must say what domain/
 * says; this asks the database itself, state by state. So for the roles a person may hold, which
 * the CHECKs of person_roles and sso_role_mappings list.
 */
import type { Knex } from 'knex';
import { ASSET_STATES, SUBSTATES } from '../domain/asset-lifecycle';
import { CHANGE_STATES } from '../domain/change-request';
import { ROLES } from '../domain/directory';
import { DEPRECIATION_METHODS } from '../domain/depreciation';
import { LICENCE_METRICS } from '../domain/licence-compliance';
import { CONTRACT_KINDS } from '../domain/procurement';
import { FINAL_STATES } from '../domain/processes';
import { PURCHASE_STATES } from '../domain/procurement';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createAsset, createPerson } from './support/fixtures';

let database: TestDatabase;
let db: Knex;
let requesterId: string;
let costCentreId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  requesterId = (await createPerson(db, ['requester'], 'Vera Vocabulary')).id;
  [{ id: costCentreId }] = await db('cost_centres').insert({ code: 'CC-VOCAB', name: 'Vocabulary' }).returning('id');
});

afterAll(async () => {
  await database?.drop();
});

const finishedIn = (rows: { state: string; finished_at: Date | null }[]) => rows.filter((r) => r.finished_at !== null).map((r) => r.state).sort();
const indexed = (subjectIds: string[]) => db('processes').whereIn('subject_id', subjectIds).select('state', 'finished_at');

it('indexes a change as finished exactly in the final states domain/ names', async () => {
  const ids: string[] = [];
  for (const [i, state] of CHANGE_STATES.entries()) {
    const [{ id }] = await db('change_requests')
      .insert({ type: 'normal', state, close_code: state === 'closed' ? 'successful' : null, requester_id: requesterId, title: `In ${state}`, workflow_id: `change:VOCAB${i}` })
      .returning('id');
    ids.push(id);
  }
  expect(finishedIn(await indexed(ids))).toEqual([...FINAL_STATES.change].sort());
});

it('indexes a purchase request as finished exactly in the final states domain/ names', async () => {
  const ids: string[] = [];
  for (const [i, state] of PURCHASE_STATES.entries()) {
    const [{ id }] = await db('purchase_requests')
      .insert({ requester_id: requesterId, cost_centre_id: costCentreId, state, justification: `In ${state}`, currency: 'EUR', workflow_id: `purchase:VOCAB${i}` })
      .returning('id');
    ids.push(id);
  }
  expect(finishedIn(await indexed(ids))).toEqual([...FINAL_STATES.procurement].sort());
});

it('indexes an asset lifecycle as finished exactly in the final states domain/ names', async () => {
  const ids: string[] = [];
  for (const state of ASSET_STATES) {
    const { id } = await createAsset(db);
    // The last substate: a disposal would need its data-wipe attestation.
    await db('assets').where({ id }).update({
      state,
      substate: SUBSTATES[state].at(-1) ?? null,
      assigned_to_id: state === 'in_use' ? requesterId : null,
      retired_at: state === 'retired' ? db.fn.now() : null,
    });
    ids.push(id);
  }
  expect(finishedIn(await indexed(ids))).toEqual([...FINAL_STATES.asset_lifecycle].sort());
});

it('refuses a state domain/ does not know, for every process row', async () => {
  await expect(db('change_requests').insert({ type: 'normal', state: 'parked', requester_id: requesterId, title: 'Parked' })).rejects.toThrow(/check constraint/);
  await expect(db('purchase_requests').insert({ requester_id: requesterId, cost_centre_id: costCentreId, state: 'parked', justification: 'Parked', currency: 'EUR' }))
    .rejects.toThrow(/check constraint/);
  await expect(createAsset(db, { state: 'parked' as never, substate: null })).rejects.toThrow(/check constraint/);
});

describe('the roles and licence metrics the database accepts are exactly the ones domain/ names', () => {
  /** The values a CHECK constraint lists, as Postgres itself prints the constraint. */
  async function valuesListedBy(constraint: string): Promise<string[]> {
    const { rows } = await db.raw(`SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = ? AND contype = 'c'`, [constraint]);
    expect(rows).toHaveLength(1);
    return [...(rows[0].definition as string).matchAll(/'([^']*)'::text/g)].map((m) => m[1]).sort();
  }

  it('lists them in the CHECKs of person_roles and sso_role_mappings', async () => {
    expect(await valuesListedBy('person_roles_role_check')).toEqual([...ROLES].sort());
    expect(await valuesListedBy('sso_role_mappings_role_check')).toEqual([...ROLES].sort());
  });

  it('lists the licence metrics of domain/licence-compliance.ts in the CHECK of software_products', async () => {
    expect(await valuesListedBy('software_products_metric_check')).toEqual([...LICENCE_METRICS].sort());
  });

  it('lists the contract kinds and depreciation methods of domain/ in the CHECKs of contracts, hardware models and assets', async () => {
    expect(await valuesListedBy('contracts_kind_check')).toEqual([...CONTRACT_KINDS].sort());
    expect(await valuesListedBy('hardware_models_depreciation_check')).toEqual([...DEPRECIATION_METHODS].sort());
    expect(await valuesListedBy('assets_depreciation_check')).toEqual([...DEPRECIATION_METHODS].sort());
  });

  it('stores every role, and refuses any other', async () => {
    const { id: personId } = await createPerson(db, [], 'Rolf Roles');
    for (const role of ROLES) {
      await db('person_roles').insert({ person_id: personId, role });
      await db('sso_role_mappings').insert({ claim_value: 'vocabulary', role });
    }
    expect((await db('person_roles').where({ person_id: personId }).pluck('role')).sort()).toEqual([...ROLES].sort());
    await expect(db('person_roles').insert({ person_id: requesterId, role: 'superuser' })).rejects.toThrow(/check constraint/);
    await expect(db('sso_role_mappings').insert({ claim_value: 'vocabulary', role: 'superuser' })).rejects.toThrow(/check constraint/);
  });
});
