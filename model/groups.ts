/**
 * Groups as admins maintain them (the CAB, finance, security): name, description, mailbox,
 * manager, members, and whether approval rules may still route to them. Writes as in
 * model/people.ts: one transaction with the audit row, updates checked against the version read.
 */
import type { Knex } from 'knex';
import { DirectoryRefused, changedFields, staleVersion, changedMemberships, changesNothing, type GroupCreate, type GroupUpdate } from '../domain/directory';
import { isUniqueViolation } from '../platform/database';
import { insertAuditRow } from './audit-rows';
import { likeContaining } from './directory';
import { paginate, type Page } from './page';
import { isUuid } from './keys';
import { bumpPeople, peopleByEmail, refuseProblems, takeMembershipTurn, type Problems } from './people';

export interface GroupDetail {
  id: string;
  name: string;
  description: string | null;
  email: string | null;
  active: boolean;
  version: number;
  manager: { id: string; name: string; email: string } | null;
  members: { id: string; name: string; email: string; active: boolean }[];
  updatedAt: string;
}

export interface GroupEntry {
  id: string;
  name: string;
  description: string | null;
  email: string | null;
  active: boolean;
  version: number;
  managerName: string | null;
  memberCount: number;
}

/** Groups by name; `q` matches part of the name, description or email. */
export function listGroups(db: Knex, filters: { q?: string; active?: boolean }, page: { limit: number; offset: number }): Promise<Page<GroupEntry>> {
  const q = db('groups as g')
    .leftJoin('people as m', 'm.id', 'g.manager_id')
    .select(
      'g.id', 'g.name', 'g.description', 'g.email', 'g.active', 'g.version', 'm.name as managerName',
      db.raw(`(SELECT count(*)::int FROM group_members gm WHERE gm.group_id = g.id) AS "memberCount"`),
    )
    .orderBy(['g.name', 'g.id']);
  if (filters.q) {
    const like = likeContaining(filters.q);
    q.where((w) => w.whereILike('g.name', like).orWhereILike('g.description', like).orWhereILike('g.email', like));
  }
  if (filters.active !== undefined) q.where('g.active', filters.active);
  return paginate(q, page, (row: GroupEntry) => row);
}

/** Every group's id and name, for forms that offer them all. */
export function groupChoices(db: Knex): Promise<{ id: string; name: string; active: boolean }[]> {
  return db('groups').orderBy(['name', 'id']).limit(1000).select('id', 'name', 'active');
}

export async function findGroupDetail(db: Knex, id: string): Promise<GroupDetail | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db('groups as g')
    .leftJoin('people as m', 'm.id', 'g.manager_id')
    .where('g.id', id)
    .first(
      'g.id', 'g.name', 'g.description', 'g.email', 'g.active', 'g.version', 'g.updated_at',
      db.raw(`CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('id', m.id, 'name', m.name, 'email', m.email) END AS manager`),
      db.raw(`COALESCE((SELECT json_agg(json_build_object('id', p.id, 'name', p.name, 'email', p.email, 'active', p.active) ORDER BY p.name, p.id)
                          FROM group_members gm JOIN people p ON p.id = gm.person_id WHERE gm.group_id = g.id), '[]') AS members`),
    );
  if (!row) return undefined;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    email: row.email,
    active: row.active,
    version: row.version,
    manager: row.manager,
    members: row.members,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** A group as the audit log records it: people by email, members sorted. */
interface GroupSnapshot {
  [field: string]: string | boolean | null | string[];
  name: string;
  description: string | null;
  email: string | null;
  managerEmail: string | null;
  members: string[];
  active: boolean;
}

const snapshotOf = (group: GroupDetail): GroupSnapshot => ({
  name: group.name,
  description: group.description,
  email: group.email,
  managerEmail: group.manager?.email ?? null,
  members: group.members.map((m) => m.email).sort(),
  active: group.active,
});

/** The people a group's input names by email; each unknown one is a problem at its path (`members.2`). */
async function resolvePeople(
  trx: Knex.Transaction,
  input: { managerEmail?: string | null; members?: string[] },
): Promise<{ manager?: { id: string; email: string } | null; members?: { id: string; email: string }[] }> {
  const named = [...(input.managerEmail ? [input.managerEmail] : []), ...(input.members ?? [])];
  const people = await peopleByEmail(trx, named);
  const problems: Problems = [];
  const resolved: { manager?: { id: string; email: string } | null; members?: { id: string; email: string }[] } = {};
  if (input.managerEmail !== undefined) {
    const manager = input.managerEmail === null ? null : people.get(input.managerEmail);
    if (manager === undefined) problems.push({ path: 'managerEmail', message: `no person with the email ${input.managerEmail}` });
    else resolved.manager = manager;
  }
  if (input.members !== undefined) {
    const members = new Map<string, { id: string; email: string }>();
    input.members.forEach((email, i) => {
      const person = people.get(email);
      if (person) members.set(person.id, person);
      else problems.push({ path: `members.${i}`, message: `no person with the email ${email}` });
    });
    resolved.members = [...members.values()];
  }
  refuseProblems(problems);
  return resolved;
}

async function refusingTakenName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, 'groups_name_lower_unique', 'groups_name_unique')) {
      throw new DirectoryRefused({ rule: 'group_name_taken', message: `another group is already called "${name}"` });
    }
    throw error;
  }
}

/** Replaces a group's members, and bumps the people who joined or left (model/people.ts: memberships). */
async function writeMembers(trx: Knex.Transaction, groupId: string, personIdsBefore: readonly string[], personIds: readonly string[]): Promise<void> {
  await bumpPeople(trx, changedMemberships(personIdsBefore, personIds));
  await trx('group_members').where('group_id', groupId).whereNotIn('person_id', personIds).delete();
  if (personIds.length) await trx('group_members').insert(personIds.map((personId) => ({ group_id: groupId, person_id: personId }))).onConflict(['group_id', 'person_id']).ignore();
}

/** Creates an active group with its members, audited as `group_created`. */
export async function createGroup(db: Knex, input: GroupCreate, actor: string): Promise<GroupDetail> {
  return db.transaction(async (trx) => {
    if (input.members?.length) await takeMembershipTurn(trx);
    const people = await resolvePeople(trx, input);
    const [{ id }] = await refusingTakenName(input.name, () => trx('groups').insert({
      name: input.name,
      description: input.description ?? null,
      email: input.email ?? null,
      manager_id: people.manager?.id ?? null,
    }).returning('id'));
    await writeMembers(trx, id, [], (people.members ?? []).map((m) => m.id));
    const group = (await findGroupDetail(trx, id))!;
    await insertAuditRow(trx, { actor, subjectType: 'group', subjectId: id, action: 'group_created', details: { after: snapshotOf(group) } });
    return group;
  });
}

/**
 * Updates the fields given if `expectedVersions` holds the group's current version, as
 * updatePerson does; `members` replaces the members (and bumps the people who joined or left). A
 * deactivated group keeps its members.
 */
export async function updateGroup(
  db: Knex,
  id: string,
  expectedVersions: readonly number[],
  input: GroupUpdate,
  actor: string,
): Promise<{ group: GroupDetail; changed: boolean }> {
  return db.transaction(async (trx) => {
    // The memberships' turn before the group's lock, and the members' after it (model/people.ts: the order of locks).
    if (input.members) await takeMembershipTurn(trx);
    const locked = isUuid(id) ? await trx('groups').where({ id }).forUpdate().first('id', 'version') : undefined;
    if (!locked) throw new DirectoryRefused({ rule: 'not_found', message: `no group ${id}` });
    if (!expectedVersions.includes(locked.version)) {
      throw new DirectoryRefused(staleVersion('group', locked.version));
    }
    const current = (await findGroupDetail(trx, id))!;
    const people = await resolvePeople(trx, input);
    const changed = changedFields(snapshotOf(current), {
      name: input.name,
      description: input.description,
      email: input.email,
      managerEmail: people.manager === undefined ? undefined : people.manager?.email ?? null,
      members: people.members?.map((m) => m.email).sort(),
      active: input.active,
    });
    if (changesNothing(changed)) return { group: current, changed: false };

    const columns: Record<string, unknown> = {};
    for (const field of ['name', 'description', 'email', 'active'] as const) if (field in changed.after) columns[field] = changed.after[field];
    if ('managerEmail' in changed.after) columns.manager_id = people.manager?.id ?? null;
    const written = await refusingTakenName(input.name, () => trx('groups').where({ id, version: locked.version })
      .update({ ...columns, version: trx.raw('version + 1'), updated_at: trx.fn.now() }));
    if (written !== 1) throw new Error(`group ${id} changed under its row lock`);
    if (changed.after.members) await writeMembers(trx, id, current.members.map((m) => m.id), people.members!.map((m) => m.id));

    await insertAuditRow(trx, { actor, subjectType: 'group', subjectId: id, action: 'group_updated', details: changed });
    return { group: (await findGroupDetail(trx, id))!, changed: true };
  });
}
