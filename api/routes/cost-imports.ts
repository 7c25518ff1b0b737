import { once } from 'node:events';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { stringify } from 'csv-stringify';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { costImportRefusals, costImportRefusalsPage, findCostImport, listCostImports, type CostImportSummary } from '../../model/cost-imports';
import { costImportProgressQuery, type CostImportState } from '../../workflows/cost-import/contract';
import type { AppDeps } from '../app';
import { OVERSEERS } from '../auth';
import { COST_IMPORT_MAX_BYTES, receiveCostImport, type ReceivedCostImport } from '../cost-import-intake';
import { HttpError, badRequest, notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { liveStatusWithinDeadline } from '../workflow-calls';

/** Who sends cloud bills and reads their imports: asset managers, process owners and admins. */
export const COST_IMPORTERS = OVERSEERS;

/** The states of an import its workflow still works on: its live progress is asked for. */
export const RUNNING_COST_IMPORT_STATES: readonly CostImportState[] = ['staged', 'applying'];

/** The body's media types taken: the file as it is (its format is read from its first bytes), or a form with the part `file`. */
const FILE_TYPES = ['text/csv', 'application/csv', 'application/gzip', 'application/x-gzip', 'application/octet-stream', 'application/vnd.apache.parquet'];

const numberParams = z.object({ number: z.string().trim().min(1).max(20).describe('the import number, CIM…') });

/** The file of a multipart form: its part named `file` (the fields before it are not wanted). */
function multipartFile(req: Request): Promise<{ file: Readable; fileName: string }> {
  return new Promise((resolve, reject) => {
    const form = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 1024, parts: 12 } });
    let settled = false;
    form.on('file', (name, file, info) => {
      if (settled || name !== 'file') {
        file.resume();
        return;
      }
      settled = true;
      resolve({ file, fileName: info.filename ?? '' });
    });
    form.on('close', () => {
      if (!settled) reject(badRequest('the form has no part named file: send the cost file in it'));
    });
    form.on('error', (error: Error) => {
      if (!settled) reject(badRequest(`the form cannot be read: ${error.message}`));
    });
    req.pipe(form);
  });
}

/** The uploaded file and its name: the body as it is, or a multipart form's `file` part. 415 for anything else, 413 for a Content-Length past the limit. */
async function uploadedCostFile(req: Request, maxBytes: number, fileName: string | undefined): Promise<{ file: Readable; fileName: string }> {
  if (Number(req.get('content-length') ?? 0) > maxBytes) throw new HttpError(413, 'payload_too_large', `the file is larger than ${maxBytes.toLocaleString('en')} bytes; split it`);
  if (req.is('multipart/form-data')) {
    const part = await multipartFile(req);
    return { file: part.file, fileName: fileName ?? (part.fileName || 'upload') };
  }
  if (!req.is(FILE_TYPES)) {
    throw new HttpError(415, 'unsupported_media_type', `send the FOCUS file as the body (text/csv, application/gzip, application/vnd.apache.parquet or application/octet-stream) or as the part file of a multipart form, not ${req.get('content-type') ?? 'without a Content-Type'}`);
  }
  return { file: req, fileName: fileName ?? 'upload' };
}

/** An import and, while its workflow works on it, the workflow's live progress. */
export async function costImportWithProgress(deps: Pick<AppDeps, 'temporal'>, summary: CostImportSummary) {
  if (!summary.workflowId || !RUNNING_COST_IMPORT_STATES.includes(summary.state)) return summary;
  const handle = deps.temporal.workflow.getHandle(summary.workflowId);
  return { ...summary, ...(await liveStatusWithinDeadline(deps.temporal, () => handle.query(costImportProgressQuery))) };
}

/** The refusals report as CSV: a line per problem (row, column, reason) with the row as read. */
export async function streamRefusalsCsv(res: Response, deps: Pick<AppDeps, 'db'>, summary: CostImportSummary): Promise<void> {
  res.status(200);
  res.type('text/csv');
  res.set('Content-Disposition', `attachment; filename="${summary.number}-refused.csv"`);
  const csv = stringify({ header: true, columns: ['row', 'column', 'reason', 'line'] });
  csv.pipe(res);
  for await (const refusal of costImportRefusals(deps.db, summary.id)) {
    for (const problem of refusal.problems) {
      if (!csv.write({ row: refusal.rowNumber, column: problem.column, reason: problem.reason, line: JSON.stringify(refusal.line) })) await once(csv, 'drain');
    }
  }
  csv.end();
  await once(res, 'finish');
}

/** The import of a number, or 404. */
export async function costImportOf(deps: Pick<AppDeps, 'db'>, number: string): Promise<CostImportSummary> {
  const summary = await findCostImport(deps.db, { number: number.toUpperCase() });
  if (!summary) throw notFound(`no cost import ${number}`);
  return summary;
}

/**
 * Cloud bills in FOCUS: POST the file (CSV, gzipped CSV or Parquet) as the body; the same file again
 * answers the import it became. Its rows are checked and staged, and its workflow writes them as
 * cost records; the refused rows are its report.
 */
export function registerCostImportRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const tag = 'finops';
  const maxBytes = deps.costImportMaxBytes ?? COST_IMPORT_MAX_BYTES;

  routes.add(
    {
      method: 'post', path: '/cost-imports', tag, access: COST_IMPORTERS,
      summary: 'Import a cloud bill in FOCUS 1.0 to 1.2 (AWS, Azure, Google Cloud, Oracle exports): the file as the body (CSV, gzipped CSV or Parquet, told by its '
        + 'first bytes) or the part file of a multipart form. The same file again answers its import (repeated: true). Rows are checked and the good ones staged; '
        + 'the import\'s workflow writes them as cost records, every decimal place kept, a newer file of a provider, billing account and billing period replacing the older one\'s',
      query: z.object({ fileName: z.string().trim().min(1).max(255).optional().describe('the name of the file, for the list of imports') }),
      responses: {
        200: 'the same file was received before: its import, as it stands (repeated: true)',
        202: 'the import, staged and started (Location: /cost-imports/:number)',
        400: 'bad parameters, or a form without its file',
        401: 'no or bad API key',
        403: 'not an asset manager, process owner or admin',
        413: 'the file is larger than COST_IMPORT_MAX_BYTES: nothing was kept',
        415: 'the body is not a file (or a multipart form)',
        422: 'not_focus: the required FOCUS columns are missing (details.missing names them); unreadable_file: not CSV or Parquet, or broken. The import is kept, failed, with the reason',
        503: 'the workflow service is down: the import is recorded as failed and nothing of it is written',
        504: 'the workflow service did not answer in time and the workflow is not known to run: failed, nothing written',
      },
    },
    async ({ query, principal, req, res }) => {
      const upload = await uploadedCostFile(req, maxBytes, query.fileName);
      const received: ReceivedCostImport = await receiveCostImport(deps, {
        fileName: upload.fileName, source: 'api', requestedBy: { id: principal.id, email: principal.email }, file: upload.file,
      });
      res.status(received.repeated ? 200 : 202).location(`/cost-imports/${received.number}`);
      return received;
    },
  );

  routes.add(
    {
      method: 'get', path: '/cost-imports', tag, access: COST_IMPORTERS,
      summary: 'Cost imports, newest first',
      query: pageQuery,
      responses: { 200: 'a page of cost imports', 400: 'bad paging', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async ({ query }) => listCostImports(deps.db, query),
  );

  routes.add(
    {
      method: 'get', path: '/cost-imports/:number', tag, access: COST_IMPORTERS,
      summary: 'A cost import: state, rows read, refused and imported, its FOCUS version, scopes (provider, billing account, billing period), totals per provider and '
        + 'currency as exact decimal text (once written), its message; while its workflow runs, the live status',
      params: numberParams,
      responses: { 200: 'the import', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin', 404: 'no such import' },
    },
    async ({ params }) => costImportWithProgress(deps, await costImportOf(deps, params.number)),
  );

  routes.add(
    {
      method: 'get', path: '/cost-imports/:number/refusals', tag, access: COST_IMPORTERS,
      summary: 'The rows of a cost import refused by the check, in file order: each with its row number, every problem (FOCUS column and reason) and the row as read '
        + '(long values cut). format=csv: the whole report as CSV, a line per problem (row, column, reason, line)',
      params: numberParams,
      query: pageQuery.extend({ format: z.enum(['json', 'csv']).default('json') }),
      responses: { 200: 'a page of refused rows, or the CSV file', 400: 'bad paging or format', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin', 404: 'no such import' },
    },
    async ({ params, query, res }) => {
      const summary = await costImportOf(deps, params.number);
      if (query.format === 'csv') return streamRefusalsCsv(res, deps, summary);
      return costImportRefusalsPage(deps.db, summary.id, query);
    },
  );
}
