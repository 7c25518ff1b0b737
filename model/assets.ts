import type { Knex } from 'knex';
import type { AssetState, AssetSubstate, DataWipeAttestation, TransitionFacts } from '../domain/asset-lifecycle';
import type { DepreciationMethod } from '../domain/depreciation';
import { serialKey, warrantyEndDate } from '../domain/procurement';
import { isUniqueViolation } from '../platform/database';
import { likeContaining } from './directory';
import { byIdOrKey } from './keys';
import { paginate, type Page } from './page';

export interface AssetRow {
  id: string;
  asset_tag: string;
  serial_number: string | null;
  model_id: string;
  state: AssetState;
  substate: AssetSubstate | null;
  assigned_to_id: string | null;
  managed_by_id: string | null;
  location: string | null;
  cost_centre_id: string | null;
  contract_id: string | null;
  purchase_cost_minor: number;
  currency: string;
  purchase_date: string | null;
  depreciation_method: DepreciationMethod;
  useful_life_months: number;
  salvage_value_minor: number;
  warranty_end: string | null;
  lease_end: string | null;
  retired_at: Date | null;
  retirement_book_value_minor: number | null;
  disposal_attestation: DataWipeAttestation | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface Asset {
  id: string;
  assetTag: string;
  serialNumber: string | null;
  modelId: string;
  state: AssetState;
  substate: AssetSubstate | null;
  assignedToId: string | null;
  managedById: string | null;
  location: string | null;
  costCentreId: string | null;
  contractId: string | null;
  purchaseCost: { amountMinor: number; currency: string };
  purchaseDate: string | null;
  depreciationMethod: DepreciationMethod;
  usefulLifeMonths: number;
  salvageValueMinor: number;
  warrantyEnd: string | null;
  leaseEnd: string | null;
  retiredAt: string | null;
  retirementBookValueMinor: number | null;
  disposalAttestation: DataWipeAttestation | null;
  version: number;
  updatedAt: string;
}

export function toAsset(row: AssetRow): Asset {
  return {
    id: row.id,
    assetTag: row.asset_tag,
    serialNumber: row.serial_number,
    modelId: row.model_id,
    state: row.state,
    substate: row.substate,
    assignedToId: row.assigned_to_id,
    managedById: row.managed_by_id,
    location: row.location,
    costCentreId: row.cost_centre_id,
    contractId: row.contract_id,
    purchaseCost: { amountMinor: row.purchase_cost_minor, currency: row.currency },
    purchaseDate: row.purchase_date,
    depreciationMethod: row.depreciation_method,
    usefulLifeMonths: row.useful_life_months,
    salvageValueMinor: row.salvage_value_minor,
    warrantyEnd: row.warranty_end,
    leaseEnd: row.lease_end,
    retiredAt: row.retired_at ? row.retired_at.toISOString() : null,
    retirementBookValueMinor: row.retirement_book_value_minor,
    disposalAttestation: row.disposal_attestation,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * The version of an asset's record as the API reads and edits it (its ETag): the lifecycle's
 * version (assets.version, bumped by every transition) plus the edits of its other columns
 * (assets.details_version), plus one, since a version-0 asset would have an ETag no If-Match can
 * name. Edits leave assets.version alone: the running lifecycle workflow holds that number and
 * compare-and-sets it, and would refuse its next transition.
 */
export const recordVersionSql = (alias: string) => `(${alias}.version + ${alias}.details_version + 1)`;

/** The record version of the asset an id or tag names; undefined when there is none. */
export async function assetRecordVersion(db: Knex, idOrTag: string): Promise<number | undefined> {
  const row = await db('assets as a').where(byIdOrKey(idOrTag, 'a.asset_tag', 'a.id')).first(db.raw(`${recordVersionSql('a')} AS version`));
  return row?.version as number | undefined;
}

/** Finds an asset by its id or by its asset tag. */
export async function findAsset(db: Knex, idOrTag: string): Promise<Asset | undefined> {
  const row = await db<AssetRow>('assets')
    .where(byIdOrKey(idOrTag, 'asset_tag'))
    .first();
  return row ? toAsset(row) : undefined;
}

export interface AssetFilters {
  /**
   * Only the assets this person uses or answers for (assigned to them, managed by them, or of a
   * cost centre they own): what someone who oversees no assets may list; answersForAsset is the
   * same rule for one asset.
   */
  visibleTo?: string;
  state?: AssetState;
  substate?: AssetSubstate;
  assignedToId?: string;
  modelId?: string;
  costCentreCode?: string;
  warrantyEndsBefore?: string;
  /** Asset tag or serial number prefix. */
  q?: string;
  /** Part of the model's manufacturer and name ("thinkpad", "Lenovo T14"). */
  modelText?: string;
  /** Part of the assignee's name or email. */
  assigneeText?: string;
}

/** Assets by asset tag. */
export function listAssets(db: Knex, filters: AssetFilters, page: { limit: number; offset: number }): Promise<Page<Asset>> {
  const q = db<AssetRow>('assets').select('*', db.raw(`${recordVersionSql('assets')} AS record_version`)).orderBy('asset_tag');
  const viewer = filters.visibleTo;
  if (viewer) {
    q.where((w) => w.where('assigned_to_id', viewer).orWhere('managed_by_id', viewer)
      .orWhereIn('cost_centre_id', db('cost_centres').select('id').where('owner_id', viewer)));
  }
  if (filters.state) q.where('state', filters.state);
  if (filters.substate) q.where('substate', filters.substate);
  if (filters.assignedToId) q.where('assigned_to_id', filters.assignedToId);
  if (filters.modelId) q.where('model_id', filters.modelId);
  if (filters.costCentreCode) q.whereIn('cost_centre_id', db('cost_centres').select('id').where('code', filters.costCentreCode));
  if (filters.warrantyEndsBefore) q.where('warranty_end', '<', filters.warrantyEndsBefore);
  if (filters.q) {
    const prefix = `${filters.q.replace(/[\\%_]/g, '\\$&')}%`;
    q.where((w) => w.whereILike('asset_tag', prefix).orWhereILike('serial_number', prefix));
  }
  if (filters.modelText) {
    q.whereIn('model_id', db('hardware_models').select('id').whereRaw(`manufacturer || ' ' || name ILIKE ?`, [likeContaining(filters.modelText)]));
  }
  if (filters.assigneeText) {
    const pattern = likeContaining(filters.assigneeText);
    q.whereIn('assigned_to_id', db('people').select('id').where((w) => w.whereILike('name', pattern).orWhereILike('email', pattern)));
  }
  return paginate(q, page, (row: AssetRow & { record_version: number }) => ({ ...toAsset(row), version: row.record_version }));
}

/** What a person reads about an asset besides its row: model, assignee, the CIs it backs, its licences and its history. */
export async function assetDetail(db: Knex, asset: Asset) {
  const [model, assignedTo, backedCis, licences, history] = await Promise.all([
    db('hardware_models').where({ id: asset.modelId }).first('id', 'manufacturer', 'name', 'category'),
    asset.assignedToId ? db('people').where({ id: asset.assignedToId }).first('id', 'name', 'email') : null,
    db('configuration_items').where({ asset_id: asset.id }).select('id', 'number', 'name', 'ci_class as ciClass', 'operational_status as operationalStatus'),
    db('software_consumptions as c')
      .join('software_products as p', 'p.id', 'c.product_id')
      .where('c.asset_id', asset.id)
      .select('c.id', 'p.publisher', 'p.name as product', 'c.units', 'c.installed_at as installedAt', 'c.reclaimed_at as reclaimedAt'),
    db('audit_log')
      .where({ subject_type: 'asset', subject_id: asset.id })
      .orderBy('id')
      .select('occurred_at as occurredAt', 'actor', 'action', 'from_state as fromState', 'to_state as toState', 'details', 'workflow_id as workflowId'),
  ]);
  return { ...asset, model, assignedTo, backedCis, licences, history };
}

/** What a list of assets shows besides their rows: each one's model, assignee and cost centre, by id. */
export async function assetListNames(db: Knex, assets: Asset[]) {
  const ids = (pick: (a: Asset) => string | null) => [...new Set(assets.map(pick).filter((id): id is string => !!id))];
  const [models, people, costCentres] = await Promise.all([
    db('hardware_models').whereIn('id', ids((a) => a.modelId)).select('id', 'manufacturer', 'name'),
    db('people').whereIn('id', ids((a) => a.assignedToId)).select('id', 'name'),
    db('cost_centres').whereIn('id', ids((a) => a.costCentreId)).select('id', 'code', 'name'),
  ]);
  return {
    models: new Map<string, string>(models.map((m: { id: string; manufacturer: string; name: string }) => [m.id, `${m.manufacturer} ${m.name}`])),
    people: new Map<string, string>(people.map((p: { id: string; name: string }) => [p.id, p.name])),
    costCentres: new Map<string, { code: string; name: string }>(costCentres.map((c: { id: string; code: string; name: string }) => [c.id, c])),
  };
}

/** A cost record of an asset as a person reads it; the amounts are the FOCUS decimals, as stored. */
export interface AssetCost {
  chargePeriodStart: string;
  chargeCategory: string;
  description: string | null;
  provider: string;
  billedCost: string;
  effectiveCost: string;
  currency: string;
}

/**
 * What an asset's page shows besides assetDetail: its cost centre and manager, the purchase it
 * was received on (receipt, order, request), and its cost records.
 */
export async function assetProvenance(db: Knex, asset: Asset) {
  const [costCentre, managedBy, receipt, costs] = await Promise.all([
    asset.costCentreId ? db('cost_centres').where({ id: asset.costCentreId }).first('code', 'name') : null,
    asset.managedById ? db('people').where({ id: asset.managedById }).first('id', 'name', 'email') : null,
    db('assets as a')
      .join('receipts as r', 'r.id', 'a.receipt_id')
      .join('purchase_orders as o', 'o.id', 'r.purchase_order_id')
      .join('purchase_requests as p', 'p.id', 'o.purchase_request_id')
      .where('a.id', asset.id)
      .first('r.received_at as receivedAt', 'o.number as orderNumber', 'p.number as requestNumber', 'p.workflow_id as requestWorkflowId'),
    db('cost_records')
      .where({ asset_id: asset.id })
      .orderBy('charge_period_start')
      .select('charge_period_start as chargePeriodStart', 'charge_category as chargeCategory', 'charge_description as description',
        'provider_name as provider', 'billed_cost as billedCost', 'effective_cost as effectiveCost', 'billing_currency as currency'),
  ]);
  return {
    costCentre: (costCentre as { code: string; name: string } | undefined) ?? null,
    managedBy: (managedBy as { id: string; name: string; email: string } | undefined) ?? null,
    receipt: receipt
      ? { ...(receipt as { orderNumber: string; requestNumber: string; requestWorkflowId: string | null }), receivedAt: (receipt.receivedAt as Date).toISOString() }
      : null,
    costs: (costs as (Omit<AssetCost, 'chargePeriodStart'> & { chargePeriodStart: Date })[])
      .map((c): AssetCost => ({ ...c, chargePeriodStart: c.chargePeriodStart.toISOString() })),
  };
}

/** The names of these people, by id (the assignees an asset's history names). */
export async function personNames(db: Knex, ids: string[]): Promise<Map<string, string>> {
  const rows: { id: string; name: string }[] = ids.length ? await db('people').whereIn('id', [...new Set(ids)]).select('id', 'name') : [];
  return new Map(rows.map((p) => [p.id, p.name]));
}

/** At most this many people are suggested for an assignee; any other active person is typed by email. */
export const ASSIGNEE_SUGGESTIONS = 50;

/**
 * Active people to suggest as an asset's assignee, by name: a first few, not the directory, since
 * anyone active may be given the asset by their email (activePersonByEmail).
 */
export function assigneeSuggestions(db: Knex): Promise<{ id: string; name: string; email: string }[]> {
  return db('people').where('active', true).orderBy('name').limit(ASSIGNEE_SUGGESTIONS).select('id', 'name', 'email');
}

/** The active person with this email (compared without regard to case), or undefined. */
export function activePersonByEmail(db: Knex, email: string): Promise<{ id: string; name: string; email: string } | undefined> {
  return db('people').where('active', true).whereRaw('lower(email) = lower(?)', [email.trim()]).first('id', 'name', 'email');
}

/**
 * Whether the person answers for the asset: its manager, or the owner of its cost centre. They are
 * who its emails go to (security notices, warranty and lease reminders), so they may open it.
 */
export async function answersForAsset(db: Knex, personId: string, asset: Asset): Promise<boolean> {
  if (asset.managedById === personId) return true;
  if (!asset.costCentreId) return false;
  return (await db('cost_centres').where({ id: asset.costCentreId, owner_id: personId }).first('id')) !== undefined;
}

/**
 * The asset's place in the service map, in one query: the CIs it backs, and the operational
 * CIs that are it or run on / are hosted on it.
 */
export async function loadTransitionFacts(db: Knex, assetId: string): Promise<TransitionFacts> {
  const { rows } = await db.raw<{ rows: { number: string; name: string; backed: boolean; operational: boolean }[] }>(
    `WITH backed AS (
       SELECT id, number, name, operational_status FROM configuration_items WHERE asset_id = ?
     )
     SELECT number, name, true AS backed, operational_status = 'operational' AS operational FROM backed
     UNION ALL
     SELECT DISTINCT ci.number, ci.name, false AS backed, true AS operational
       FROM ci_relationships r
       JOIN backed b ON b.id = r.to_ci_id
       JOIN configuration_items ci ON ci.id = r.from_ci_id
      WHERE r.type IN ('runs_on', 'hosted_on') AND r.retired_at IS NULL AND ci.operational_status = 'operational'
     ORDER BY number`,
    [assetId],
  );
  return {
    backedCis: rows.filter((r) => r.backed).map(({ number, name }) => ({ number, name })),
    operationalCisOnAsset: rows.filter((r) => r.operational).map(({ number, name }) => ({ number, name })),
  };
}

/** Of these serial numbers, the ones already on an asset record, as that record writes them (compared by serialKey). */
export async function serialsOnFile(db: Knex, serials: string[]): Promise<string[]> {
  if (serials.length === 0) return [];
  return db('assets').whereIn('serial_key', [...new Set(serials.map(serialKey))]).orderBy('serial_number').pluck('serial_number');
}

/** The unique index on serial_key refused a row: another asset has that serial (a concurrent receipt got there first). */
export function isSerialOnFileViolation(error: unknown): boolean {
  return isUniqueViolation(error, 'assets_serial_key_unique');
}

/**
 * The asset record of one received hardware unit, on order until its lifecycle workflow stocks it,
 * with the cost, cost centre, contract and warranty of its receipt row; the one already created for
 * that receipt and serial when there is one.
 */
export async function insertReceivedAsset(trx: Knex.Transaction, receiptId: string, serialNumber: string): Promise<{ id: string; asset_tag: string }> {
  const existing = await trx('assets').where({ receipt_id: receiptId, serial_number: serialNumber }).first('id', 'asset_tag');
  if (existing) return existing;
  const receipt = await trx('receipts as r')
    .join('purchase_request_lines as l', 'l.id', 'r.purchase_request_line_id')
    .join('purchase_requests as p', 'p.id', 'l.purchase_request_id')
    .join('hardware_models as m', 'm.id', 'l.hardware_model_id')
    .where('r.id', receiptId)
    .first('r.received_at', 'l.unit_price_minor', 'l.contract_id', 'l.hardware_model_id', 'p.currency', 'p.cost_centre_id',
      'm.warranty_months', 'm.useful_life_months', 'm.depreciation_method');
  const receivedOn = (receipt.received_at as Date).toISOString().slice(0, 10);
  const [asset] = await trx('assets')
    .insert({
      model_id: receipt.hardware_model_id,
      serial_number: serialNumber,
      state: 'on_order',
      substate: null,
      cost_centre_id: receipt.cost_centre_id,
      contract_id: receipt.contract_id,
      purchase_cost_minor: receipt.unit_price_minor,
      currency: receipt.currency,
      purchase_date: receivedOn,
      warranty_end: warrantyEndDate(receivedOn, receipt.warranty_months),
      useful_life_months: receipt.useful_life_months,
      depreciation_method: receipt.depreciation_method,
      receipt_id: receiptId,
    })
    .returning(['id', 'asset_tag']);
  return asset;
}
