/**
 * Inventory feeds (issue 16): batches uploaded by a named source, the list of them, a previewed dry
 * run applied, and the identification rules, reconciliation rules and sources, edited as data with
 * the version read (If-Match). A batch's detail, progress and row report are /imports/:id and
 * /imports/:id/rows. A CI's provenance and sightings, and a person's word that a discovered CI is
 * real and right.
 */
import type { Response } from 'express';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import {
  discoverableClass,
  identificationRulesInput,
  inventorySourceInput,
  inventorySourceName,
  reconciliationAttribute,
  reconciliationRuleInput,
} from '../../domain/inventory-intake';
import { IMPORT_FORMATS, ON_INVALID_ROWS } from '../../domain/master-data';
import { listImports } from '../../model/imports';
import { masterDataKind } from '../../model/master-data';
import { discoveryStateOf, provenanceOf, sightingsOf } from '../../model/reconciliation/provenance';
import {
  findInventorySource,
  findReconciliationRule,
  identificationRulesOf,
  listIdentificationRules,
  listInventorySources,
  listReconciliationRules,
  removeReconciliationRule,
  saveIdentificationRules,
  saveReconciliationRule,
  updateInventorySource,
} from '../../model/reconciliation/rule-settings';
import { markCiVerified } from '../../model/reconciliation/verification';
import { OVERSEERS } from '../auth';
import type { AppDeps } from '../app';
import { expectedVersions, setETag } from '../concurrency';
import { notFound } from '../errors';
import { MAX_IMPORT_BYTES } from '../imports';
import { INVENTORY_READERS, INVENTORY_SENDERS, applyPreviewedBatch, receiveInventoryBatch, type ReceivedBatch } from '../inventory-intake';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { IMPORT_STATES, uploadedFile } from './imports';
import { ifMatchVersions, settingRefusalAnswer } from './process-settings';

/** Who changes the rules and the sources: those who answer for the inventory. */
export const INVENTORY_RULE_WRITERS: readonly Role[] = ['asset_manager', 'admin'];

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const idParams = z.object({ id: z.uuid().describe('batch (import) id') });
const classParams = z.object({ ciClass: discoverableClass });
const attributeParams = z.object({ attribute: reconciliationAttribute });
const sourceParams = z.object({ name: inventorySourceName });
const ciParams = z.object({ ref: z.string().trim().min(1).max(200).describe('the CI\'s number (CI…) or id') });

const VERSIONED_WRITE = {
  400: 'bad input (details name each field and why, and the values allowed)',
  401: 'no or bad API key',
  403: 'not an asset manager or admin',
  412: 'If-Match is not the current version (details: currentVersion); nothing was written',
  428: 'no If-Match',
};

async function settled<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw settingRefusalAnswer(error) ?? error;
  }
}

export function registerInventoryRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db } = deps;
  const tag = 'inventory';

  /** 202 for a batch just received (its workflow runs), 200 for one received before; Location names it either way. */
  const answerBatch = (res: Response, batch: ReceivedBatch) => {
    res.status(batch.replayed ? 200 : 202).location(`/imports/${batch.id}`);
    return batch;
  };

  routes.add(
    {
      method: 'post', path: '/inventory/batches', tag, access: INVENTORY_SENDERS,
      summary: `Send an inventory batch from a source (the body: CSV with a header of inventory columns, or JSON lines; gzip welcome), up to ${MAX_IMPORT_BYTES / 1024 / 1024} MiB. `
        + 'Each row is identified by its class\'s rules and reconciled attribute by attribute; a dry run reports what it would do and writes nothing. '
        + 'A batch key names the batch: sending the same key again answers the batch it named and stages nothing',
      query: z.object({
        source: inventorySourceName.describe('the feed that saw what the file reports'),
        format: z.enum(IMPORT_FORMATS).optional().describe('csv or jsonl; from the Content-Type when left out'),
        dryRun: flag.default(false).describe('true: only check and report, write nothing'),
        onInvalidRows: z.enum(ON_INVALID_ROWS).default('skip_rows').describe('skip_rows (the default): the good rows are applied; reject_file: a bad row writes nothing'),
        batchKey: z.string().optional().describe('the sender\'s name for the batch (a scan id, a file name), up to 255 characters'),
        observedAt: z.iso.datetime({ offset: true, message: 'not an ISO instant with an offset (2026-11-29T08:00:00Z)' }).optional()
          .describe('when the source saw it; now when left out; from a year ago to a few minutes ahead'),
        fileName: z.string().trim().min(1).max(255).optional().describe('the name of the file, for the list of batches'),
      }),
      responses: {
        200: 'the batch the batch key names, received before (replayed: true); nothing was staged',
        202: 'the batch, staged and started (Location: /imports/:id)',
        400: 'bad parameters (an unknown source, an observation time out of bounds), a header with an unknown column, without ciClass or without an identifier column (details name the columns), an empty or unreadable file',
        401: 'no or bad API key',
        403: 'not an asset manager or admin, or a source only admins send as (manual, hr)',
        413: 'the file is too large (bytes or rows): nothing was kept',
        415: 'the body is not CSV or JSON lines',
        503: 'the workflow service is down: the batch is recorded as failed and nothing of it is written',
        504: 'the workflow service did not answer in time and the batch\'s workflow is not known to run: the batch is recorded as failed',
      },
    },
    async ({ query, principal, req, res }) => {
      const { format, file } = uploadedFile(req, query.format);
      const batch = await receiveInventoryBatch(deps, {
        source: query.source, format, dryRun: query.dryRun, onInvalidRows: query.onInvalidRows, batchKey: query.batchKey ?? null,
        observedAt: query.observedAt ?? null, fileName: query.fileName ?? null, requestedBy: principal, file,
      });
      return answerBatch(res, batch);
    },
  );

  routes.add(
    {
      method: 'get', path: '/inventory/batches', tag, access: INVENTORY_READERS,
      summary: 'Inventory batches, newest first, with their progress and counts; a batch\'s rows are /imports/:id/rows',
      query: pageQuery.extend({
        source: inventorySourceName.optional(),
        state: z.enum(IMPORT_STATES).optional(),
      }),
      responses: { 200: 'a page of batches', 400: 'bad filter', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async ({ query }) => listImports(db, { kind: 'inventory', source: query.source, state: query.state }, query),
  );

  routes.add(
    {
      method: 'post', path: '/inventory/batches/:id/apply', tag, access: INVENTORY_SENDERS,
      summary: 'Apply a previewed dry run: the same rows become a real batch (same source, observation time and batch key) and run. '
        + 'Applied once: again, it answers the batch it became',
      params: idParams,
      responses: {
        200: 'the batch it became before (replayed: true), or the live batch its batch key names',
        202: 'the new batch, started (Location: /imports/:id)',
        400: 'the id is not a uuid', 401: 'no or bad API key', 403: 'not an asset manager or admin, or the batch\'s source is one only admins send as', 404: 'no such inventory batch',
        409: 'not_previewed: not a dry run, or its preview has not finished',
        503: 'the workflow service is down: the new batch is recorded as failed; apply again later',
      },
    },
    async ({ params, principal, res }) => answerBatch(res, await applyPreviewedBatch(deps, params.id, principal)),
  );

  // --- identification rules ------------------------------------------------------------------------

  routes.add(
    {
      method: 'get', path: '/inventory/identification-rules', tag, access: INVENTORY_READERS,
      summary: 'The identification rules of every class a feed may report, each class\'s in priority order with its version',
      responses: { 200: 'the rules by class', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async () => ({ items: await listIdentificationRules(db) }),
  );

  routes.add(
    {
      method: 'get', path: '/inventory/identification-rules/:ciClass', tag, access: INVENTORY_READERS,
      summary: 'A class\'s identification rules in priority order (the first is tried first); ETag is the list\'s version',
      params: classParams,
      responses: { 200: 'the class\'s rules', 400: 'not a class a feed may report', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async ({ params, res }) => {
      const rules = await identificationRulesOf(db, params.ciClass);
      setETag(res, rules.version);
      return rules;
    },
  );

  routes.add(
    {
      method: 'put', path: '/inventory/identification-rules/:ciClass', tag, access: INVENTORY_RULE_WRITERS,
      summary: 'Replace a class\'s identification rules (If-Match: the ETag read): the list in priority order, each a set of identifying attributes matched together; '
        + 'batches checked from now on identify by them',
      params: classParams,
      body: identificationRulesInput,
      responses: { 200: 'the class\'s rules as now', ...VERSIONED_WRITE },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { rules } = await settled(() => saveIdentificationRules(db, params.ciClass, body, versions, principal.email));
      setETag(res, rules.version);
      return rules;
    },
  );

  // --- reconciliation rules ------------------------------------------------------------------------

  routes.add(
    {
      method: 'get', path: '/inventory/reconciliation-rules', tag, access: INVENTORY_READERS,
      summary: 'Which sources may set each attribute, strongest first, and the staleness period after which a weaker one may; * covers the attributes without a rule',
      responses: { 200: 'the rules, * first', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async () => ({ items: await listReconciliationRules(db) }),
  );

  routes.add(
    {
      method: 'get', path: '/inventory/reconciliation-rules/:attribute', tag, access: INVENTORY_READERS,
      summary: 'One attribute\'s reconciliation rule; ETag is its version',
      params: attributeParams,
      responses: { 200: 'the rule', 400: 'not a reconciled attribute (details name those allowed)', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin', 404: 'the attribute has no rule of its own' },
    },
    async ({ params, res }) => {
      const rule = await findReconciliationRule(db, params.attribute);
      if (!rule) throw notFound(`${params.attribute} has no reconciliation rule of its own: the * rule covers it`);
      setETag(res, rule.version);
      return rule;
    },
  );

  routes.add(
    {
      method: 'put', path: '/inventory/reconciliation-rules/:attribute', tag, access: INVENTORY_RULE_WRITERS,
      summary: 'Set an attribute\'s rule: without If-Match it creates one, with it (the ETag read; "0" for none yet) it changes one. Batches checked from now on follow it',
      params: attributeParams,
      body: reconciliationRuleInput,
      responses: { 200: 'the rule as now', 201: 'the rule, created (ETag, Location)', ...VERSIONED_WRITE, 428: 'the attribute has a rule: send its ETag as If-Match to change it' },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = ifMatchVersions(req);
      const { rule, created } = await settled(() => saveReconciliationRule(db, params.attribute, body, versions, principal.email));
      setETag(res, rule.version);
      if (created) res.status(201).location(`/inventory/reconciliation-rules/${encodeURIComponent(rule.attribute)}`);
      return rule;
    },
  );

  routes.add(
    {
      method: 'delete', path: '/inventory/reconciliation-rules/:attribute', tag, access: INVENTORY_RULE_WRITERS,
      summary: 'Remove an attribute\'s rule (If-Match: its ETag): the * rule covers it from now on; the * rule itself stays',
      params: attributeParams,
      responses: { 200: 'the rule as it was', ...VERSIONED_WRITE, 404: 'the attribute has no rule of its own' },
    },
    async ({ params, principal, req }) => {
      const versions = expectedVersions(req);
      return { removed: await settled(() => removeReconciliationRule(db, params.attribute, versions, principal.email)) };
    },
  );

  // --- sources -----------------------------------------------------------------------------------

  routes.add(
    {
      method: 'get', path: '/inventory/sources', tag, access: INVENTORY_READERS,
      summary: 'The sources feeds report as, each with the days after which a record it no longer reports becomes a missing candidate',
      responses: { 200: 'the sources', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async () => ({ items: await listInventorySources(db) }),
  );

  routes.add(
    {
      method: 'get', path: '/inventory/sources/:name', tag, access: INVENTORY_READERS,
      summary: 'One source; ETag is its version',
      params: sourceParams,
      responses: { 200: 'the source', 400: 'not a source (details name those there are)', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin', 404: 'no such source' },
    },
    async ({ params, res }) => {
      const source = await findInventorySource(db, params.name);
      if (!source) throw notFound(`no inventory source ${params.name}`);
      setETag(res, source.version);
      return source;
    },
  );

  routes.add(
    {
      method: 'patch', path: '/inventory/sources/:name', tag, access: INVENTORY_RULE_WRITERS,
      summary: 'Change after how many days unseen (1 to 3650; null: never) a record the source reported becomes a missing candidate (If-Match: its ETag)',
      params: sourceParams,
      body: inventorySourceInput,
      responses: { 200: 'the source as now', ...VERSIONED_WRITE, 404: 'no such source' },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { source } = await settled(() => updateInventorySource(db, params.name, body, versions, principal.email));
      setETag(res, source.version);
      return source;
    },
  );

  // --- a CI's sources ------------------------------------------------------------------------------

  /** The CI a reference names (its number or id, as GET /cis/:ref takes it); 404 otherwise. */
  const ciOf = async (ref: string) => {
    const ci = await masterDataKind('configuration-items').findByRef(db, ref, false);
    if (!ci) throw notFound(`no configuration item ${ref}`);
    return { id: ci.id, number: ci.ref };
  };

  routes.add(
    {
      method: 'get', path: '/cis/:ref/provenance', tag, access: OVERSEERS,
      summary: 'Where a CI\'s data comes from: per attribute of the CI and the asset behind it, the value, the source that set it, when, and when it last confirmed it; '
        + 'and which sources report the CI, since when and until when',
      params: ciParams,
      responses: { 200: 'the provenance and sightings', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin', 404: 'no such CI' },
    },
    async ({ params }) => {
      const ci = await ciOf(params.ref);
      const [discoveryState, attributes, sightings] = await Promise.all([discoveryStateOf(db, ci.id), provenanceOf(db, ci.id), sightingsOf(db, ci.id)]);
      return { ...ci, discoveryState, attributes, sightings };
    },
  );

  routes.add(
    {
      method: 'post', path: '/cis/:ref/verified', tag, access: INVENTORY_SENDERS,
      summary: 'Mark a CI a feed created (discovered) verified: a person has looked at it and says it is real and right. Audited; '
        + 'a CI verified already stays as it is (changed: false)',
      params: ciParams,
      responses: { 200: 'the CI, verified (changed: whether this call verified it)', 401: 'no or bad API key', 403: 'not an asset manager or admin', 404: 'no such CI' },
    },
    async ({ params, principal }) => {
      const ci = await ciOf(params.ref);
      const changed = await markCiVerified(db, ci.id, principal);
      return { ...ci, discoveryState: 'verified', changed };
    },
  );
}
