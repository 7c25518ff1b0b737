/**
 * People and groups as admins maintain them: the input a person or a group is created and updated
 * with (one zod schema each, shared by the JSON API and the web forms), and the rules a change to
 * them must keep: a manager line without cycles, and always one active admin.
 */
import { z } from 'zod';
import { isTimeZone } from './time-zones';

/** What a person may do in assetflow (the CHECKs of person_roles and sso_role_mappings agree: test/process-vocabulary.test.ts). */
export const ROLES = ['requester', 'approver', 'asset_manager', 'process_owner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The roles that see every record of a process or the estate, rather than only their own. */
export const OVERSEERS: readonly Role[] = ['asset_manager', 'process_owner', 'admin'];

/** Who granted a role: an admin (API, web UI, CLI, demo) or single sign-on from the identity provider's group claim. */
export type RoleGrantor = 'admin' | 'sso';

export interface RoleGrant {
  role: Role;
  grantedBy: RoleGrantor;
}

/** One email, one person, whatever its letter case: stored trimmed and lower-cased. */
export const emailAddress = z.string().trim().toLowerCase().max(254).pipe(z.email({ message: 'not an email address' }));

const text = (max: number) => z.string().trim().min(1).max(max);
/** An optional text an update may clear: null, or nothing but spaces, clears it. */
const clearableText = (max: number) => z.string().trim().max(max).nullable().transform((value) => value || null);
const groupName = text(100);
const costCentreCode = z.string().trim().min(1).max(32).describe('cost centre code');
/** An IANA zone this runtime knows, as a person picks it for reading times. */
export const timeZone = z.string().trim().max(64).refine(isTimeZone, 'not a time zone: an IANA name such as Europe/Berlin')
  .describe('the IANA time zone the person reads times in (Europe/Berlin)');

/** Each value once, in the order first given: a role or group named twice is asked for once. */
const distinct = <T extends z.ZodType<string>>(item: T, max: number) => z.array(item).max(max).transform((items) => [...new Set(items)]);
const groupNames = z.array(groupName).max(200)
  .describe('group names (any letter case); on update they replace the memberships');
const roles = distinct(z.enum(ROLES), ROLES.length * 2)
  .describe('on update they replace the roles admins granted; roles from single sign-on stay');

export const personCreate = z.strictObject({
  email: emailAddress,
  name: text(200),
  title: text(200).optional(),
  location: text(200).optional(),
  managerEmail: emailAddress.optional().describe('the email of the person this one reports to'),
  costCentre: costCentreCode.optional(),
  timeZone: timeZone.optional().describe('the IANA time zone the person reads times in; without it, the organisation\'s'),
  groups: groupNames.optional(),
  roles: roles.optional(),
});
export type PersonCreate = z.output<typeof personCreate>;

/**
 * Any of the fields of a new person; null clears the optional ones. Whether a person is active is
 * not among them: deactivating has consequences of its own (POST /people/:id/deactivate).
 */
export const personUpdate = z.strictObject({
  email: emailAddress.optional(),
  name: text(200).optional(),
  title: clearableText(200).optional(),
  location: clearableText(200).optional(),
  managerEmail: emailAddress.nullable().optional().describe('null: reports to nobody'),
  costCentre: costCentreCode.nullable().optional().describe('null: no cost centre'),
  timeZone: timeZone.nullable().optional().describe('null: the organisation\'s time zone'),
  groups: groupNames.optional(),
  roles: roles.optional(),
});
export type PersonUpdate = z.output<typeof personUpdate>;

export const groupCreate = z.strictObject({
  name: groupName,
  description: text(2000).optional(),
  email: emailAddress.optional().describe('the group\'s shared mailbox'),
  managerEmail: emailAddress.optional(),
  members: z.array(emailAddress).max(1000).optional().describe('members\' emails'),
});
export type GroupCreate = z.output<typeof groupCreate>;

/** Any field of a new group (null clears the optional ones), and whether it is active: an inactive group keeps its members, but approval rules pointing at it find nobody. */
export const groupUpdate = z.strictObject({
  name: groupName.optional(),
  description: clearableText(2000).optional(),
  email: emailAddress.nullable().optional(),
  managerEmail: emailAddress.nullable().optional(),
  members: z.array(emailAddress).max(1000).optional().describe('members\' emails; they replace the members'),
  active: z.boolean().optional(),
});
export type GroupUpdate = z.output<typeof groupUpdate>;

/**
 * The manager line that would close on itself if `personId` reported to `proposedManagerId`:
 * the people from the proposed manager up to `personId` again, or null when the line stays open.
 * `managerOf` needs the line above the proposed manager only (id to manager id); a line already
 * broken by a cycle elsewhere ends where it repeats.
 */
export function managerCycle(personId: string, proposedManagerId: string | null, managerOf: Readonly<Record<string, string | null | undefined>>): string[] | null {
  const line: string[] = [];
  const seen = new Set<string>();
  for (let current = proposedManagerId; current && !seen.has(current); current = managerOf[current] ?? null) {
    line.push(current);
    if (current === personId) return line;
    seen.add(current);
  }
  return null;
}

/**
 * Whether a change to a person's roles takes admin from the last active admin: nobody could then
 * maintain people, roles or keys. `otherActiveAdmins` counts the active admins besides this person.
 */
export function takesLastAdmin(person: { active: boolean; rolesBefore: readonly string[]; rolesAfter: readonly string[] }, otherActiveAdmins: number): boolean {
  return person.active && person.rolesBefore.includes('admin') && !person.rolesAfter.includes('admin') && otherActiveAdmins === 0;
}

/**
 * The roles a person holds after an admin gives them `given`: the roles single sign-on granted stay
 * (it replaces them at the next sign-in), the admin's grants are replaced, and a role the admin
 * gives that single sign-on had granted becomes the admin's (so the next sign-in keeps it).
 */
export function rolesAfterAdminGrant(current: readonly RoleGrant[], given: readonly Role[]): RoleGrant[] {
  const byRole = new Map<Role, RoleGrant>();
  for (const grant of current) if (grant.grantedBy === 'sso') byRole.set(grant.role, grant);
  for (const role of given) byRole.set(role, { role, grantedBy: 'admin' });
  return sortedGrants([...byRole.values()]);
}

export const sortedGrants = (grants: readonly RoleGrant[]): RoleGrant[] =>
  [...grants].sort((a, b) => a.role.localeCompare(b.role) || a.grantedBy.localeCompare(b.grantedBy));

type Value = string | number | boolean | null | readonly unknown[] | Readonly<Record<string, unknown>>;

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields an update changes, as the audit log records them: each changed field's value before
 * and after. Both snapshots must hold comparable values (lists sorted). Empty when nothing changes.
 */
export function changedFields<T extends Record<string, Value>>(before: T, after: Partial<T>): { before: Partial<T>; after: Partial<T> } {
  const changed = { before: {} as Partial<T>, after: {} as Partial<T> };
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (after[key] === undefined || sameValue(before[key], after[key])) continue;
    changed.before[key] = before[key];
    changed.after[key] = after[key];
  }
  return changed;
}

export const changesNothing = (changed: { after: object }) => Object.keys(changed.after).length === 0;

/** The ids on the other side of a membership that a replacement changes: those left, then those joined, each once. */
export function changedMemberships(before: readonly string[], after: readonly string[]): string[] {
  const kept = new Set(after);
  const had = new Set(before);
  return [...new Set([...before.filter((id) => !kept.has(id)), ...after.filter((id) => !had.has(id))])];
}

/**
 * Why a write to a person or a group, or a person's deactivation or reactivation, is refused; the
 * API answers each with its status (api/errors.ts directoryRefused).
 */
export type DirectoryRefusal =
  | { rule: 'not_found'; message: string }
  | { rule: 'cannot_deactivate_self'; message: string }
  | { rule: 'email_taken'; message: string }
  | { rule: 'group_name_taken'; message: string }
  | { rule: 'version_mismatch'; message: string; currentVersion: number }
  | { rule: 'last_admin'; message: string }
  | { rule: 'invalid_reference'; message: string; problems: { path: string; message: string }[] };

/** Thrown by the model's writes when a rule refuses them; the transaction rolls back, so nothing is written. */
/** The refusal of a write based on a version of a person or group that is no longer the current one. */
export function staleVersion(what: 'person' | 'group', currentVersion: number): DirectoryRefusal {
  const [it, them] = what === 'person' ? ['this person', 'them'] : ['this group', 'it'];
  return {
    rule: 'version_mismatch',
    currentVersion,
    message: `${it} was changed since you read ${them}: the current version is ${currentVersion}; read ${them} again and repeat your change`,
  };
}

export class DirectoryRefused extends Error {
  constructor(readonly refusal: DirectoryRefusal) {
    super(refusal.message);
    this.name = 'DirectoryRefused';
  }
}
