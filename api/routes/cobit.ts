/**
 * COBIT evidence (issue 17): per objective, small tables of figures an auditor asks for, as JSON
 * or as one CSV of every section; the BAI09 asset register paged, or whole as CSV. The web UI's
 * pages (api/web/cobit-pages.ts) read the same model and send their CSV through the same functions.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { stringify, type CastReturnObject, type Options } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { z } from 'zod';
import {
  COBIT_OBJECTIVES, OBJECTIVES, REGISTER_COLUMNS, assetRegister, assetRegisterBatches, objectiveEvidence, type Evidence,
} from '../../model/cobit-evidence';
import type { Database } from '../../platform/database';
import { OVERSEERS } from '../auth';
import type { AppDeps } from '../app';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

const format = z.enum(['json', 'csv']).optional().describe('csv: one CSV file (also with Accept: text/csv); json by default');

export const objectiveParams = z.object({ objective: z.enum(COBIT_OBJECTIVES).describe('apo05, apo09, bai01, bai06, bai09, bai10 or dss05') });
export const evidenceQuery = z.object({
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM').optional()
    .describe('APO05: the allocation month to show the cost of, YYYY-MM; the last month allocated when not given'),
  format,
});
export const registerQuery = pageQuery.extend({ format });

/** A figure as the model writes it: a count, integer minor units, exact decimal text; negative ones too. */
const FIGURE = /^-?\d+(\.\d+)?$/;

/**
 * Text people typed (titles, names, tags) cannot start a formula in a spreadsheet: a leading =, +,
 * -, @ or tab is quoted with ' (csv-stringify's escape_formulas); a figure stays a figure, a credit's
 * minus sign included (csv-stringify takes options per field from what cast returns).
 */
export const CSV_OPTIONS: Options = {
  escape_formulas: true,
  cast: { string: (value) => (FIGURE.test(value) ? ({ value, escape_formulas: false } as CastReturnObject) : value) },
};

/** CSV when asked by ?format=csv, or by an Accept header that prefers it to JSON. */
export const wantsCsv = (req: Request, requested: 'json' | 'csv' | undefined) =>
  requested ? requested === 'csv' : req.accepts(['application/json', 'text/csv']) === 'text/csv';

/**
 * Every section of an objective in one CSV: the section's key first, then the columns of every
 * section in the order they first appear, each row filling its own; money as the model gives it.
 */
export function sendEvidenceCsv(res: Response, evidence: Evidence): void {
  const keys: string[] = [];
  for (const section of evidence.sections) for (const column of section.columns) if (!keys.includes(column.key)) keys.push(column.key);
  const records = evidence.sections.flatMap((section) => section.rows.map((row) => [section.key, ...keys.map((key) => row[key] ?? '')]));
  const text = stringifySync([['section', ...keys], ...records], CSV_OPTIONS);
  res.status(200).set('Content-Disposition', `attachment; filename="cobit-${evidence.objective}.csv"`).type('text/csv').send(text);
}

/**
 * The whole register as CSV, a batch at a time with back-pressure; the first batch is read before
 * anything is sent, so a database that cannot answer is an error answer like anywhere else.
 */
export async function sendRegisterCsv(req: Request, res: Response, db: Database): Promise<void> {
  const batches = assetRegisterBatches(db);
  const first = await batches.next();
  async function* entries() {
    if (first.done) return;
    yield* first.value;
    for await (const batch of batches) yield* batch;
  }
  res.status(200).set('Content-Disposition', 'attachment; filename="cobit-bai09-register.csv"').type('text/csv');
  try {
    await pipeline(Readable.from(entries()), stringify({ ...CSV_OPTIONS, header: true, columns: REGISTER_COLUMNS.map((c) => c.key) }), res);
  } catch (error) {
    if (!res.headersSent) throw error;
    req.log.warn({ err: error }, 'asset register download cut short');
  }
}

export function registerCobitRoutes(routes: RouteRegistry, deps: AppDeps): void {
  routes.add(
    {
      method: 'get', path: '/cobit/evidence', tag: 'cobit', access: OVERSEERS,
      summary: 'The COBIT objectives evidence is kept for, each with its title, what it evidences and where its evidence is',
      responses: { 200: 'the objectives', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async () => ({
      objectives: COBIT_OBJECTIVES.map((objective) => ({
        ...OBJECTIVES[objective],
        href: `/cobit/evidence/${objective}`,
        csv: `/cobit/evidence/${objective}?format=csv`,
        page: `/ui/cobit/${objective}`,
      })),
    }),
  );

  routes.add(
    {
      method: 'get', path: '/cobit/evidence/bai09/register', tag: 'cobit', access: OVERSEERS,
      summary: 'BAI09: the asset register by asset tag (model, state, assignee, cost centre, purchase date, cost, book value); a page as JSON, or the whole register as CSV',
      query: registerQuery,
      responses: { 200: 'a page of the register, or the whole register as CSV', 400: 'bad page', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query, req, res }) => {
      if (wantsCsv(req, query.format)) return sendRegisterCsv(req, res, deps.db);
      return { columns: REGISTER_COLUMNS, ...(await assetRegister(deps.db, query)) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/cobit/evidence/:objective', tag: 'cobit', access: OVERSEERS,
      summary: 'The evidence of one COBIT objective: sections of figures (key, title, columns, rows); money as integer minor units or exact decimal text, per currency; ?format=csv for one CSV of all sections',
      params: objectiveParams,
      query: evidenceQuery,
      responses: { 200: 'the evidence, as JSON or CSV', 400: 'no such objective, or a bad period', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ params, query, req, res }) => {
      const evidence = await objectiveEvidence(deps.db, params.objective, { period: query.period });
      if (wantsCsv(req, query.format)) return sendEvidenceCsv(res, evidence);
      return evidence;
    },
  );
}
