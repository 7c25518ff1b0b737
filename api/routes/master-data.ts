import { once } from 'node:events';
import type { Client } from '@temporalio/client';
import type { Response } from 'express';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { IMPORT_FORMATS, type ColumnProblem } from '../../domain/master-data';
import { insertAuditRow } from '../../model/audit-rows';
import { judgeRow, judgeUpdate, Lookups, writeJudgement, type Judgement } from '../../model/master-data/engine';
import { MASTER_DATA } from '../../model/master-data';
import type { MasterDataKind, Row, Stored } from '../../model/master-data/kind';
import { isUniqueViolation, type Database } from '../../platform/database';
import { expectedVersions, setETag } from '../concurrency';
import { HttpError, conflict, notFound, versionMismatch } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { commandWithinDeadline } from '../workflow-calls';
import { tellEndOfTermDates } from '../../activities/lifecycle-transitions';

const refParams = z.object({ ref: z.string().trim().min(1).max(200) });
const rowBody = z.record(z.string(), z.unknown()).describe('the columns of the record; references by natural key (codes, emails, names)');

/** Who reads exports besides the writers: the process owners, who answer for the data. */
const EXPORT_READERS: readonly Role[] = ['process_owner'];

/** Who may export a kind's records: its writers and the process owners, as far as they may read it. */
export const exportersOf = (kind: MasterDataKind): Role[] =>
  [...new Set([...kind.writers, ...EXPORT_READERS])].filter((role) => !kind.readers || kind.readers.includes(role));

/** A record as the API answers it: its columns, and how to name and version it. */
export const recordOf = (stored: Stored) => ({ id: stored.id, ref: stored.ref, version: stored.version, retiredAt: stored.retiredAt, ...stored.row });

const refusedRow = (judgement: Judgement) =>
  new HttpError(400, 'invalid_input', `refused: ${judgement.problems.map((p) => `${p.column}: ${p.reason}`).join('; ')}`, { problems: judgement.problems });

const retireRefused = (problem: ColumnProblem) => conflict('retire_refused', problem.reason, { problems: [problem] });

/** Where a person wrote a record, for its audit row: the JSON API or the web UI's forms. */
type Channel = 'api' | 'web';

/**
 * Creates a record from a row, judged as an import row is, with its audit row in one transaction;
 * the JSON API and the web UI's form both write through it. Refusals are HttpErrors: 400 with
 * details.problems, 409 already_exists.
 */
export async function createRecord(db: Database, kind: MasterDataKind, row: Row, actor: string, channel: Channel = 'api'): Promise<Stored> {
  const what = kind.title.toLowerCase();
  const stored = await db.transaction(async (trx) => {
    const judgement = await judgeRow(kind, new Lookups(trx), row, { lock: true, mayOmitAssignedKey: true });
    if (judgement.verdict === 'refuse') throw refusedRow(judgement);
    if (judgement.stored) throw conflict('already_exists', `${what}: ${judgement.naturalKey} exists already (${judgement.stored.ref}); update it instead`, { ref: judgement.stored.ref });
    const id = await writeJudgement(trx, kind, judgement, { actor, via: { channel } });
    return kind.findByRef(trx, id!, false);
  }).catch((error: unknown) => {
    if (isUniqueViolation(error)) throw conflict('already_exists', `${what}: a record with this key exists already`);
    throw error;
  });
  return stored!;
}

/**
 * Lays `patch` over the record `ref` names if it is still at one of `versions` (412 otherwise), in
 * one transaction with its audit row; 404, 400 with details.problems, 409 already_exists.
 */
export async function updateRecord(db: Database, kind: MasterDataKind, ref: string, versions: number[], patch: Row, actor: string, channel: Channel = 'api'): Promise<Stored> {
  const what = kind.title.toLowerCase();
  const stored = await db.transaction(async (trx) => {
    const current = await kind.findByRef(trx, ref, true);
    if (!current) throw notFound(`no ${what} record ${ref}`);
    if (!versions.includes(current.version)) throw versionMismatch(current.version);
    const judgement = await judgeUpdate(kind, new Lookups(trx), current, patch);
    if (judgement.verdict === 'refuse') throw refusedRow(judgement);
    await writeJudgement(trx, kind, judgement, { actor, via: { channel } });
    return kind.findByRef(trx, current.id, false);
  }).catch((error: unknown) => {
    if (isUniqueViolation(error)) throw conflict('already_exists', `${what}: another record has this key`);
    throw error;
  });
  return stored!;
}

/** The columns of an asset its lifecycle workflow plans its end-of-term reminders from. */
const END_OF_TERM_COLUMNS = ['warrantyEnd', 'leaseEnd'];

/**
 * After an update of an asset that named its warranty or lease end, tells its running lifecycle
 * workflow the dates as the update left them (`stored`, read in its transaction), so that its
 * reminders follow them; saving the same dates again tells it again. An asset whose workflow is not
 * running is not told: its workflow reads the row when it starts. The update is committed by now, so
 * a workflow service that does not answer in time is a 503/504 whose message says what is kept.
 */
export async function followEndOfTermDates(temporal: Client, kind: MasterDataKind, patch: Row, stored: Stored): Promise<void> {
  if (kind.name !== 'assets' || !END_OF_TERM_COLUMNS.some((column) => column in patch)) return;
  const change = { warrantyEnd: stored.row.warrantyEnd as string | null, leaseEnd: stored.row.leaseEnd as string | null, recordVersion: stored.version };
  await commandWithinDeadline(
    temporal,
    `telling the lifecycle of ${stored.ref} its warranty and lease end`,
    () => tellEndOfTermDates(temporal, stored.ref, change),
    `${stored.ref} is saved (version ${stored.version}), but its reminders keep the dates they had: save its warrantyEnd and leaseEnd again later`,
  );
}

/** Retires the record `ref` names if it is still at one of `versions`: 404, 409 retire_refused or already_retired, 412. */
export async function retireRecord(db: Database, kind: MasterDataKind, ref: string, versions: number[], actor: string, channel: Channel = 'api'): Promise<Stored> {
  const what = kind.title.toLowerCase();
  const stored = await db.transaction(async (trx) => {
    const current = await kind.findByRef(trx, ref, true);
    if (!current) throw notFound(`no ${what} record ${ref}`);
    if (!versions.includes(current.version)) throw versionMismatch(current.version);
    if (current.retiredAt) throw conflict('already_retired', `${what}: ${current.ref} was retired on ${current.retiredAt}`);
    const refusal = await kind.retire(trx, current);
    if (refusal) throw retireRefused(refusal);
    await insertAuditRow(trx, { actor, subjectType: kind.subjectType, subjectId: current.id, action: 'retired', details: { ref: current.ref, via: channel } });
    return kind.findByRef(trx, current.id, false);
  });
  return stored!;
}

/** Streams rows as CSV (a header of the kind's columns; objects and arrays as JSON text) or JSON lines. */
export async function streamRows(res: Response, kind: MasterDataKind, rows: AsyncIterable<Row>, format: (typeof IMPORT_FORMATS)[number]): Promise<void> {
  res.status(200);
  res.set('Content-Disposition', `attachment; filename="${kind.name}.${format}"`);
  if (format === 'jsonl') {
    res.type('application/x-ndjson');
    for await (const row of rows) {
      if (!res.write(`${JSON.stringify(row)}\n`)) await once(res, 'drain');
    }
    res.end();
    return;
  }
  res.type('text/csv');
  const csv = stringify({ header: true, columns: [...kind.columns], cast: { object: (value) => JSON.stringify(value), boolean: (value) => String(value) } });
  csv.pipe(res);
  for await (const row of rows) {
    if (!csv.write(row)) await once(csv, 'drain');
  }
  csv.end();
  await once(res, 'finish');
}

/**
 * The JSON API of every list of master data (model/master-data): create, update with If-Match,
 * retire with If-Match, export; and list and read where no route reads it yet. A write is judged
 * exactly as an import row is, and audited with the values before and after.
 */
export function registerMasterDataRoutes(routes: RouteRegistry, db: Database, temporal: Client): void {
  for (const kind of MASTER_DATA.values()) registerKind(routes, db, temporal, kind);
}

function registerKind(routes: RouteRegistry, db: Database, temporal: Client, kind: MasterDataKind): void {
  const what = kind.title.toLowerCase();
  const tag = 'master data';

  routes.add(
    {
      method: 'get', path: `${kind.path}/export`, tag, access: exportersOf(kind),
      summary: `Export ${what} as CSV or JSON lines, streamed, in the columns an import takes (retired ones left out)`,
      query: z.object({ format: z.enum(IMPORT_FORMATS).default('csv') }),
      responses: { 200: 'the file', 400: 'bad format', 401: 'no or bad API key', 403: 'not allowed to export it' },
    },
    async ({ query, res }) => streamRows(res, kind, kind.exportRows(db), query.format),
  );

  if (!kind.readsElsewhere) {
    const access = kind.readers ?? 'authenticated';
    const READ: Record<number, string> = kind.readers
      ? { 401: 'no or bad API key', 403: `not one of: ${kind.readers.join(', ')}` }
      : { 401: 'no or bad API key' };
    routes.add(
      {
        method: 'get', path: kind.path, tag, access,
        summary: `List ${what}`,
        query: pageQuery.extend({
          q: z.string().trim().min(1).max(100).optional().describe('part of a name, code or number'),
          sort: z.enum([...kind.sortColumns, ...kind.sortColumns.map((c) => `-${c}`)] as [string, ...string[]]).optional().describe('a column; - first for descending'),
          includeRetired: z.enum(['true', 'false']).optional().transform((value) => value === 'true'),
        }),
        responses: { 200: `a page of ${what}`, 400: 'bad filter', ...READ },
      },
      async ({ query }) => {
        const page = await kind.list(db, { q: query.q, sort: query.sort, includeRetired: query.includeRetired }, query);
        return { items: page.items.map(recordOf), page: page.page };
      },
    );

    routes.add(
      {
        method: 'get', path: `${kind.path}/:ref`, tag, access,
        summary: `One of the ${what}; ETag is its version`,
        params: refParams,
        responses: { 200: 'the record', ...READ, 404: 'no such record' },
      },
      async ({ params, res }) => {
        const stored = await kind.findByRef(db, params.ref, false);
        if (!stored) throw notFound(`no ${what} record ${params.ref}`);
        setETag(res, stored.version);
        return recordOf(stored);
      },
    );
  }

  const WRITE = { 401: 'no or bad API key', 403: `not one of: ${kind.writers.join(', ')}` };

  routes.add(
    {
      method: 'post', path: kind.path, tag, access: kind.writers,
      summary: `Create one of the ${what} (key: ${kind.keyColumns.join(' + ')})`,
      body: rowBody,
      responses: { 201: 'the record (ETag, Location)', 400: 'refused: details.problems name each column and why', ...WRITE, 409: 'already_exists: a record has this key' },
    },
    async ({ body, principal, res }) => {
      const stored = await createRecord(db, kind, body, principal.email);
      setETag(res, stored.version);
      res.status(201).location(`${kind.path}/${encodeURIComponent(stored.ref)}`);
      return recordOf(stored);
    },
  );

  routes.add(
    {
      method: 'patch', path: `${kind.path}/:ref`, tag, access: kind.writers,
      summary: `Update one of the ${what} (If-Match: its ETag): the columns given; null clears an optional one`,
      params: refParams,
      body: rowBody,
      responses: {
        200: 'the record as now (a new ETag when something changed)', 400: 'refused: details.problems', ...WRITE, 404: 'no such record',
        409: 'already_exists: the new key is another record\'s', 412: 'If-Match is not the current version', 428: 'no If-Match',
      },
    },
    async ({ params, body, principal, req, res }) => {
      const stored = await updateRecord(db, kind, params.ref, expectedVersions(req), body, principal.email);
      await followEndOfTermDates(temporal, kind, body, stored);
      setETag(res, stored.version);
      return recordOf(stored);
    },
  );

  routes.add(
    {
      method: 'post', path: `${kind.path}/:ref/retire`, tag, access: kind.writers,
      summary: `Retire one of the ${what} (If-Match: its ETag): kept for what refers to it, left out of lists and new requests`,
      params: refParams,
      responses: { 200: 'the record, retired', ...WRITE, 404: 'no such record', 409: 'retire_refused, or already retired', 412: 'If-Match is not the current version', 428: 'no If-Match' },
    },
    async ({ params, principal, req, res }) => {
      const stored = await retireRecord(db, kind, params.ref, expectedVersions(req), principal.email);
      setETag(res, stored.version);
      return recordOf(stored);
    },
  );
}

