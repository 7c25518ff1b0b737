import { ROLES as STORED_ROLES } from '../migrations/20261127000100_people_groups_roles';
import {
  ROLES,
  changedFields,
  changedMemberships,
  changesNothing,
  groupUpdate,
  managerCycle,
  personCreate,
  personUpdate,
  rolesAfterAdminGrant,
  takesLastAdmin,
} from './directory';

it('names the roles the database accepts (person_roles_role_check)', () => {
  expect([...ROLES]).toEqual([...STORED_ROLES]);
});

describe('the input of a person', () => {
  it('trims and lower-cases the email, and refuses one that is not an address', () => {
    expect(personCreate.parse({ email: '  Ann.Lee@Example.COM ', name: ' Ann Lee ' })).toMatchObject({ email: 'ann.lee@example.com', name: 'Ann Lee' });
    const refused = personCreate.safeParse({ email: 'ann at example', name: 'Ann' });
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['email', 'not an email address']]);
  });

  it('names each role once, and refuses a role that does not exist', () => {
    expect(personCreate.parse({ email: 'a@x.io', name: 'A', roles: ['approver', 'admin', 'approver'] }).roles).toEqual(['approver', 'admin']);
    expect(personCreate.safeParse({ email: 'a@x.io', name: 'A', roles: ['root'] }).error?.issues[0].path).toEqual(['roles', 0]);
  });

  it('refuses fields it does not know, so that "active" is not silently ignored on update', () => {
    expect(personUpdate.safeParse({ active: false }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['active'] });
  });

  it('lets an update clear the manager, the cost centre and texts with null (or an empty text)', () => {
    expect(personUpdate.parse({ managerEmail: null, costCentre: null, title: '  ', location: null })).toEqual({ managerEmail: null, costCentre: null, title: null, location: null });
    expect(personCreate.safeParse({ email: 'a@x.io', name: 'A', managerEmail: null }).success).toBe(false);
  });

  it('lets a group update say whether the group is active', () => {
    expect(groupUpdate.parse({ active: false, members: ['B@X.io'] })).toEqual({ active: false, members: ['b@x.io'] });
  });
});

describe('managerCycle', () => {
  const managerOf = { carl: 'bob', bob: 'ann', ann: null, dan: 'ann' };

  it('finds nothing when the line above the new manager does not reach the person', () => {
    expect(managerCycle('dan', 'carl', managerOf)).toBeNull();
    expect(managerCycle('carl', null, managerOf)).toBeNull();
  });

  it('refuses oneself as manager', () => {
    expect(managerCycle('ann', 'ann', managerOf)).toEqual(['ann']);
  });

  it('names the line that would close: from the new manager up to the person', () => {
    expect(managerCycle('ann', 'carl', managerOf)).toEqual(['carl', 'bob', 'ann']);
    expect(managerCycle('bob', 'carl', managerOf)).toEqual(['carl', 'bob']);
  });

  it('ends on a cycle already in the data instead of looping', () => {
    expect(managerCycle('zoe', 'x', { x: 'y', y: 'x' })).toBeNull();
  });
});

describe('takesLastAdmin', () => {
  const admin = { active: true, rolesBefore: ['admin', 'approver'], rolesAfter: ['approver'] };

  it('refuses taking admin from the last active admin', () => {
    expect(takesLastAdmin(admin, 0)).toBe(true);
  });

  it('allows it when another active admin remains, when admin stays, or for a deactivated person', () => {
    expect(takesLastAdmin(admin, 1)).toBe(false);
    expect(takesLastAdmin({ ...admin, rolesAfter: ['admin'] }, 0)).toBe(false);
    expect(takesLastAdmin({ ...admin, active: false }, 0)).toBe(false);
    expect(takesLastAdmin({ ...admin, rolesBefore: ['approver'] }, 0)).toBe(false);
  });
});

describe('rolesAfterAdminGrant', () => {
  it('replaces the admins\' grants and keeps those of single sign-on', () => {
    const current = [
      { role: 'approver' as const, grantedBy: 'sso' as const },
      { role: 'requester' as const, grantedBy: 'admin' as const },
    ];
    expect(rolesAfterAdminGrant(current, ['asset_manager'])).toEqual([
      { role: 'approver', grantedBy: 'sso' },
      { role: 'asset_manager', grantedBy: 'admin' },
    ]);
  });

  it('makes a role single sign-on granted the admin\'s when the admin gives it too', () => {
    expect(rolesAfterAdminGrant([{ role: 'approver', grantedBy: 'sso' }], ['approver'])).toEqual([{ role: 'approver', grantedBy: 'admin' }]);
  });
});

describe('changedFields', () => {
  const before = { name: 'Ann', title: null as string | null, groups: ['CAB', 'Finance'] };

  it('keeps only the fields given that differ, with their values before and after', () => {
    expect(changedFields(before, { name: 'Ann', title: 'CFO', groups: ['CAB'] })).toEqual({
      before: { title: null, groups: ['CAB', 'Finance'] },
      after: { title: 'CFO', groups: ['CAB'] },
    });
  });

  it('finds nothing when every value given is the same, and ignores fields not given', () => {
    const changed = changedFields(before, { name: 'Ann', groups: ['CAB', 'Finance'], title: undefined });
    expect(changesNothing(changed)).toBe(true);
  });
});

describe('the memberships a replacement changes', () => {
  it('names those left and those joined, not those kept', () => {
    expect(changedMemberships(['a', 'b', 'c'], ['c', 'd', 'a'])).toEqual(['b', 'd']);
  });

  it('names each once, and nothing when the set stays the same', () => {
    expect(changedMemberships(['a', 'a'], ['b', 'b'])).toEqual(['a', 'b']);
    expect(changedMemberships(['a', 'b'], ['b', 'a'])).toEqual([]);
    expect(changedMemberships([], [])).toEqual([]);
  });
});
