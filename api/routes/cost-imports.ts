import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { stringify } from 'csv-stringify';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { costImportRefusals, costImportRefusalsPage, findCostImport, listCostImports, type CostImportSummary } from '../../model/cost-imports';
import { secretMatches } from '../../platform/secrets';
import { costImportProgressQuery, type CostImportState } from '../../workflows/cost-import/contract';
import type { AppDeps } from '../app';
import { OVERSEERS } from '../auth';
import { COST_IMPORT_MAX_BYTES, COST_IMPORT_MAX_PARTS, receiveCostImport, type CostFilePart, type CostImportRequest, type ReceivedCostImport } from '../cost-import-intake';
import { HttpError, badRequest, notFound } from '../errors';
import { INVENTORY_SENDERS } from '../inventory-intake';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { liveStatusWithinDeadline } from '../workflow-calls';

/** Who reads cloud bills' imports: asset managers, process owners and admins. */
export const COST_IMPORT_READERS = OVERSEERS;
/** Who sends cloud bills: an import writes inventory (cloud resources become CIs), so those who send inventory. */
export const COST_IMPORT_SENDERS = INVENTORY_SENDERS;

/** The states of an import its workflow still works on: its live progress is asked for. */
export const RUNNING_COST_IMPORT_STATES: readonly CostImportState[] = ['staged', 'applying'];

/** The body's media types taken: the file as it is (its format is read from its first bytes), or a form with the part `file`. */
const FILE_TYPES = ['text/csv', 'application/csv', 'application/gzip', 'application/x-gzip', 'application/octet-stream', 'application/vnd.apache.parquet'];

const numberParams = z.object({ number: z.string().trim().min(1).max(20).describe('the import number, CIM…') });

/** A multipart form as read: its `file` parts (one bill, or the parts of one), none, or not from the session (the web form). */
export type CostUpload =
  | { outcome: 'parts'; parts: AsyncIterable<CostFilePart> }
  | { outcome: 'no_file' }
  | { outcome: 'not_from_this_session' };

/**
 * Reads a multipart form's parts named `file` one after another as they arrive, each handed over
 * unread (the next comes once it is read to its end); other parts are dropped. With `csrf` (the web
 * form), the form's first part must be the session's token, or nothing more is read. Answers once
 * the first file arrives, or the form ends without one.
 */
export function readCostUpload(req: Request, csrf?: string): Promise<CostUpload> {
  return new Promise((resolve, reject) => {
    const form = busboy({ headers: req.headers, limits: { files: COST_IMPORT_MAX_PARTS, fields: 10, fieldSize: 1024, parts: COST_IMPORT_MAX_PARTS + 10 } });
    const waiting: CostFilePart[] = [];
    let verified = csrf === undefined ? true : undefined;
    let ended = false;
    let done = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    let settled = false;
    const settle = (upload: CostUpload) => {
      if (settled) return;
      settled = true;
      resolve(upload);
    };
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const refuse = () => {
      settle({ outcome: 'not_from_this_session' });
      req.unpipe(form);
      req.resume();
    };
    /** The parts in turn; returned early (the bill refused), the rest are read and dropped. */
    const parts: AsyncIterableIterator<CostFilePart> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        for (;;) {
          if (waiting.length > 0) return { done: false, value: waiting.shift()! };
          if (failure) throw failure;
          if (ended || done) return { done: true, value: undefined };
          await new Promise<void>((resolveWait) => {
            wake = resolveWait;
          });
        }
      },
      async return() {
        done = true;
        for (const part of waiting.splice(0)) part.stream.resume();
        return { done: true, value: undefined };
      },
    };
    form.on('field', (name, value) => {
      verified ??= name === 'csrf' && secretMatches(csrf!, value);
      if (!verified) refuse();
    });
    form.on('file', (name, stream, info) => {
      verified ??= false;
      if (!verified) {
        stream.resume();
        refuse();
        return;
      }
      if (done || name !== 'file') {
        stream.resume();
        return;
      }
      waiting.push({ name: info.filename ?? '', stream });
      notify();
      settle({ outcome: 'parts', parts });
    });
    form.on('filesLimit', () => {
      failure = new HttpError(400, 'too_many_parts', `a bill may come in ${COST_IMPORT_MAX_PARTS} parts at most`);
      notify();
    });
    form.on('close', () => {
      ended = true;
      notify();
      settle(verified ? { outcome: 'no_file' } : { outcome: 'not_from_this_session' });
    });
    form.on('error', (error: Error) => {
      failure = badRequest(`the form cannot be read: ${error.message}`);
      notify();
      if (settled) return;
      settled = true;
      reject(failure);
    });
    req.pipe(form);
  });
}

type UploadedBill = { fileName: string; file: Readable } | { fileName?: string; parts: AsyncIterable<CostFilePart> };

/** The uploaded bill: the body as it is, or a multipart form's `file` parts. 415 for anything else, 413 for a Content-Length past the limit. */
async function uploadedBill(req: Request, maxBytes: number, fileName: string | undefined): Promise<UploadedBill> {
  if (Number(req.get('content-length') ?? 0) > maxBytes) throw new HttpError(413, 'payload_too_large', `the bill is larger than ${maxBytes.toLocaleString('en')} bytes; split it`);
  if (req.is('multipart/form-data')) {
    const upload = await readCostUpload(req);
    if (upload.outcome !== 'parts') throw badRequest('the form has no part named file: send the cost file (or each part of the bill) in a part named file');
    return { fileName, parts: upload.parts };
  }
  if (!req.is(FILE_TYPES)) {
    throw new HttpError(415, 'unsupported_media_type', `send the FOCUS file as the body (text/csv, application/gzip, application/vnd.apache.parquet or application/octet-stream) or as the part file of a multipart form, not ${req.get('content-type') ?? 'without a Content-Type'}`);
  }
  return { fileName: fileName ?? 'upload', file: req };
}

/** An import and, while its workflow works on it, the workflow's live progress. */
export async function costImportWithProgress(deps: Pick<AppDeps, 'temporal'>, summary: CostImportSummary) {
  if (!summary.workflowId || !RUNNING_COST_IMPORT_STATES.includes(summary.state)) return summary;
  const handle = deps.temporal.workflow.getHandle(summary.workflowId);
  return { ...summary, ...(await liveStatusWithinDeadline(deps.temporal, () => handle.query(costImportProgressQuery))) };
}

/**
 * The refusals report as CSV: a line per problem (row, column, reason) with the row as read. The
 * first batch is read before anything is sent, so a database that cannot answer is a 503; past
 * that, a failure cuts the connection: the client sees the file as cut, never as the whole report.
 */
export async function streamRefusalsCsv(res: Response, deps: Pick<AppDeps, 'db'>, summary: CostImportSummary): Promise<void> {
  const refusals = costImportRefusals(deps.db, summary.id)[Symbol.asyncIterator]();
  const first = await refusals.next();
  async function* lines() {
    for (let refusal = first; !refusal.done; refusal = await refusals.next()) {
      for (const problem of refusal.value.problems) {
        yield { row: refusal.value.rowNumber, column: problem.column, reason: problem.reason, line: JSON.stringify(refusal.value.line) };
      }
    }
  }
  res.status(200);
  res.type('text/csv');
  res.set('Content-Disposition', `attachment; filename="${summary.number}-refused.csv"`);
  try {
    await pipeline(Readable.from(lines()), stringify({ header: true, columns: ['row', 'column', 'reason', 'line'] }), res);
  } catch (error) {
    if (!res.headersSent) throw error;
    res.destroy(error as Error);
  }
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
      method: 'post', path: '/cost-imports', tag, access: COST_IMPORT_SENDERS,
      summary: 'Import a cloud bill in FOCUS 1.0 to 1.2 (AWS, Azure, Google Cloud, Oracle exports): the file as the body (CSV, gzipped CSV or Parquet, told by its '
        + 'first bytes) or the part file of a multipart form. A bill in parts (part-00001, part-00002, … of one provider, account and period) is sent as one import: '
        + 'each part as a part named file of one form, all of one format and one set of columns; they are read in the order of their names, rows numbered across them. '
        + 'The same bill again answers its import (repeated: true). Rows are checked and the good ones staged; the import\'s workflow writes them as cost records, '
        + 'every decimal place kept, a newer import of a provider, billing account and billing period replacing the older one\'s records',
      query: z.object({ fileName: z.string().trim().min(1).max(255).optional().describe('the name of the import, for the list of imports (by default the file\'s, or its first and last part\'s)') }),
      responses: {
        200: 'the same file was received before: its import, as it stands (repeated: true)',
        202: 'the import, staged and started (Location: /cost-imports/:number)',
        400: 'bad parameters, a form without its file, or more than COST_IMPORT_MAX_PARTS parts (too_many_parts)',
        401: 'no or bad API key',
        403: 'not an asset manager or admin',
        413: 'the bill (its parts together) is larger than COST_IMPORT_MAX_BYTES: nothing was kept',
        415: 'the body is not a file (or a multipart form)',
        422: 'not_focus: the required FOCUS columns are missing (details.missing names them); parts_differ: the parts are not of one format or one set of columns; '
          + 'unreadable_file: not CSV or Parquet, or broken. The import is kept, failed, with the reason',
        503: 'busy: this API process is receiving COST_IMPORTS_AT_ONCE bills already (Retry-After; nothing was read); or the workflow service is down: '
          + 'the import is recorded as failed and nothing of it is written',
        504: 'the workflow service did not answer in time and the workflow is not known to run: failed, nothing written',
      },
    },
    async ({ query, principal, req, res }) => {
      const bill = await uploadedBill(req, maxBytes, query.fileName);
      const request: CostImportRequest = { ...bill, source: 'api', requestedBy: { id: principal.id, email: principal.email } };
      const received: ReceivedCostImport = await receiveCostImport(deps, request);
      res.status(received.repeated ? 200 : 202).location(`/cost-imports/${received.number}`);
      return received;
    },
  );

  routes.add(
    {
      method: 'get', path: '/cost-imports', tag, access: COST_IMPORT_READERS,
      summary: 'Cost imports, newest first',
      query: pageQuery,
      responses: { 200: 'a page of cost imports', 400: 'bad paging', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin' },
    },
    async ({ query }) => listCostImports(deps.db, query),
  );

  routes.add(
    {
      method: 'get', path: '/cost-imports/:number', tag, access: COST_IMPORT_READERS,
      summary: 'A cost import: state, rows read, refused and imported, its FOCUS version, scopes (provider, billing account, billing period), totals per provider and '
        + 'currency as exact decimal text (once written), its message; while its workflow runs, the live status',
      params: numberParams,
      responses: { 200: 'the import', 401: 'no or bad API key', 403: 'not an asset manager, process owner or admin', 404: 'no such import' },
    },
    async ({ params }) => costImportWithProgress(deps, await costImportOf(deps, params.number)),
  );

  routes.add(
    {
      method: 'get', path: '/cost-imports/:number/refusals', tag, access: COST_IMPORT_READERS,
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
