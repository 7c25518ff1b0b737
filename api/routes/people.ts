import { z } from 'zod';
import { ROLES, groupCreate, groupUpdate, personCreate, personUpdate } from '../../domain/directory';
import { listPeople } from '../../model/directory';
import { createGroup, findGroupDetail, listGroups, updateGroup } from '../../model/groups';
import { createPerson, findPersonDetail, updatePerson } from '../../model/people';
import type { AppDeps } from '../app';
import { expectedVersions, setETag } from '../concurrency';
import { notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

const idParams = z.object({ id: z.uuid() });
const activeFilter = z.enum(['true', 'false']).optional().transform((value) => (value === undefined ? undefined : value === 'true'))
  .describe('only active (true) or deactivated (false) ones');

/** The answers of a write an admin sends with If-Match. */
const VERSIONED_WRITE = {
  400: 'bad input, an id that is not a uuid, an unknown reference (details name its path)',
  401: 'no or bad API key',
  403: 'not an admin',
  404: 'no such record',
  409: 'a name or email another one has, or a rule refused it',
  412: 'If-Match is not the current version (details: currentVersion); nothing was written',
  428: 'no If-Match',
};

/**
 * People and groups: everyone signed in may read them (requesters look for managers and groups),
 * admins create and update them. Updates need the version read (If-Match), and every write is in
 * the audit log with the admin and the values before and after.
 */
export function registerPeopleRoutes(routes: RouteRegistry, deps: Pick<AppDeps, 'db'>): void {
  const { db } = deps;

  routes.add(
    {
      method: 'get', path: '/people', tag: 'directory', access: 'authenticated',
      summary: 'List people with their manager and roles',
      query: pageQuery.extend({
        q: z.string().trim().min(1).max(100).optional().describe('part of a name or email'),
        role: z.enum(ROLES).optional(),
        active: activeFilter,
        group: z.string().trim().min(1).max(100).optional().describe('members of this group (its id or name)'),
      }),
      responses: { 200: 'a page of people', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => listPeople(db, { q: query.q, role: query.role, active: query.active, group: query.group }, query),
  );

  routes.add(
    {
      method: 'get', path: '/people/:id', tag: 'directory', access: 'authenticated',
      summary: 'One person with their manager, cost centre, roles (and who granted each) and groups; ETag is their version',
      params: idParams,
      responses: { 200: 'the person', 400: 'the id is not a uuid', 401: 'no or bad API key', 404: 'no such person' },
    },
    async ({ params, res }) => {
      const person = await findPersonDetail(db, params.id);
      if (!person) throw notFound(`no person ${params.id}`);
      setETag(res, person.version);
      return person;
    },
  );

  routes.add(
    {
      method: 'post', path: '/people', tag: 'directory', access: ['admin'],
      summary: 'Create a person with their manager, cost centre, groups and roles',
      body: personCreate,
      responses: { 201: 'the person (ETag, Location)', 400: 'bad input, unknown group, manager or cost centre', 401: 'no or bad API key', 403: 'not an admin', 409: 'email_taken' },
    },
    async ({ body, principal, res }) => {
      const person = await createPerson(db, body, principal.email);
      setETag(res, person.version);
      res.status(201).location(`/people/${person.id}`);
      return person;
    },
  );

  routes.add(
    {
      method: 'patch', path: '/people/:id', tag: 'directory', access: ['admin'],
      summary: 'Update a person (If-Match: their ETag): the fields given; groups replace the memberships, roles the roles admins granted',
      params: idParams,
      body: personUpdate,
      responses: { 200: 'the person as now (a new ETag when something changed)', ...VERSIONED_WRITE, 409: 'email_taken, or last_admin: the last active admin keeps admin' },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { person } = await updatePerson(db, params.id, versions, body, principal.email);
      setETag(res, person.version);
      return person;
    },
  );

  routes.add(
    {
      method: 'get', path: '/groups', tag: 'directory', access: 'authenticated',
      summary: 'List groups with their manager and how many members they have',
      query: pageQuery.extend({
        q: z.string().trim().min(1).max(100).optional().describe('part of the name, description or email'),
        active: activeFilter,
      }),
      responses: { 200: 'a page of groups', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => listGroups(db, { q: query.q, active: query.active }, query),
  );

  routes.add(
    {
      method: 'get', path: '/groups/:id', tag: 'directory', access: 'authenticated',
      summary: 'One group with its manager and members; ETag is its version',
      params: idParams,
      responses: { 200: 'the group', 400: 'the id is not a uuid', 401: 'no or bad API key', 404: 'no such group' },
    },
    async ({ params, res }) => {
      const group = await findGroupDetail(db, params.id);
      if (!group) throw notFound(`no group ${params.id}`);
      setETag(res, group.version);
      return group;
    },
  );

  routes.add(
    {
      method: 'post', path: '/groups', tag: 'directory', access: ['admin'],
      summary: 'Create a group with its members',
      body: groupCreate,
      responses: { 201: 'the group (ETag, Location)', 400: 'bad input, unknown member or manager', 401: 'no or bad API key', 403: 'not an admin', 409: 'group_name_taken' },
    },
    async ({ body, principal, res }) => {
      const group = await createGroup(db, body, principal.email);
      setETag(res, group.version);
      res.status(201).location(`/groups/${group.id}`);
      return group;
    },
  );

  routes.add(
    {
      method: 'patch', path: '/groups/:id', tag: 'directory', access: ['admin'],
      summary: 'Update a group (If-Match: its ETag): the fields given; members replace the members; an inactive group is skipped by approval rules',
      params: idParams,
      body: groupUpdate,
      responses: { 200: 'the group as now (a new ETag when something changed)', ...VERSIONED_WRITE, 409: 'group_name_taken' },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { group } = await updateGroup(db, params.id, versions, body, principal.email);
      setETag(res, group.version);
      return group;
    },
  );
}
