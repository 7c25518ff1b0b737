/** Loads the organisation: people with their roles and API keys, groups, cost centres and budgets. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { apiKeyPrefix, hashApiKey } from '../../platform/api-keys';
import { BUDGET_MONTHS, COST_CENTRES, CURRENCY, DATA_STEWARDS, EXTRA_ROLES, GROUPS, PEOPLE, TIME_ZONE_OF_CITY, type Role } from '../data/organisation';
import { emailOf, insertRows, isoDate, monthStart, percentOf, required, type Context, type Random } from './support';

export type DemoPerson = { name: string; email: string; roles: string[]; apiKey: string };

/** The demo people with their roles and deterministic API keys; the same whether or not they are loaded. */
export function demoPeople(): DemoPerson[] {
  const managers = new Set(PEOPLE.map((p) => p.manager));
  const groupApprovers = new Set(GROUPS.filter((g) => g.approves).flatMap((g) => g.members));
  const order: Role[] = ['requester', 'approver', 'asset_manager', 'process_owner', 'admin'];
  return PEOPLE.map((p) => {
    const roles = new Set<Role>(['requester', ...(EXTRA_ROLES[p.login] ?? [])]);
    if (managers.has(p.login) || groupApprovers.has(p.login)) roles.add('approver');
    return {
      name: p.name,
      email: emailOf(p.login),
      roles: order.filter((role) => roles.has(role)),
      apiKey: `af_demo_${p.login.replace(/\./g, '_')}`,
    };
  });
}

/** With `publicKeys` each person gets the key everyone knows (af_demo_<login>); without, no key at all: they sign in once given a real one. */
export async function insertOrganisation(trx: Knex.Transaction, ctx: Context, people: DemoPerson[], publicKeys: boolean): Promise<void> {
  for (const p of PEOPLE) ctx.person.set(p.login, randomUUID());
  const apiKeys = new Map(people.map((p) => [p.email, p.apiKey]));
  await insertRows(trx, 'people', PEOPLE.map((p) => ({
    id: required(ctx.person, p.login),
    email: emailOf(p.login),
    name: p.name,
    title: p.title,
    location: p.city,
    time_zone: TIME_ZONE_OF_CITY[p.city],
    manager_id: p.manager ? required(ctx.person, p.manager) : null,
  })));
  if (publicKeys) {
    await insertRows(trx, 'api_keys', PEOPLE.map((p) => {
      const apiKey = required(apiKeys, emailOf(p.login));
      return { person_id: required(ctx.person, p.login), name: 'demo', prefix: apiKeyPrefix(apiKey), key_hash: hashApiKey(apiKey), created_by: 'system:demo' };
    }));
  }
  await insertRows(trx, 'person_roles', people.flatMap((p, i) =>
    p.roles.map((role) => ({ person_id: required(ctx.person, PEOPLE[i].login), role }))));

  // Groups the schema seeds (Finance approves contract renewals) are the demo's own, given their email and manager.
  const seeded = new Map<string, string>((await trx('groups').whereIn('name', GROUPS.map((g) => g.name)).select('name', 'id')).map((g) => [g.name, g.id]));
  for (const g of GROUPS) ctx.group.set(g.name, seeded.get(g.name) ?? randomUUID());
  await insertRows(trx, 'groups', GROUPS.filter((g) => !seeded.has(g.name)).map((g) => ({
    id: required(ctx.group, g.name), name: g.name, email: g.email, manager_id: required(ctx.person, g.manager),
  })));
  for (const g of GROUPS.filter((group) => seeded.has(group.name))) {
    await trx('groups').where({ id: required(ctx.group, g.name) }).update({ email: g.email, manager_id: required(ctx.person, g.manager) });
  }
  await insertRows(trx, 'group_members', GROUPS.flatMap((g) =>
    g.members.map((login) => ({ group_id: required(ctx.group, g.name), person_id: required(ctx.person, login) }))));
  // The schema seeds the group (the reconciliation approval rule names it); the demo gives it its members.
  const stewards = await trx('groups').where({ name: 'Data stewards' }).first('id');
  if (stewards) await insertRows(trx, 'group_members', DATA_STEWARDS.map((login) => ({ group_id: stewards.id, person_id: required(ctx.person, login) })));
}

export async function insertCostCentres(trx: Knex.Transaction, ctx: Context, random: Random): Promise<void> {
  for (const cc of COST_CENTRES) ctx.costCentre.set(cc.code, randomUUID());
  await insertRows(trx, 'cost_centres', COST_CENTRES.map((cc) => ({
    id: required(ctx.costCentre, cc.code), code: cc.code, name: cc.name, owner_id: required(ctx.person, cc.owner),
  })));
  // Budgets move a few percent from month to month, in whole hundreds of euros.
  await insertRows(trx, 'budgets', COST_CENTRES.flatMap((cc) => BUDGET_MONTHS.map((offset) => {
    const amount = percentOf(cc.monthlyBudgetMinor, random.int(96, 104));
    return {
      cost_centre_id: required(ctx.costCentre, cc.code),
      period_start: isoDate(monthStart(ctx.today, offset)),
      amount_minor: amount - (amount % 10_000),
      currency: CURRENCY,
    };
  })));
}
