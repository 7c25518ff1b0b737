import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { AUDIT_COLUMNS, auditBatches, resolveSubject, searchAudit, type AuditFilters } from '../../model/audit-search';
import type { Database } from '../../platform/database';
import { badRequest } from '../errors';
import type { RouteRegistry } from '../routes-registry';

/** Who reads the audit log: those who answer for the processes, and admins. */
export const AUDIT_READERS: readonly Role[] = ['process_owner', 'admin'];

export const AUDIT_FORMATS = ['csv', 'jsonl'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/**
 * The longest period an export may span unless it is narrowed to one subject or one workflow.
 * Not for memory (an export streams in batches whatever its size) but for time: the log only
 * grows, and an export of all of it would hold a connection and the download for longer every
 * month; an audit asks for a year at a time, and a subject's or a workflow's history, which
 * their indexes serve, is short whatever its period.
 */
export const EXPORT_MAX_DAYS = 366;

const word = z.string().trim().max(60).regex(/^[a-z][a-z0-9_]*$/, 'lower-case words joined by _');
const instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 instant with its offset, e.g. 2026-12-01T00:00:00Z' }).transform((value) => new Date(value));

const filterShape = {
  subjectType: word.optional().describe('e.g. change_request, purchase_request, asset, person, group, cost_centre'),
  subjectId: z.uuid().optional(),
  subject: z.string().trim().min(1).max(254).optional()
    .describe('a business reference instead of the id: a change or purchase number, an asset tag, a person\'s email; with subjectType, a group name or a master data reference (a cost-centre code)'),
  actor: z.string().trim().min(1).max(254).toLowerCase().optional().describe('exactly this actor: a person\'s email or system:<component>'),
  actorContains: z.string().trim().min(1).max(254).optional().describe('part of the actor, any letter case'),
  action: word.optional().describe('e.g. state_changed, updated, retired'),
  from: instant.optional().describe('from this instant, inclusive'),
  to: instant.optional().describe('until this instant, exclusive'),
  workflowId: z.string().trim().min(3).max(200).optional().describe('e.g. change:CHG0001001'),
};

type FilterInput = z.output<z.ZodObject<typeof filterShape>>;

function checkFilters(value: FilterInput, ctx: z.RefinementCtx): void {
  if (value.subjectId && value.subject) ctx.addIssue({ code: 'custom', path: ['subject'], message: 'give subjectId or subject, not both' });
  if (value.from && value.to && value.from >= value.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
}

export const auditSearchQuery = z.object({
  ...filterShape,
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1 to 200'),
  offset: z.coerce.number().int().min(0).max(100_000).default(0).describe('rows to skip'),
  beforeId: z.coerce.number().int().min(1).optional().describe('only rows older than this id: the nextBeforeId of the page before'),
}).superRefine(checkFilters);

export const auditExportQuery = z.object({
  ...filterShape,
  format: z.enum(AUDIT_FORMATS).default('csv'),
}).superRefine(checkFilters);

/** The filters a query names, its subject reference resolved; refused (400) when the reference names nothing. */
export async function auditFiltersOf(db: Database, query: FilterInput): Promise<AuditFilters> {
  const filters: AuditFilters = {
    subjectType: query.subjectType,
    subjectId: query.subjectId,
    actor: query.actor,
    actorContains: query.actorContains,
    action: query.action,
    from: query.from,
    to: query.to,
    workflowId: query.workflowId,
  };
  if (query.subject) {
    const resolved = await resolveSubject(db, query.subject, query.subjectType);
    if ('problem' in resolved) throw badRequest(`subject: ${resolved.problem}`, [{ path: 'subject', message: resolved.problem }]);
    filters.subjectType = resolved.subjectType;
    filters.subjectId = resolved.subjectId;
  }
  return filters;
}

/** Why these filters may not be exported as they are (EXPORT_MAX_DAYS), or undefined. */
export function exportRefusal(filters: AuditFilters): string | undefined {
  if (filters.subjectId || filters.workflowId) return undefined;
  if (!filters.from || !filters.to) return `name a period (from and to) of at most ${EXPORT_MAX_DAYS} days, or one subject or workflow`;
  if (filters.to.getTime() - filters.from.getTime() > EXPORT_MAX_DAYS * 86_400_000) {
    return `split the period: an export spans at most ${EXPORT_MAX_DAYS} days unless it names one subject or workflow`;
  }
  return undefined;
}

/**
 * Streams the matching rows as CSV (details as JSON text) or JSON lines, newest first, a batch at a
 * time with back-pressure. The first batch is read before anything is sent, so that a database
 * that cannot answer is a 503 like anywhere else; a failure after that can only cut the download
 * short, which the client sees as an incomplete transfer.
 */
export async function sendAuditExport(req: Request, res: Response, db: Database, filters: AuditFilters, format: AuditFormat): Promise<void> {
  const batches = auditBatches(db, filters);
  const first = await batches.next();
  async function* entries() {
    if (first.done) return;
    yield* first.value;
    for await (const batch of batches) yield* batch;
  }
  res.status(200).set('Content-Disposition', `attachment; filename="audit.${format}"`);
  try {
    if (format === 'jsonl') {
      res.type('application/x-ndjson');
      await pipeline(Readable.from(entries()), async function* (source: AsyncIterable<unknown>) {
        for await (const entry of source) yield `${JSON.stringify(entry)}\n`;
      }, res);
    } else {
      res.type('text/csv');
      await pipeline(Readable.from(entries()), stringify({ header: true, columns: [...AUDIT_COLUMNS], cast: { object: (value) => JSON.stringify(value) } }), res);
    }
  } catch (error) {
    if (!res.headersSent) throw error;
    req.log.warn({ err: error }, 'audit export cut short');
  }
}

export function registerAuditRoutes(routes: RouteRegistry, db: Database): void {
  routes.add(
    {
      method: 'get', path: '/audit', tag: 'audit', access: AUDIT_READERS,
      summary: 'Search the audit log by subject (an id, or a reference such as CHG0001001 or a cost-centre code), actor, action, period and workflow; newest first',
      query: auditSearchQuery,
      responses: { 200: 'a page of audit rows; page.hasMore and page.nextBeforeId lead to older ones', 400: 'bad filter, or a subject reference that names nothing', 401: 'no or bad API key', 403: 'not a process owner or admin' },
    },
    async ({ query }) => {
      const filters = await auditFiltersOf(db, query);
      const result = await searchAudit(db, filters, query);
      return { ...result, ...(query.subject ? { subject: { subjectType: filters.subjectType, subjectId: filters.subjectId } } : {}) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/audit/export', tag: 'audit', access: AUDIT_READERS,
      summary: `Export the audit rows the filters match as CSV or JSON lines, streamed, newest first; a period of at most ${EXPORT_MAX_DAYS} days unless narrowed to one subject or workflow`,
      query: auditExportQuery,
      responses: { 200: 'the file', 400: 'bad filter, or a period too long to export', 401: 'no or bad API key', 403: 'not a process owner or admin' },
    },
    async ({ query, req, res }) => {
      const filters = await auditFiltersOf(db, query);
      const refusal = exportRefusal(filters);
      if (refusal) throw badRequest(`to export, ${refusal}`, [{ path: 'from', message: refusal }]);
      await sendAuditExport(req, res, db, filters, query.format);
    },
  );
}
