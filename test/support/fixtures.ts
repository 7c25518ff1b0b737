import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { AssetState, AssetSubstate } from '../../domain/asset-lifecycle';
import { findAsset, type Asset } from '../../model/assets';
import { insertApiKey } from '../../model/api-keys';
import { generateApiKey } from '../../platform/api-keys';

const unique = () => randomBytes(4).toString('hex');

export interface TestPerson {
  id: string;
  email: string;
  name: string;
  apiKey: string;
}

export async function createPerson(
  db: Knex,
  roles: string[],
  name = `Person ${unique()}`,
  options: { managerId?: string } = {},
): Promise<TestPerson> {
  const apiKey = generateApiKey();
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${unique()}@assetflow.test`;
  const [{ id }] = await db('people')
    .insert({ name, email, manager_id: options.managerId ?? null })
    .returning('id');
  await insertApiKey(db, { personId: id, name: 'test', apiKey, createdBy: 'system:test' });
  if (roles.length) await db('person_roles').insert(roles.map((role) => ({ person_id: id, role })));
  return { id, email, name, apiKey };
}

/** A requester and their manager, who approves their purchase requests in the one procurement approval step. */
export async function createManagedRequester(db: Knex, names: { requester: string; manager: string }): Promise<{ requester: TestPerson; manager: TestPerson }> {
  const manager = await createPerson(db, ['approver'], names.manager);
  const requester = await createPerson(db, ['requester'], names.requester, { managerId: manager.id });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  return { requester, manager };
}

export async function createHardwareModel(db: Knex, overrides: Record<string, unknown> = {}): Promise<string> {
  const [{ id }] = await db('hardware_models')
    .insert({
      manufacturer: 'Lenovo',
      name: `ThinkPad T14 ${unique()}`,
      category: 'laptop',
      list_price_minor: 145_000,
      currency: 'EUR',
      warranty_months: 36,
      useful_life_months: 36,
      depreciation_method: 'straight_line',
      ...overrides,
    })
    .returning('id');
  return id;
}

/** The first day of this month: the period of the budget a request submitted now is checked against. */
export const thisMonth = () => `${new Date().toISOString().slice(0, 7)}-01`;

/** A vendor that takes orders at orders@<first word of its name>.example. */
export async function createVendor(db: Knex, name: string): Promise<string> {
  const [{ id }] = await db('vendors').insert({ name, contact_email: `orders@${name.split(' ')[0].toLowerCase()}.example` }).returning('id');
  return id;
}

/** A cost centre with, unless `budgetMinor` is null, this month's budget in EUR. */
export async function createCostCentre(db: Knex, code: string, name: string, budgetMinor: number | null): Promise<string> {
  const [{ id }] = await db('cost_centres').insert({ code, name }).returning('id');
  if (budgetMinor !== null) await db('budgets').insert({ cost_centre_id: id, period_start: thisMonth(), amount_minor: budgetMinor, currency: 'EUR' });
  return id;
}

/**
 * What a purchase request needs to be ordered: a vendor with a purchase contract (EUR, 2026 to
 * 2029), a cost centre with this month's budget (100,000.00 EUR unless told) and a hardware model
 * of that vendor. Answers the model's id.
 */
export async function createPurchasableHardware(
  db: Knex,
  options: { vendor: string; costCentre: { code: string; name: string }; budgetMinor?: number; listPriceMinor: number },
): Promise<string> {
  const vendorId = await createVendor(db, options.vendor);
  await db('contracts').insert({ vendor_id: vendorId, kind: 'purchase', title: 'Framework', starts_on: '2026-01-01', ends_on: '2029-01-01', currency: 'EUR' });
  await createCostCentre(db, options.costCentre.code, options.costCentre.name, options.budgetMinor ?? 10_000_000);
  return createHardwareModel(db, { vendor_id: vendorId, list_price_minor: options.listPriceMinor });
}

export interface AssetFixture {
  state?: AssetState;
  substate?: AssetSubstate | null;
  assignedToId?: string | null;
  managedById?: string | null;
  purchaseCostMinor?: number;
  purchaseDate?: string;
  usefulLifeMonths?: number;
  salvageValueMinor?: number;
  warrantyEnd?: string | null;
  leaseEnd?: string | null;
}

export async function createAsset(db: Knex, fixture: AssetFixture = {}): Promise<Asset> {
  const state = fixture.state ?? 'in_stock';
  const [{ id }] = await db('assets')
    .insert({
      model_id: await createHardwareModel(db),
      serial_number: `SN-${unique()}`,
      state,
      substate: fixture.substate === undefined ? (state === 'in_stock' ? 'available' : null) : fixture.substate,
      assigned_to_id: fixture.assignedToId ?? null,
      managed_by_id: fixture.managedById ?? null,
      location: 'Amsterdam HQ',
      purchase_cost_minor: fixture.purchaseCostMinor ?? 120_000,
      currency: 'EUR',
      purchase_date: fixture.purchaseDate ?? '2025-01-15',
      useful_life_months: fixture.usefulLifeMonths ?? 36,
      salvage_value_minor: fixture.salvageValueMinor ?? 0,
      warranty_end: fixture.warrantyEnd ?? null,
      lease_end: fixture.leaseEnd ?? null,
    })
    .returning('id');
  return (await findAsset(db, id))!;
}

export async function createCi(
  db: Knex,
  fields: { name?: string; ciClass?: string; assetId?: string; operationalStatus?: string; criticality?: string; ownerId?: string } = {},
): Promise<{ id: string; number: string; name: string }> {
  const [row] = await db('configuration_items')
    .insert({
      name: fields.name ?? `ci-${unique()}`,
      ci_class: fields.ciClass ?? 'server',
      asset_id: fields.assetId ?? null,
      operational_status: fields.operationalStatus ?? 'operational',
      criticality: fields.criticality ?? null,
      owner_id: fields.ownerId ?? null,
    })
    .returning(['id', 'number', 'name']);
  return row;
}

export async function relate(db: Knex, fromCiId: string, type: string, toCiId: string): Promise<void> {
  await db('ci_relationships').insert({ from_ci_id: fromCiId, to_ci_id: toCiId, type });
}

/** A product with `entitled` seats, `installs` of them on the given asset. */
export async function installSoftware(db: Knex, assetId: string, entitled: number, installs = 1): Promise<string> {
  const [{ id: productId }] = await db('software_products')
    .insert({ publisher: 'Adobe', name: `Acrobat Pro ${unique()}`, licence_metric: 'per_device', unit_price_minor: 24_000, currency: 'EUR' })
    .returning('id');
  await db('software_entitlements').insert({ product_id: productId, metric: 'per_device', quantity: entitled, starts_on: '2025-01-01', currency: 'EUR' });
  await db('software_consumptions').insert(
    Array.from({ length: installs }, () => ({ product_id: productId, kind: 'installation', asset_id: assetId })),
  );
  return productId;
}

export async function auditRows(db: Knex, assetId: string) {
  return db('audit_log').where({ subject_type: 'asset', subject_id: assetId }).orderBy('id');
}

export async function createGroup(db: Knex, memberIds: string[], name = `Group ${unique()}`): Promise<string> {
  const [{ id }] = await db('groups').insert({ name }).returning('id');
  if (memberIds.length) await db('group_members').insert(memberIds.map((person_id) => ({ group_id: id, person_id })));
  return id;
}

export async function createApprovalRule(
  db: Knex,
  rule: { process?: string; stepOrder: number; name: string; appliesWhen?: Record<string, unknown>; approverKind: string; groupId?: string; policy?: string; quorum?: number; onExpiry?: string },
): Promise<string> {
  const [{ id }] = await db('approval_rules')
    .insert({
      process: rule.process ?? 'change',
      step_order: rule.stepOrder,
      name: rule.name,
      applies_when: JSON.stringify(rule.appliesWhen ?? {}),
      approver_kind: rule.approverKind,
      group_id: rule.groupId ?? null,
      policy: rule.policy ?? 'any',
      quorum: rule.quorum ?? null,
      on_expiry: rule.onExpiry ?? 'reject',
    })
    .returning('id');
  return id;
}

export async function changeAudit(db: Knex, changeId: string) {
  return db('audit_log').where({ subject_type: 'change_request', subject_id: changeId }).orderBy('id');
}

/** Polls until `probe` returns something truthy; for state that a workflow reaches on its own. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
