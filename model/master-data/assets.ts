import type { Knex } from 'knex';
import { z } from 'zod';
import { ASSET_STATES, IN_STOCK_SUBSTATES, RETIREMENT_REASONS, checkRegistration, type AssetState, type AssetSubstate } from '../../domain/asset-lifecycle';
import { DEPRECIATION_METHODS } from '../../domain/depreciation';
import { OVERSEERS } from '../../domain/directory';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { serialKey } from '../../domain/procurement';
import { recordVersionSql } from '../assets';
import { byIdOrKey } from '../keys';
import { ASSET_COLUMN_ATTRIBUTES, attributesWritten, recordManualAssetProvenance } from '../reconciliation/manual-provenance';
import { type Lookups, type MasterDataKind, type Row, type Stored } from './kind';
import { activePersonId, contractByNumber, costCentreByCode, hardwareModelByName, streamedInOrder, listPage } from './shared';


/**
 * Hardware assets, matched on their tag; URLs name them by tag or id. A row registers an asset
 * already in the estate in its current state (checked by the lifecycle's rules) and edits its
 * other columns; its state, substate and assignee change only through its lifecycle workflow,
 * which holds them (POST /assets/<tag>/transitions), and so does its retirement.
 */
interface AssetRecord {
  id: string;
  asset_tag: string;
  serial_number: string | null;
  manufacturer: string;
  model: string;
  state: AssetState;
  substate: AssetSubstate | null;
  assigned_to_email: string | null;
  managed_by_email: string | null;
  location: string | null;
  cost_centre: string | null;
  contract_number: string | null;
  purchase_cost_minor: number;
  currency: string;
  purchase_date: string | null;
  warranty_end: string | null;
  lease_end: string | null;
  useful_life_months: number;
  depreciation_method: string;
  salvage_value_minor: number;
  record_version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('assets as a')
  .join('hardware_models as m', 'm.id', 'a.model_id')
  .leftJoin('people as u', 'u.id', 'a.assigned_to_id')
  .leftJoin('people as mb', 'mb.id', 'a.managed_by_id')
  .leftJoin('cost_centres as cc', 'cc.id', 'a.cost_centre_id')
  .leftJoin('contracts as k', 'k.id', 'a.contract_id')
  .select('a.id', 'a.asset_tag', 'a.serial_number', 'm.manufacturer', 'm.name as model', 'a.state', 'a.substate',
    'u.email as assigned_to_email', 'mb.email as managed_by_email', 'a.location', 'cc.code as cost_centre', 'k.number as contract_number',
    'a.purchase_cost_minor', 'a.currency', 'a.purchase_date', 'a.warranty_end', 'a.lease_end', 'a.useful_life_months',
    'a.depreciation_method', 'a.salvage_value_minor', db.raw(`${recordVersionSql('a')} AS record_version`), 'a.retired_at');

const toRow = (r: AssetRecord): Row => ({
  assetTag: r.asset_tag, serialNumber: r.serial_number, manufacturer: r.manufacturer, model: r.model, state: r.state, substate: r.substate,
  assignedToEmail: r.assigned_to_email, managedByEmail: r.managed_by_email, location: r.location, costCentre: r.cost_centre,
  contractNumber: r.contract_number, purchaseCostMinor: r.purchase_cost_minor, currency: r.currency.trim(), purchaseDate: r.purchase_date,
  warrantyEnd: r.warranty_end, leaseEnd: r.lease_end, usefulLifeMonths: r.useful_life_months, depreciationMethod: r.depreciation_method,
  salvageValueMinor: r.salvage_value_minor,
});
const toStored = (r: AssetRecord): Stored => ({
  id: r.id, ref: r.asset_tag, version: r.record_version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

/** The asset `where` names, locked FOR UPDATE when `lock`. */
async function read(db: Knex, where: (query: Knex.QueryBuilder) => Knex.QueryBuilder, lock: boolean): Promise<Stored | null> {
  const row = await where(lock ? select(db).forUpdate('a') : select(db)).first();
  return row ? toStored(row) : null;
}

const sameEmail = (a: unknown, b: unknown) => (typeof a === 'string' ? a.toLowerCase() : null) === (typeof b === 'string' ? b.toLowerCase() : null);

/** The tag of the asset that has this serial already (compared as serialKey), memoised per Lookups. */
function assetWithSerial(lookups: Lookups, serial: string): Promise<{ id: string; assetTag: string } | null> {
  const key = serialKey(serial);
  return lookups.once(`asset-serial:${key}`, async (db) => {
    const row = await db('assets').where('serial_key', key).whereNull('serial_conflict_of').first('id', 'asset_tag');
    return row ? { id: row.id as string, assetTag: row.asset_tag as string } : null;
  });
}

/** What a row may not change on a registered asset: the lifecycle holds its state and its user. */
function lifecycleProblems(row: Row, existing: Stored): ColumnProblem[] {
  const transitions = `POST /assets/${existing.ref}/transitions`;
  if (row.assetTag !== existing.row.assetTag) {
    return [{ column: 'assetTag', value: row.assetTag, reason: `an asset keeps its tag: it names the asset's lifecycle workflow and its history (${existing.ref})` }];
  }
  if (row.state !== existing.row.state || row.substate !== existing.row.substate) {
    return [{ column: 'state', value: row.substate ? `${row.state}/${row.substate}` : row.state, reason: `the state changes through the lifecycle: ${transitions}` }];
  }
  if (!sameEmail(row.assignedToEmail, existing.row.assignedToEmail)) {
    return [{ column: 'assignedToEmail', value: row.assignedToEmail, reason: `the assignee changes through the lifecycle: ${transitions} (toState in_use with assignedToId)` }];
  }
  return [];
}

/**
 * The references of a row resolved to ids, refused by column when unknown; a retired model,
 * cost centre or contract is refused unless the asset already names it.
 */
async function references(lookups: Lookups, row: Row, existing: Stored | null): Promise<{ ids: Record<string, string | null> } | { problems: ColumnProblem[] }> {
  const problems: ColumnProblem[] = [];
  const kept = (column: string) => existing !== null && String(existing.row[column] ?? '').toLowerCase() === String(row[column] ?? '').toLowerCase();

  const model = await hardwareModelByName(lookups, row.manufacturer as string, row.model as string);
  if (!model) problems.push({ column: 'model', value: row.model, reason: `no hardware model ${row.manufacturer} ${row.model} (manufacturer and model) in the catalogue` });
  else if (model.retired && !(kept('manufacturer') && kept('model'))) problems.push({ column: 'model', value: row.model, reason: 'this hardware model is retired' });

  const managerEmail = row.managedByEmail as string | null;
  const managerId = managerEmail ? await activePersonId(lookups, managerEmail) : null;
  if (managerEmail && !managerId) problems.push({ column: 'managedByEmail', value: managerEmail, reason: 'no active person has this email' });

  const code = row.costCentre as string | null;
  const costCentre = code ? await costCentreByCode(lookups, code) : null;
  if (code && !costCentre) problems.push({ column: 'costCentre', value: code, reason: 'no cost centre has this code' });
  else if (costCentre?.retired && !kept('costCentre')) problems.push({ column: 'costCentre', value: code, reason: 'this cost centre is retired' });

  const number = row.contractNumber as string | null;
  const contract = number ? await contractByNumber(lookups, number) : null;
  if (number && !contract) problems.push({ column: 'contractNumber', value: number, reason: 'no contract has this number' });
  else if (contract?.retired && !kept('contractNumber')) problems.push({ column: 'contractNumber', value: number, reason: 'this contract is retired' });

  const serial = row.serialNumber as string | null;
  const holder = serial ? await assetWithSerial(lookups, serial) : null;
  if (holder && holder.id !== existing?.id) problems.push({ column: 'serialNumber', value: serial, reason: `${holder.assetTag} has this serial number (compared whatever the case and spacing)` });

  if (problems.length > 0) return { problems };
  return { ids: { model_id: model!.id, managed_by_id: managerId, cost_centre_id: costCentre?.id ?? null, contract_id: contract?.id ?? null } };
}

/** A new asset's state, substate and user, checked by the lifecycle's registration rule. */
async function registration(lookups: Lookups, row: Row): Promise<{ values: Record<string, unknown> } | { problems: ColumnProblem[] }> {
  const email = row.assignedToEmail as string | null;
  const assignedToId = email ? await activePersonId(lookups, email) : null;
  if (email && !assignedToId) return { problems: [{ column: 'assignedToEmail', value: email, reason: 'no active person has this email' }] };
  const refusal = checkRegistration({ state: row.state as AssetState, substate: row.substate as AssetSubstate | null, assignedToId });
  if (refusal) {
    const column = refusal.field === 'assignee' ? 'assignedToEmail' : refusal.field;
    return { problems: [{ column, value: row[column] ?? null, reason: refusal.message }] };
  }
  return { values: { state: row.state, substate: row.substate, assigned_to_id: assignedToId } };
}

export const assets: MasterDataKind = {
  name: 'assets',
  title: 'Assets',
  subjectType: 'asset',
  createdAction: 'registered',
  path: '/assets',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  // The whole estate: who holds what, where, at what cost. Anyone else sees the assets assigned to
  // them through GET /assets (api/routes/assets.ts), not through the master-data pages.
  readers: OVERSEERS,
  columns: [
    'assetTag', 'serialNumber', 'manufacturer', 'model', 'state', 'substate', 'assignedToEmail', 'managedByEmail', 'location', 'costCentre',
    'contractNumber', 'purchaseCostMinor', 'currency', 'purchaseDate', 'warrantyEnd', 'leaseEnd', 'usefulLifeMonths', 'depreciationMethod',
    'salvageValueMinor',
  ],
  keyColumns: ['assetTag'],
  keyAssignedOnCreate: true,
  sortColumns: ['assetTag', 'state', 'purchaseDate', 'warrantyEnd'],
  // Columns the table defaults are defaulted here, so that an empty cell compares equal to what it stored.
  schema: z.object({
    assetTag: cells.optional.text(64).transform((tag) => tag?.toUpperCase() ?? null),
    serialNumber: cells.optional.text(200),
    manufacturer: cells.text(200),
    model: cells.text(200),
    state: cells.oneOf(ASSET_STATES),
    substate: cells.optional.oneOf([...IN_STOCK_SUBSTATES, ...RETIREMENT_REASONS]),
    assignedToEmail: cells.optional.email,
    managedByEmail: cells.optional.email,
    location: cells.optional.text(200),
    costCentre: cells.optional.text(32).transform((code) => code?.toUpperCase() ?? null),
    contractNumber: cells.optional.text(64),
    purchaseCostMinor: cells.optional.amountMinor.transform((amount) => amount ?? 0),
    currency: cells.currency,
    purchaseDate: cells.optional.date,
    warrantyEnd: cells.optional.date,
    leaseEnd: cells.optional.date,
    usefulLifeMonths: cells.optional.integer(1, 600).transform((months) => months ?? 36),
    depreciationMethod: cells.optional.oneOf(DEPRECIATION_METHODS).transform((method) => method ?? 'straight_line'),
    salvageValueMinor: cells.optional.amountMinor.transform((amount) => amount ?? 0),
  }),

  findByKey(lookups, key, lock) {
    return read(lookups.db, (query) => query.where('a.asset_tag', key.assetTag as string), lock);
  },

  findByRef(db, ref, lock) {
    return read(db, (query) => query.where(byIdOrKey(ref, 'a.asset_tag', 'a.id')), lock);
  },

  async resolve(lookups, row, existing) {
    const lifecycle = existing ? { problems: lifecycleProblems(row, existing) } : await registration(lookups, row);
    const resolved = await references(lookups, row, existing);
    const problems = [...('problems' in lifecycle ? lifecycle.problems : []), ...('problems' in resolved ? resolved.problems : [])];
    if (problems.length > 0 || 'problems' in resolved) return { problems };
    return {
      values: {
        ...('values' in lifecycle ? lifecycle.values : {}),
        ...(row.assetTag ? { asset_tag: row.assetTag } : {}),
        ...resolved.ids,
        serial_number: row.serialNumber, location: row.location, purchase_cost_minor: row.purchaseCostMinor, currency: row.currency,
        purchase_date: row.purchaseDate, warranty_end: row.warrantyEnd, lease_end: row.leaseEnd, useful_life_months: row.usefulLifeMonths,
        depreciation_method: row.depreciationMethod, salvage_value_minor: row.salvageValueMinor,
      },
    };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('assets').insert(values).returning('id');
    return id;
  },

  // assets.version is the lifecycle's: its workflow compare-and-sets it on every transition, so an
  // edit moves the record version through details_version instead. A person's edit of what a feed
  // also reports (serial, model, location) is theirs in the provenance of the CI the asset backs.
  async update(trx, id, values) {
    const before = await trx('assets').where({ id }).first(Object.keys(ASSET_COLUMN_ATTRIBUTES));
    await trx('assets').where({ id }).update({ ...values, details_version: trx.raw('details_version + 1'), updated_at: trx.fn.now() });
    await recordManualAssetProvenance(trx, id, attributesWritten(ASSET_COLUMN_ATTRIBUTES, before ?? null, values), new Date());
  },

  async retire(_trx, stored) {
    return { column: 'state', value: stored.row.state, reason: `assets retire through the lifecycle (POST /assets/${stored.ref}/transitions with toState retired)` };
  },

  list(db, filter, page) {
    return listPage<AssetRecord>({
      query: select(db), searchColumns: ['a.asset_tag', 'a.serial_number'],
      sortable: { assetTag: 'a.asset_tag', state: 'a.state', purchaseDate: 'a.purchase_date', warrantyEnd: 'a.warranty_end' },
      defaultSort: 'assetTag', idColumn: 'a.id', retiredColumn: 'a.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<AssetRecord>(select(db).whereNull('a.retired_at'), 'a.asset_tag', 'a.id', toRow);
  },
};
