/**
 * Master data as people edit and import it: which lists there are, the cells a row is made of
 * (one parser per kind of value, taking a CSV cell or a JSON value alike), what a row's check
 * says it would do and what applying it did, and what an import does with a file that has bad
 * rows. Shared by the API, the import workflow and its activities.
 */
import { z } from 'zod';
import { emailAddress } from './directory';
import { MAX_AMOUNT_MINOR } from './money';

/** The lists of master data, as they appear in URLs and as an import's kind. */
export const MASTER_DATA_KINDS = [
  'cost-centres', 'budgets', 'vendors', 'contracts', 'contract-prices', 'hardware-models', 'software-products',
  'configuration-items', 'ci-relationships', 'assets', 'entitlements',
] as const;
export type MasterDataKindName = (typeof MASTER_DATA_KINDS)[number];

export const IMPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * What an import does with a file in which some rows are bad. reject_file (the default): nothing
 * is written unless every row passes the check. skip_rows: the good rows are written and the bad
 * ones reported. Under either, a row that passes the check but is refused when it is written (the
 * data changed meanwhile) is left out while the other rows are written, and the import says so.
 */
export const ON_INVALID_ROWS = ['reject_file', 'skip_rows'] as const;
export type OnInvalidRows = (typeof ON_INVALID_ROWS)[number];

/** One reason a row (or an API body) is refused: the column, the value given, and why. */
export interface ColumnProblem {
  column: string;
  value?: unknown;
  reason: string;
}

/** What the check says applying a row would do; an inventory row several records answer to is held for a data steward. */
export type RowVerdict = 'create' | 'update' | 'unchanged' | 'refuse' | 'hold';
/** What applying a row did. */
export type RowOutcome = 'created' | 'updated' | 'unchanged' | 'refused' | 'held';

export const OUTCOME_OF_VERDICT: Record<RowVerdict, RowOutcome> = {
  create: 'created', update: 'updated', unchanged: 'unchanged', refuse: 'refused', hold: 'held',
};

/** What an import brings: a list of master data, or an inventory batch from a feed (issue 16). */
export type ImportKind = MasterDataKindName | 'inventory';

export type ImportState = 'receiving' | 'checking' | 'applying' | 'previewed' | 'completed' | 'refused' | 'failed';

/** Rows by verdict or outcome. */
export type RowCounts = Partial<Record<RowVerdict | RowOutcome, number>>;

/**
 * After every row is checked: a dry run ends with its preview; a file with a bad row under
 * reject_file is refused whole; otherwise the rows are applied.
 */
export function afterCheck(options: { dryRun: boolean; onInvalidRows: OnInvalidRows }, checked: RowCounts): 'previewed' | 'refused' | 'apply' {
  if (options.dryRun) return 'previewed';
  if (options.onInvalidRows === 'reject_file' && (checked.refuse ?? 0) > 0) return 'refused';
  return 'apply';
}

/** Most rows a single import takes; a larger file is split by whoever sends it. */
export const MAX_IMPORT_ROWS = 1_000_000;

/**
 * Cells: each parser takes a CSV cell (text) or a JSON value, so one schema serves files of both
 * formats and the JSON API. An empty cell, or null, means "no value": optional columns become
 * null (an update clears them), required ones are refused.
 */
const blankToNull = (value: unknown) => (value === undefined || (typeof value === 'string' && value.trim() === '') ? null : value);

const required = <T extends z.ZodType>(inner: T) =>
  z.preprocess(blankToNull, z.union([z.null(), inner])).refine((value) => value !== null, { message: 'required' }) as unknown as z.ZodType<z.output<T>>;
const optional = <T extends z.ZodType>(inner: T) =>
  z.preprocess(blankToNull, inner.nullable()) as unknown as z.ZodType<z.output<T> | null>;

const text = (max: number) => z.string().trim().min(1).max(max);
const integer = (min: number, max: number) =>
  z.preprocess((value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z.number({ message: 'not a whole number' }).int({ message: 'not a whole number' }).min(min).max(max));
const TRUE = ['true', 'yes', 'y', '1'];
const FALSE = ['false', 'no', 'n', '0'];
const boolean = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  return TRUE.includes(word) ? true : FALSE.includes(word) ? false : value;
}, z.boolean({ message: 'not true or false (true, false, yes, no)' }));
const date = z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'not a date (YYYY-MM-DD)' })
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), { message: 'not a calendar date' });
const month = z.string().trim().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'not a month (YYYY-MM)' });
const currency = z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, { message: 'not an ISO 4217 currency code' });
const amountMinor = integer(0, MAX_AMOUNT_MINOR).describe('integer minor units (cents)');
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((value) => (typeof value === 'string' ? value.trim() : value), z.enum(values, { message: `one of: ${values.join(', ')}` }));

/** The cell parsers, required and optional: `cells.text(200)`, `cells.optional.email`. */
export const cells = {
  text: (max: number) => required(text(max)),
  integer: (min: number, max: number) => required(integer(min, max)),
  boolean: required(boolean),
  date: required(date),
  month: required(month),
  currency: required(currency),
  amountMinor: required(amountMinor),
  email: required(emailAddress),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) => required(oneOf(values)),
  optional: {
    text: (max: number) => optional(text(max)),
    integer: (min: number, max: number) => optional(integer(min, max)),
    boolean: optional(boolean),
    date: optional(date),
    email: optional(emailAddress),
    amountMinor: optional(amountMinor),
    oneOf: <const T extends readonly [string, ...string[]]>(values: T) => optional(oneOf(values)),
  },
};

/** The problems of a failed parse, one per column, naming the value given. */
export function problemsOf(error: z.ZodError, given: Record<string, unknown>): ColumnProblem[] {
  return error.issues.map((issue) => {
    const column = issue.path.length > 0 ? issue.path.map(String).join('.') : '(row)';
    const value = issue.path.length > 0 ? given[String(issue.path[0])] : undefined;
    return { column, value: value ?? null, reason: issue.message };
  });
}

/**
 * The columns of a row that differ between what is stored and what is given, compared as JSON
 * (both sides parsed by the same schema first, so "10" and 10 are the same).
 */
export function changedColumns(columns: readonly string[], stored: Record<string, unknown>, given: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const column of columns) {
    const from = stored[column] ?? null;
    const to = given[column] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[column] = { from, to };
  }
  return changes;
}
