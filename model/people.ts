/**
 * People as admins maintain them: one person with their manager, cost centre, groups and roles,
 * and the writes that create and update them. Each write runs in one transaction with its audit
 * row; an update checks the version it was based on and writes with `WHERE version = ?`, so a
 * stale or concurrent update is refused (412) and writes nothing.
 */
import type { Knex } from 'knex';
import {
  DirectoryRefused,
  staleVersion,
  changedFields,
  changedMemberships,
  changesNothing,
  managerCycle,
  rolesAfterAdminGrant,
  sortedGrants,
  takesLastAdmin,
  type PersonCreate,
  type PersonUpdate,
  type Role,
  type RoleGrant,
} from '../domain/directory';
import { isUniqueViolation } from '../platform/database';
import { insertAuditRow } from './audit-rows';
import { isUuid } from './keys';

export interface PersonDetail {
  id: string;
  email: string;
  name: string;
  title: string | null;
  location: string | null;
  active: boolean;
  version: number;
  manager: { id: string; name: string; email: string } | null;
  costCentre: { code: string; name: string } | null;
  /** The IANA zone they read times in; null: the organisation's. */
  timeZone: string | null;
  roles: Role[];
  roleGrants: RoleGrant[];
  groups: { id: string; name: string }[];
  createdAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
}

interface PersonRow {
  id: string;
  email: string;
  name: string;
  title: string | null;
  location: string | null;
  active: boolean;
  version: number;
  manager: PersonDetail['manager'];
  cost_centre: PersonDetail['costCentre'];
  time_zone: string | null;
  role_grants: RoleGrant[];
  groups: PersonDetail['groups'];
  created_at: Date;
  updated_at: Date;
  deactivated_at: Date | null;
}

const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);

/** One person with their manager, cost centre, roles (and who granted each) and groups; undefined for nobody. */
export async function findPersonDetail(db: Knex, id: string): Promise<PersonDetail | undefined> {
  if (!isUuid(id)) return undefined;
  const row: PersonRow | undefined = await db('people as p')
    .leftJoin('people as m', 'm.id', 'p.manager_id')
    .leftJoin('cost_centres as cc', 'cc.id', 'p.cost_centre_id')
    .where('p.id', id)
    .first(
      'p.id', 'p.email', 'p.name', 'p.title', 'p.location', 'p.time_zone', 'p.active', 'p.version', 'p.created_at', 'p.updated_at', 'p.deactivated_at',
      db.raw(`CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('id', m.id, 'name', m.name, 'email', m.email) END AS manager`),
      db.raw(`CASE WHEN cc.id IS NULL THEN NULL ELSE json_build_object('code', cc.code, 'name', cc.name) END AS cost_centre`),
      db.raw(`COALESCE((SELECT json_agg(json_build_object('role', r.role, 'grantedBy', r.granted_by) ORDER BY r.role)
                          FROM person_roles r WHERE r.person_id = p.id), '[]') AS role_grants`),
      db.raw(`COALESCE((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name, g.id)
                          FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.person_id = p.id), '[]') AS groups`),
    );
  if (!row) return undefined;
  const roleGrants = sortedGrants(row.role_grants);
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    title: row.title,
    location: row.location,
    active: row.active,
    version: row.version,
    manager: row.manager,
    costCentre: row.cost_centre,
    timeZone: row.time_zone,
    roles: roleGrants.map((g) => g.role),
    roleGrants,
    groups: row.groups,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    deactivatedAt: iso(row.deactivated_at),
  };
}

/**
 * The time zone the person with this email reads times in, in any letter case; null for an address
 * that is no person's (a shared mailbox, a vendor) or a person without a zone of their own.
 */
export async function timeZoneOfAddress(db: Knex, email: string): Promise<string | null> {
  const row = await db('people').whereRaw('lower(email) = ?', [email.toLowerCase()]).first('time_zone');
  return row?.time_zone ?? null;
}

/** A person as the audit log records them: names and emails rather than ids, lists sorted, so that two snapshots compare. */
interface PersonSnapshot {
  [field: string]: string | null | string[] | RoleGrant[];
  email: string;
  name: string;
  title: string | null;
  location: string | null;
  managerEmail: string | null;
  costCentre: string | null;
  timeZone: string | null;
  groups: string[];
  roleGrants: RoleGrant[];
}

const sortedNames = (names: string[]) => [...names].sort((a, b) => a.localeCompare(b));

function snapshotOf(person: PersonDetail): PersonSnapshot {
  return {
    email: person.email,
    name: person.name,
    title: person.title,
    location: person.location,
    managerEmail: person.manager?.email ?? null,
    costCentre: person.costCentre?.code ?? null,
    timeZone: person.timeZone,
    groups: sortedNames(person.groups.map((g) => g.name)),
    roleGrants: person.roleGrants,
  };
}

/** Refuses a write that gave a person an email another person has, in any letter case (the unique index decides, so two racing writes cannot both win). */
async function refusingTakenEmail<T>(email: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, 'people_email_lower_unique', 'people_email_unique')) {
      throw new DirectoryRefused({ rule: 'email_taken', message: `another person already has the email ${email}` });
    }
    throw error;
  }
}

export type Problems = { path: string; message: string }[];

export function refuseProblems(problems: Problems): void {
  if (problems.length) {
    throw new DirectoryRefused({ rule: 'invalid_reference', message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems });
  }
}

/** People found by email, in any letter case: lower-cased email to person. */
export async function peopleByEmail(db: Knex, emails: readonly string[]): Promise<Map<string, { id: string; email: string; name: string; active: boolean }>> {
  if (!emails.length) return new Map();
  const rows = await db('people').whereRaw('lower(email) = ANY(?)', [emails.map((e) => e.toLowerCase())]).select('id', 'email', 'name', 'active');
  return new Map(rows.map((r) => [r.email.toLowerCase(), r]));
}

/** Groups found by name, in any letter case: lower-cased name to group. */
async function groupsByName(db: Knex, names: readonly string[]): Promise<Map<string, { id: string; name: string }>> {
  if (!names.length) return new Map();
  const rows = await db('groups').whereRaw('lower(name) = ANY(?)', [names.map((n) => n.toLowerCase())]).select('id', 'name');
  return new Map(rows.map((r) => [r.name.toLowerCase(), r]));
}

interface ResolvedReferences {
  manager?: { id: string; email: string } | null;
  costCentre?: { id: string; code: string } | null;
  groups?: { id: string; name: string }[];
}

/**
 * The ids a person's input names by email, code and name; every unknown one is a problem at its
 * path (`groups.1`). A new manager must be active: a deactivated one escalates to nobody.
 */
async function resolveReferences(
  trx: Knex.Transaction,
  input: { managerEmail?: string | null; costCentre?: string | null; groups?: string[] },
  currentManagerId: string | null,
): Promise<ResolvedReferences> {
  const problems: Problems = [];
  const resolved: ResolvedReferences = {};
  if (input.managerEmail !== undefined) {
    const manager = input.managerEmail === null ? undefined : (await peopleByEmail(trx, [input.managerEmail])).get(input.managerEmail);
    if (input.managerEmail === null) resolved.manager = null;
    else if (!manager) problems.push({ path: 'managerEmail', message: `no person with the email ${input.managerEmail}` });
    else if (!manager.active && manager.id !== currentManagerId) problems.push({ path: 'managerEmail', message: `${manager.name} is deactivated` });
    else resolved.manager = { id: manager.id, email: manager.email };
  }
  if (input.costCentre !== undefined) {
    const costCentre = input.costCentre === null ? undefined : await trx('cost_centres').where({ code: input.costCentre }).first('id', 'code');
    if (input.costCentre === null) resolved.costCentre = null;
    else if (!costCentre) problems.push({ path: 'costCentre', message: `no cost centre ${input.costCentre}` });
    else resolved.costCentre = costCentre;
  }
  if (input.groups !== undefined) {
    const found = await groupsByName(trx, input.groups);
    const groups = new Map<string, { id: string; name: string }>();
    input.groups.forEach((name, i) => {
      const group = found.get(name.toLowerCase());
      if (group) groups.set(group.id, group);
      else problems.push({ path: `groups.${i}`, message: `no group "${name}"` });
    });
    resolved.groups = [...groups.values()];
  }
  refuseProblems(problems);
  return resolved;
}

/**
 * Refuses a manager that would close the manager line on itself (oneself, or someone who reports
 * to this person). Changes of the line are taken one at a time, so two updates that each look
 * fine alone (A under B, B under A) cannot both pass.
 */
async function refuseManagerCycle(trx: Knex.Transaction, person: { id: string; name: string }, managerId: string): Promise<void> {
  await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('assetflow:manager-line'))`);
  const line: { id: string; manager_id: string | null; name: string }[] = (await trx.raw(
    `WITH RECURSIVE line(id, manager_id, name, depth) AS (
       SELECT id, manager_id, name, 1 FROM people WHERE id = ?
       UNION
       SELECT p.id, p.manager_id, p.name, line.depth + 1 FROM people p JOIN line ON p.id = line.manager_id WHERE line.depth < 1000
     )
     SELECT DISTINCT ON (id) id, manager_id, name FROM line`,
    [managerId],
  )).rows;
  const managerOf = Object.fromEntries(line.map((p) => [p.id, p.manager_id]));
  const cycle = managerCycle(person.id, managerId, managerOf);
  if (!cycle) return;
  const names = Object.fromEntries(line.map((p) => [p.id, p.name]));
  const message = cycle.length === 1
    ? 'a person cannot be their own manager'
    : `${person.name} cannot report to ${names[managerId]}: ${cycle.map((personId) => names[personId]).join(', who reports to ')}`;
  refuseProblems([{ path: 'managerEmail', message }]);
}

const activeAdminsQuery = (db: Knex) => db('person_roles as r').join('people as p', 'p.id', 'r.person_id')
  .where({ 'r.role': 'admin', 'p.active': true }).orderBy('r.person_id').select('r.person_id');

/** Whether an active person holds the admin role: without one, nobody can manage people or keys. */
export async function hasActiveAdmin(db: Knex): Promise<boolean> {
  return Boolean(await activeAdminsQuery(db).first());
}

/** The active admins' ids as they are now, read without a lock (for a check that is repeated under lockActiveAdmins). */
export async function activeAdmins(db: Knex): Promise<string[]> {
  return (await activeAdminsQuery(db)).map((r) => r.person_id);
}

/**
 * The active admins, locked until the transaction ends: a write that takes admin from someone (or
 * deactivates an admin) takes this lock first, so two such writes cannot each leave the other
 * as the last admin and then both succeed.
 */
export async function lockActiveAdmins(trx: Knex.Transaction): Promise<string[]> {
  // Both rows locked: a concurrent deactivation (people) or role change (person_roles) makes this wait, and the
  // re-check after the wait sees its result, so two admins cannot each remove the other. NO KEY UPDATE, not
  // UPDATE: the rows that refer to an admin (their sessions, keys, approvals) take KEY SHARE and need not wait.
  return (await activeAdminsQuery(trx).forNoKeyUpdate('r', 'p')).map((r) => r.person_id);
}

/*
 * Every write to people and groups takes its locks in one order, so that no two of them can wait
 * on each other in a circle (a deadlock): the memberships' turn, groups (by id), the active admins (by id), other people (by
 * id), the manager line. Deactivation (model/person-deactivation.ts) takes the admins, then the
 * person.
 *
 * A membership belongs to both sides: a person's version covers their groups and a group's
 * version its members. A write that changes memberships therefore bumps the version of every
 * group (or person) on the other side whose memberships it changed, so that an If-Match read
 * before is stale. Such writes take turns before any row lock, so that the memberships they read
 * (to know what to lock) cannot change before they write.
 */

/** Waits for the other writes that change memberships to end; the turn lasts until the transaction ends. */
export async function takeMembershipTurn(trx: Knex.Transaction): Promise<void> {
  await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('assetflow:memberships'))`);
}

/** Bumps the version of groups whose members changed, locking them in id order. */
async function bumpGroups(trx: Knex.Transaction, groupIds: readonly string[]): Promise<void> {
  if (!groupIds.length) return;
  await trx('groups').whereIn('id', groupIds).orderBy('id').forNoKeyUpdate().select('id');
  await trx('groups').whereIn('id', groupIds).update({ version: trx.raw('version + 1'), updated_at: trx.fn.now() });
}

/** Bumps the version of people whose groups changed, locking them in the order above: active admins first, each by id. */
export async function bumpPeople(trx: Knex.Transaction, personIds: readonly string[]): Promise<void> {
  if (!personIds.length) return;
  await trx('people as p').whereIn('p.id', personIds)
    .orderByRaw(`(p.active AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.role = 'admin')) DESC, p.id`)
    .forNoKeyUpdate().select('p.id');
  await trx('people').whereIn('id', personIds).update({ version: trx.raw('version + 1'), updated_at: trx.fn.now() });
}

/** Replaces a person's memberships, and bumps the groups they joined or left. */
async function writeMemberships(trx: Knex.Transaction, personId: string, groupIdsBefore: readonly string[], groupIds: readonly string[]): Promise<void> {
  await bumpGroups(trx, changedMemberships(groupIdsBefore, groupIds));
  await trx('group_members').where('person_id', personId).whereNotIn('group_id', groupIds).delete();
  if (groupIds.length) await trx('group_members').insert(groupIds.map((groupId) => ({ group_id: groupId, person_id: personId }))).onConflict(['group_id', 'person_id']).ignore();
}

async function writeRoles(trx: Knex.Transaction, personId: string, grants: RoleGrant[]): Promise<void> {
  await trx('person_roles').where('person_id', personId).whereNotIn('role', grants.map((g) => g.role)).delete();
  if (grants.length) {
    await trx('person_roles').insert(grants.map((g) => ({ person_id: personId, role: g.role, granted_by: g.grantedBy })))
      .onConflict(['person_id', 'role']).merge(['granted_by']);
  }
}

/** Creates a person with their manager, cost centre, groups and roles (granted by an admin), audited as `person_created`. */
export async function createPerson(db: Knex, input: PersonCreate, actor: string): Promise<PersonDetail> {
  return db.transaction(async (trx) => {
    if (input.groups?.length) await takeMembershipTurn(trx);
    const refs = await resolveReferences(trx, input, null);
    const [{ id }] = await refusingTakenEmail(input.email, () => trx('people').insert({
      email: input.email,
      name: input.name,
      title: input.title ?? null,
      location: input.location ?? null,
      manager_id: refs.manager?.id ?? null,
      cost_centre_id: refs.costCentre?.id ?? null,
      time_zone: input.timeZone ?? null,
    }).returning('id'));
    await writeMemberships(trx, id, [], (refs.groups ?? []).map((g) => g.id));
    await writeRoles(trx, id, rolesAfterAdminGrant([], input.roles ?? []));
    const person = (await findPersonDetail(trx, id))!;
    await insertAuditRow(trx, { actor, subjectType: 'person', subjectId: id, action: 'person_created', details: { after: snapshotOf(person) } });
    return person;
  });
}

/**
 * Updates the fields given, if `expectedVersions` holds the person's current version (If-Match):
 * the version check and the write are one transaction, the row locked between them and written
 * `WHERE version = ?`. An update that changes nothing answers the person as they are, with no new
 * version and no audit row. `groups` replaces the memberships (and bumps the groups joined or
 * left); `roles` the roles admins granted.
 */
export async function updatePerson(
  db: Knex,
  id: string,
  expectedVersions: readonly number[],
  input: PersonUpdate,
  actor: string,
): Promise<{ person: PersonDetail; changed: boolean }> {
  return db.transaction(async (trx) => {
    if (!isUuid(id)) throw new DirectoryRefused({ rule: 'not_found', message: `no person ${id}` });
    // Locks in the order every write to people and groups takes them (above): the groups the person is in or is
    // given, then the admins (as deactivation takes them), then the person.
    if (input.groups) {
      await takeMembershipTurn(trx);
      await trx('groups')
        .where((w) => w.whereIn('id', trx('group_members').where('person_id', id).select('group_id'))
          .orWhereRaw('lower(name) = ANY(?)', [input.groups!.map((name) => name.toLowerCase())]))
        .orderBy('id').forNoKeyUpdate().select('id');
    }
    const admins = input.roles ? await lockActiveAdmins(trx) : [];
    const locked = await trx('people').where({ id }).forUpdate().first('id', 'version', 'manager_id');
    if (!locked) throw new DirectoryRefused({ rule: 'not_found', message: `no person ${id}` });
    if (!expectedVersions.includes(locked.version)) {
      throw new DirectoryRefused(staleVersion('person', locked.version));
    }
    const current = (await findPersonDetail(trx, id))!;
    const refs = await resolveReferences(trx, input, locked.manager_id);
    const before = snapshotOf(current);
    const changed = changedFields(before, {
      email: input.email,
      name: input.name,
      title: input.title,
      location: input.location,
      managerEmail: refs.manager === undefined ? undefined : refs.manager?.email ?? null,
      costCentre: refs.costCentre === undefined ? undefined : refs.costCentre?.code ?? null,
      timeZone: input.timeZone,
      groups: refs.groups && sortedNames(refs.groups.map((g) => g.name)),
      roleGrants: input.roles && rolesAfterAdminGrant(current.roleGrants, input.roles),
    });
    if (changesNothing(changed)) return { person: current, changed: false };

    if (changed.after.managerEmail) await refuseManagerCycle(trx, current, refs.manager!.id);
    if (changed.after.roleGrants) {
      const rolesAfter = changed.after.roleGrants.map((g) => g.role);
      const others = admins.filter((adminId) => adminId !== id).length;
      if (takesLastAdmin({ active: current.active, rolesBefore: current.roles, rolesAfter }, others)) {
        throw new DirectoryRefused({ rule: 'last_admin', message: `${current.name} is the last active admin: make someone else admin first` });
      }
    }

    const columns: Record<string, unknown> = {};
    if ('email' in changed.after) columns.email = changed.after.email;
    if ('name' in changed.after) columns.name = changed.after.name;
    if ('title' in changed.after) columns.title = changed.after.title;
    if ('location' in changed.after) columns.location = changed.after.location;
    if ('managerEmail' in changed.after) columns.manager_id = refs.manager?.id ?? null;
    if ('costCentre' in changed.after) columns.cost_centre_id = refs.costCentre?.id ?? null;
    if ('timeZone' in changed.after) columns.time_zone = changed.after.timeZone;
    const written = await refusingTakenEmail(input.email, () => trx('people').where({ id, version: locked.version })
      .update({ ...columns, version: trx.raw('version + 1'), updated_at: trx.fn.now() }));
    if (written !== 1) throw new Error(`person ${id} changed under its row lock`);
    if (changed.after.groups) await writeMemberships(trx, id, current.groups.map((g) => g.id), refs.groups!.map((g) => g.id));
    if (changed.after.roleGrants) await writeRoles(trx, id, changed.after.roleGrants);

    await insertAuditRow(trx, { actor, subjectType: 'person', subjectId: id, action: 'person_updated', details: changed });
    return { person: (await findPersonDetail(trx, id))!, changed: true };
  });
}
