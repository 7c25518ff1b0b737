import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { stringify } from 'csv-stringify';
import type { Response } from 'express';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { IMPORT_FORMATS, ON_INVALID_ROWS, OUTCOME_OF_VERDICT, type ImportFormat, type ImportState, type MasterDataKindName, type RowOutcome, type RowVerdict } from '../../domain/master-data';
import { findImport, importRowsPage, listImports, refusedRowProblems, type ImportSummary, type RowProblem } from '../../model/imports';
import { MASTER_DATA } from '../../model/master-data';
import { importProgressQuery } from '../../workflows/master-data-import/contract';
import type { AppDeps } from '../app';
import { hasAnyRole, type Principal } from '../auth';
import { HttpError, forbidden, notFound } from '../errors';
import { MAX_IMPORT_BYTES, receiveImport } from '../imports';
import { INVENTORY_READERS } from '../inventory-intake';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { liveStatusWithinDeadline } from '../workflow-calls';

/** Who reads every import: they answer for the data, whoever imported it. */
export const IMPORT_OVERSEERS: readonly Role[] = ['process_owner', 'admin'];

/** Who imports: the writers of any list of master data. */
export const IMPORTERS: readonly Role[] = [...new Set([...MASTER_DATA.values()].flatMap((kind) => kind.writers))];
/** Who reads imports (their own, or every one): the importers and the overseers. */
export const IMPORT_READERS: readonly Role[] = [...new Set([...IMPORTERS, ...IMPORT_OVERSEERS])];

export const IMPORT_STATES = ['receiving', 'checking', 'applying', 'previewed', 'completed', 'refused', 'failed'] as const satisfies readonly ImportState[];
/** The states of an import whose workflow still works on it. */
export const RUNNING_IMPORT_STATES: readonly ImportState[] = ['receiving', 'checking', 'applying'];
const VERDICTS = Object.keys(OUTCOME_OF_VERDICT) as [RowVerdict, ...RowVerdict[]];
const OUTCOMES = Object.values(OUTCOME_OF_VERDICT) as [RowOutcome, ...RowOutcome[]];

/** The body's media types, by format; the format is taken from the Content-Type when the query does not name it. */
const MEDIA_TYPES: Record<ImportFormat, string[]> = {
  csv: ['text/csv', 'application/csv'],
  jsonl: ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'],
};

const idParams = z.object({ id: z.uuid().describe('import id') });
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

const unsupportedFile = (contentType: string | undefined) => new HttpError(415, 'unsupported_media_type',
  `send the file as the body, CSV (Content-Type: text/csv) or JSON lines (application/x-ndjson), not ${contentType ?? 'without a Content-Type'}`);

function mayRead(principal: Principal, summary: ImportSummary): boolean {
  return summary.requestedById === principal.id || hasAnyRole(principal, IMPORT_OVERSEERS)
    || (summary.kind === 'inventory' && hasAnyRole(principal, INVENTORY_READERS));
}

/**
 * The file an upload sends as its body, and its format: the query's, else the Content-Type's (415
 * when neither says); 413 when its Content-Length is past the limit.
 */
export function uploadedFile(req: Readable & { get(name: string): string | undefined; is(types: string[]): string | false | null }, format: ImportFormat | undefined): { format: ImportFormat; file: Readable } {
  const sentAs = (Object.keys(MEDIA_TYPES) as ImportFormat[]).find((candidate) => req.is(MEDIA_TYPES[candidate]));
  const taken = format ?? sentAs;
  if (!taken) throw unsupportedFile(req.get('content-type'));
  if (Number(req.get('content-length') ?? 0) > MAX_IMPORT_BYTES) throw new HttpError(413, 'payload_too_large', `the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB; split it`);
  return { format: taken, file: bodyOf(req) };
}

/** The request body as sent: gzip undone when it says Content-Encoding: gzip (the size limit counts what it unpacks to). */
function bodyOf(req: Readable & { get(name: string): string | undefined }): Readable {
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return req;
  if (encoding !== 'gzip') throw new HttpError(415, 'unsupported_media_type', `Content-Encoding ${encoding} is not taken; send the file as it is or gzip it`);
  const gunzip = createGunzip();
  req.pipe(gunzip);
  req.once('error', (error) => gunzip.destroy(error));
  return gunzip;
}

/** The refused rows of an import as a file: a line per problem (row number, column, value, reason). */
export async function streamReport(res: Response, problems: AsyncIterable<RowProblem>, format: ImportFormat, importId: string): Promise<void> {
  res.status(200);
  res.set('Content-Disposition', `attachment; filename="import-${importId}-refused.${format}"`);
  const cell = (value: unknown) => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
  if (format === 'jsonl') {
    res.type('application/x-ndjson');
    for await (const problem of problems) {
      if (!res.write(`${JSON.stringify({ rowNumber: problem.rowNumber, column: problem.column, value: problem.value ?? null, reason: problem.reason })}\n`)) await once(res, 'drain');
    }
    res.end();
    return;
  }
  res.type('text/csv');
  const csv = stringify({ header: true, columns: ['rowNumber', 'column', 'value', 'reason'] });
  csv.pipe(res);
  for await (const problem of problems) {
    if (!csv.write({ rowNumber: problem.rowNumber, column: problem.column, value: cell(problem.value), reason: problem.reason })) await once(csv, 'drain');
  }
  csv.end();
  await once(res, 'finish');
}

/**
 * Bulk import of master data: POST a CSV or JSON lines file as the body; it is staged and its
 * workflow checks it (a dry run stops there) and applies it. The import's progress, its row report
 * and the refused rows as a file are read by the requester, process owners and admins.
 */
export function registerImportRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const kindNames = [...MASTER_DATA.keys()] as [MasterDataKindName, ...MasterDataKindName[]];
  const tag = 'imports';

  async function readable(principal: Principal, id: string): Promise<ImportSummary> {
    const summary = await findImport(deps.db, id);
    if (!summary) throw notFound(`no import ${id}`);
    if (!mayRead(principal, summary)) throw forbidden('an import is read by whoever sent it, process owners and admins');
    return summary;
  }

  routes.add(
    {
      method: 'post', path: '/imports', tag, access: IMPORTERS,
      summary: `Import a file of master data (the body: CSV with a header row, or JSON lines; gzip welcome), up to ${MAX_IMPORT_BYTES / 1024 / 1024} MiB; `
        + 'rows are matched on their natural key, checked, then written unless it is a dry run or (reject_file) the check refuses a row'
        + '; a row that passes the check but is refused when written (the data changed meanwhile) is left out and the import says so',
      query: z.object({
        kind: z.enum(kindNames).describe('which master data'),
        format: z.enum(IMPORT_FORMATS).optional().describe('csv or jsonl; from the Content-Type when left out'),
        dryRun: flag.default(false).describe('true: only check and report, write nothing'),
        onInvalidRows: z.enum(ON_INVALID_ROWS).default('reject_file').describe('reject_file: a row refused by the check writes nothing; skip_rows: the good rows are written'),
        fileName: z.string().trim().min(1).max(255).optional().describe('the name of the file, for the list of imports'),
      }),
      responses: {
        202: 'the import, staged and started (Location: /imports/:id)',
        400: 'bad parameters, a header with an unknown column or without the key columns (details name the columns), an empty or unreadable file',
        401: 'no or bad API key',
        403: 'not allowed to write this kind',
        413: 'the file is too large (bytes or rows): nothing was kept',
        415: 'the body is not CSV or JSON lines',
        503: 'the workflow service is down: the import is recorded as failed and nothing of it is written',
        504: 'the workflow service did not answer in time and the import\'s workflow is not known to run: the import is recorded as failed and nothing of it is written',
      },
    },
    async ({ query, principal, req, res }) => {
      const kind = MASTER_DATA.get(query.kind)!;
      if (!hasAnyRole(principal, kind.writers)) throw forbidden(`importing ${kind.title.toLowerCase()} needs one of the roles: ${kind.writers.join(', ')}`);
      const { format, file } = uploadedFile(req, query.format);
      const summary = await receiveImport(deps, {
        kind: kind.name, format, dryRun: query.dryRun, onInvalidRows: query.onInvalidRows, fileName: query.fileName ?? null,
        requestedBy: { id: principal.id, email: principal.email }, file,
      });
      res.status(202).location(`/imports/${summary.id}`);
      return summary;
    },
  );

  routes.add(
    {
      method: 'get', path: '/imports', tag, access: IMPORT_READERS,
      summary: 'Imports, newest first: process owners and admins see all, others their own',
      query: pageQuery.extend({
        kind: z.enum([...kindNames, 'inventory']).optional(),
        state: z.enum(IMPORT_STATES).optional(),
      }),
      responses: { 200: 'a page of imports', 400: 'bad filter', 401: 'no or bad API key', 403: 'not one who imports' },
    },
    async ({ query, principal }) => listImports(deps.db, {
      kind: query.kind, state: query.state, requestedById: hasAnyRole(principal, IMPORT_OVERSEERS) ? undefined : principal.id,
    }, query),
  );

  routes.add(
    {
      method: 'get', path: '/imports/:id', tag, access: IMPORT_READERS,
      summary: 'An import and its progress: rows checked and applied, counts by verdict and outcome; while it runs, the live status of its workflow',
      params: idParams,
      responses: { 200: 'the import', 401: 'no or bad API key', 403: 'not its requester, a process owner or an admin (or, for an inventory batch, an asset manager)', 404: 'no such import' },
    },
    async ({ params, principal }) => {
      const summary = await readable(principal, params.id);
      if (!summary.workflowId || !RUNNING_IMPORT_STATES.includes(summary.state)) return summary;
      const handle = deps.temporal.workflow.getHandle(summary.workflowId);
      return { ...summary, ...(await liveStatusWithinDeadline(deps.temporal, () => handle.query(importProgressQuery))) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/imports/:id/rows', tag, access: IMPORT_READERS,
      summary: 'The row report of an import, in file order: each row\'s natural key, verdict, outcome, problems (column, value, reason) and changes',
      params: idParams,
      query: pageQuery.extend({
        verdict: z.enum(VERDICTS).optional(),
        outcome: z.enum(OUTCOMES).optional(),
        problemsOnly: flag.optional().describe('only the rows refused by the check or when applied'),
      }),
      responses: { 200: 'a page of rows', 400: 'bad filter', 401: 'no or bad API key', 403: 'not its requester, a process owner or an admin', 404: 'no such import' },
    },
    async ({ params, query, principal }) => {
      await readable(principal, params.id);
      return importRowsPage(deps.db, params.id, { verdict: query.verdict, outcome: query.outcome, problemsOnly: query.problemsOnly }, query);
    },
  );

  routes.add(
    {
      method: 'get', path: '/imports/:id/report', tag, access: IMPORT_READERS,
      summary: 'Every problem of every refused row, streamed as CSV or JSON lines: rowNumber, column, value, reason (one line per problem)',
      params: idParams,
      query: z.object({ format: z.enum(IMPORT_FORMATS).default('csv') }),
      responses: { 200: 'the file', 400: 'bad format', 401: 'no or bad API key', 403: 'not its requester, a process owner or an admin', 404: 'no such import' },
    },
    async ({ params, query, principal, res }) => {
      await readable(principal, params.id);
      await streamReport(res, refusedRowProblems(deps.db, params.id), query.format, params.id);
    },
  );
}
