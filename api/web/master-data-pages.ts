/**
 * Every list of master data (model/master-data) in the web UI: an index of the lists a person may
 * read, a list with search, sort, paging and retired records on request, a form that creates a
 * record, and a record's page (read-only, or for its writers an edit form carrying the version it
 * was read at, and retire). Who may read a list is the kind's, as in the JSON API: contracts,
 * entitlements and the estate's assets are for the overseers only. Nothing here knows one kind
 * from another: the form's fields and their widgets come from the kind's columns and zod schema,
 * and every write goes through the JSON API's own functions (api/routes/master-data.ts), so a form
 * is judged, refused and audited exactly as an API body or an import row is. A refusal comes back
 * as the API's problems, each shown next to its field and listed in a summary that takes the focus.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { IMPORT_FORMATS, cells, type ColumnProblem } from '../../domain/master-data';
import { MASTER_DATA } from '../../model/master-data';
import type { MasterDataKind, Row, Stored } from '../../model/master-data/kind';
import type { Page } from '../../model/page';
import { hasAnyRole, type Principal } from '../auth';
import { toHttpError, type HttpError } from '../errors';
import { createRecord, exportersOf, followEndOfTermDates, retireRecord, streamRows, updateRecord } from '../routes/master-data';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, pager, queryString, time, type Notice, type ViewContext } from './views';

/** Whether this person may read the kind's records: everyone signed in, unless the kind names its readers. */
const mayRead = (user: Principal, kind: MasterDataKind) => !kind.readers || hasAnyRole(user, kind.readers);

const kindRoutes = (kind: MasterDataKind): WebRoute[] => {
  const base = `/master-data/${kind.name}`;
  const readers = kind.readers ?? 'signed_in';
  return [
    { method: 'get', path: base, access: readers },
    { method: 'get', path: `${base}/export`, access: exportersOf(kind) },
    { method: 'get', path: `${base}/new`, access: kind.writers },
    { method: 'post', path: base, access: kind.writers },
    { method: 'get', path: `${base}/:ref`, access: readers },
    { method: 'post', path: `${base}/:ref`, access: kind.writers },
    { method: 'post', path: `${base}/:ref/retire`, access: kind.writers },
  ];
};

/**
 * Reading is for each kind's readers: everyone signed in for most (a requester looks up the codes a
 * request needs), the overseers for contracts, entitlements and assets; writing for its writers.
 */
export const MASTER_DATA_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/master-data', access: 'signed_in' },
  ...[...MASTER_DATA.values()].flatMap(kindRoutes),
];

// ---------------------------------------------------------------------------------------------
// Fields: one per column, its widget read from the kind's schema
// ---------------------------------------------------------------------------------------------

type Widget =
  | { type: 'text' | 'email'; maxLength?: number }
  | { type: 'date' | 'month' }
  | { type: 'number'; min?: number; max?: number }
  | { type: 'select'; options: [value: string, text: string][] }
  /** Objects and arrays, as JSON text: what a CSV cell of that column holds. */
  | { type: 'json' };

interface Field {
  column: string;
  label: string;
  key: boolean;
  /** The database numbers new records: a new record's form may leave it empty. */
  assigned: boolean;
  required: boolean;
  hint?: string;
  widget: Widget;
}

type JsonSchema = {
  type?: string | string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  description?: string;
};

/**
 * A cell's schema as JSON Schema without its "no value" branch. Cells take text and JSON alike
 * (a preprocess), so both sides are read: the input side knows a column that is transformed
 * after parsing (codes upper-cased), the output side the formats (email).
 */
function cellSchemaOf(schema: z.ZodType): JsonSchema {
  const side = (io: 'input' | 'output'): JsonSchema => {
    try {
      const whole = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
      const branch = whole.anyOf?.find((s) => s.type !== 'null') ?? whole;
      return Array.isArray(branch.type) ? { ...branch, type: branch.type.find((t) => t !== 'null') } : branch;
    } catch {
      return {};
    }
  };
  return { ...side('input'), ...side('output') };
}

const DATE_PATTERN = cellSchemaOf(cells.date).pattern;
const MONTH_PATTERN = cellSchemaOf(cells.month).pattern;

function widgetOf(cell: JsonSchema): Widget {
  if (cell.enum) return { type: 'select', options: cell.enum.map((value) => [String(value), label(String(value))]) };
  if (cell.type === 'boolean') return { type: 'select', options: [['true', 'yes'], ['false', 'no']] };
  if (cell.type === 'integer' || cell.type === 'number') return { type: 'number', min: cell.minimum, max: cell.maximum };
  if (cell.type === 'object' || cell.type === 'array') return { type: 'json' };
  if (cell.format === 'email') return { type: 'email', maxLength: cell.maxLength };
  if (cell.pattern && cell.pattern === DATE_PATTERN) return { type: 'date' };
  if (cell.pattern && cell.pattern === MONTH_PATTERN) return { type: 'month' };
  return { type: 'text', maxLength: cell.maxLength };
}

/** "ownerEmail" -> "Owner email". */
const columnLabel = (column: string) => {
  const words = column.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const fieldsByKind = new Map<MasterDataKind, Field[]>();

/** The kind's fields, key columns first. */
function fieldsOf(kind: MasterDataKind): Field[] {
  let fields = fieldsByKind.get(kind);
  if (fields) return fields;
  const shape = kind.schema.shape as Record<string, z.ZodType>;
  const ordered = [...kind.keyColumns, ...kind.columns.filter((column) => !kind.keyColumns.includes(column))];
  fields = ordered.map((column): Field => {
    const schema = shape[column];
    const cell = schema ? cellSchemaOf(schema) : {};
    const widget = widgetOf(cell);
    const key = kind.keyColumns.includes(column);
    const hints = [
      cell.description ? `${cell.description[0].toUpperCase()}${cell.description.slice(1)}.` : undefined,
      widget.type === 'json' ? 'JSON, as in an import file.' : widget.type === 'month' ? 'A month: YYYY-MM.' : undefined,
    ].filter((hint): hint is string => !!hint);
    return {
      column,
      label: columnLabel(column),
      key,
      assigned: key && !!kind.keyAssignedOnCreate,
      required: !!schema && !schema.safeParse(null).success,
      hint: hints.length ? hints.join(' ') : undefined,
      widget,
    };
  });
  fieldsByKind.set(kind, fields);
  return fields;
}

/** The first string of a form field or query parameter. */
const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

/** A form's values: column -> text, as a CSV cell would hold it. */
type FormValues = Record<string, string>;

function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const valuesOfRow = (kind: MasterDataKind, row: Row): FormValues => Object.fromEntries(kind.columns.map((column) => [column, textOf(row[column])]));

/** The columns a form sent; anything else in it (csrf, version) is not a column. */
function valuesOfForm(kind: MasterDataKind, body: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const column of kind.columns) {
    const value = str(body[column]);
    if (value !== undefined) values[column] = value;
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

const listHref = (kind: MasterDataKind) => `/ui/master-data/${kind.name}`;
/** A record's page; by id when its ref would read as another page of the list ("new", "export"). */
const recordHref = (kind: MasterDataKind, stored: Stored) =>
  `${listHref(kind)}/${encodeURIComponent(['new', 'export'].includes(stored.ref.toLowerCase()) ? stored.id : stored.ref)}`;

/** What a record is called on its page: its key, and its name when that is not the key. */
function recordTitle(kind: MasterDataKind, stored: Stored): string {
  const key = kind.keyColumns.map((column) => textOf(stored.row[column])).filter(Boolean).join(' · ') || stored.ref;
  const name = !kind.keyColumns.includes('name') && textOf(stored.row.name);
  return name ? `${key} — ${name}` : key;
}

const fieldId = (column: string) => `f-${column}`;

/** The column a problem is about, when it is one of the form's fields ("documents.0" is about documents). */
const fieldOf = (fields: Field[], problem: ColumnProblem) => fields.find((f) => f.column === problem.column.split('.')[0]);

const reasonText = (problem: ColumnProblem) =>
  `${problem.reason}${problem.value !== undefined && problem.value !== null && problem.value !== '' ? ` (given: ${textOf(problem.value)})` : ''}`;

/** The problems at the top of a refused form, each linking to its field; it takes the focus when the page loads. */
function errorSummary(fields: Field[], problems: ColumnProblem[]): SafeHtml {
  if (!problems.length) return html``;
  const items = problems.map((problem) => {
    const field = fieldOf(fields, problem);
    return field
      ? html`<li><a href="#${fieldId(field.column)}">${field.label}: ${reasonText(problem)}</a></li>`
      : html`<li>${problem.column === '(row)' ? 'The record' : problem.column}: ${reasonText(problem)}</li>`;
  });
  return html`<div class="notice error" id="error-summary" role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title">
<h2 id="error-summary-title">Nothing was saved: ${problems.length === 1 ? 'there is a problem' : `there are ${problems.length} problems`}</h2>
<ul>${items}</ul>
</div>`;
}

function control(field: Field, value: string, attributes: SafeHtml): SafeHtml {
  const w = field.widget;
  switch (w.type) {
    case 'select': {
      const options: [string, string][] = [...w.options];
      if (value && !options.some(([v]) => v === value)) options.push([value, value]);
      const blank = field.required ? (value ? null : 'choose one') : 'none';
      return html`<select${attributes}>${blank !== null && html`<option value="">${blank}</option>`}${options.map(([v, text]) => html`<option value="${v}"${v === value && html` selected`}>${text}</option>`)}</select>`;
    }
    case 'json':
      return html`<textarea${attributes} rows="4">${value}</textarea>`;
    case 'number':
      return html`<input${attributes} type="number" step="1"${w.min !== undefined && html` min="${w.min}"`}${w.max !== undefined && html` max="${w.max}"`} value="${value}">`;
    case 'date':
    case 'month':
      return html`<input${attributes} type="${w.type}" value="${value}">`;
    default:
      return html`<input${attributes} type="${w.type}" size="40"${w.maxLength !== undefined && html` maxlength="${w.maxLength}"`} value="${value}">`;
  }
}

/** One field: its label (key columns marked), hint, the problems with it, and the control. */
function fieldHtml(field: Field, value: string, problems: ColumnProblem[], creating: boolean): SafeHtml {
  const id = fieldId(field.column);
  const hint = [creating && field.assigned && 'Leave it empty and one is assigned.', field.hint].filter(Boolean).join(' ');
  const hintId = hint && `${id}-hint`;
  const errorId = problems.length > 0 && `${id}-error`;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ');
  const attributes = html` id="${id}" name="${field.column}"${field.required && html` required`}${describedBy && html` aria-describedby="${describedBy}"`}${errorId && html` aria-invalid="true"`}`;
  return html`<div class="field">
<label for="${id}">${field.label}${field.key && html` <span class="meta">(key)</span>`}${!field.required && html` <span class="meta">(optional)</span>`}</label>
${hintId && html`<p id="${hintId}" class="meta">${hint}</p>`}
${errorId && html`<p id="${errorId}" class="breached">${problems.map(reasonText).join('; ')}</p>`}
${control(field, value, attributes)}
</div>`;
}

function fieldsHtml(kind: MasterDataKind, values: FormValues, problems: ColumnProblem[], creating: boolean): SafeHtml {
  const fields = fieldsOf(kind);
  const problemsOf = (field: Field) => problems.filter((p) => fieldOf(fields, p) === field);
  const keys = fields.filter((f) => f.key);
  const others = fields.filter((f) => !f.key);
  return html`<fieldset><legend>Key <span class="meta">(names the record; an import matches on it)</span></legend>
${join(keys.map((f) => fieldHtml(f, values[f.column] ?? '', problemsOf(f), creating)), '\n')}
</fieldset>
${join(others.map((f) => fieldHtml(f, values[f.column] ?? '', problemsOf(f), creating)), '\n')}`;
}

function indexPage(ctx: ViewContext, kinds: MasterDataKind[]): SafeHtml {
  const rows = kinds.filter((kind) => mayRead(ctx.user, kind))
    .map((kind) => html`<li><a href="${listHref(kind)}">${kind.title}</a>${hasAnyRole(ctx.user, kind.writers) && html` <span class="meta">(you may edit them)</span>`}</li>`);
  return layout(ctx, 'Master data', html`<h1>Master data</h1>
<p>The estate, the money and the catalogue that requests and changes refer to: here are the lists you may read. Each list says who keeps it.</p>
<ul>${rows}</ul>`);
}

const listQuery = z.object({
  q: z.string().trim().max(100).catch(''),
  sort: z.string().catch(''),
  includeRetired: z.enum(['', 'yes']).catch(''),
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});
type ListValues = z.output<typeof listQuery>;

function listPage(ctx: ViewContext, kind: MasterDataKind, input: { values: ListValues; result: Page<Stored> }): SafeHtml {
  const fields = fieldsOf(kind);
  const { values, result } = input;
  const action = listHref(kind);
  const sorts: [string, string][] = [['', 'the usual order'], ...kind.sortColumns.flatMap((column): [string, string][] => [
    [column, `${columnLabel(column)}, ascending`], [`-${column}`, `${columnLabel(column)}, descending`],
  ])];
  const filters = html`<form class="filters" method="get" action="${action}" role="search" aria-label="${`Search ${kind.title.toLowerCase()}`}">
<div><label for="f-q">Search</label><input id="f-q" name="q" type="search" value="${values.q}" maxlength="100"></div>
<div><label for="f-sort">Sort by</label><select id="f-sort" name="sort">${sorts.map(([value, text]) => html`<option value="${value}"${values.sort === value && html` selected`}>${text}</option>`)}</select></div>
<div class="check"><input id="f-retired" name="includeRetired" type="checkbox" value="yes"${values.includeRetired === 'yes' && html` checked`}> <label for="f-retired">Include retired</label></div>
<div><button type="submit">Search</button> <a href="${action}">Clear</a></div>
</form>`;
  const rows = result.items.map((stored) => {
    const [first, ...rest] = fields;
    return html`<tr>
<th scope="row"><a href="${recordHref(kind, stored)}">${textOf(stored.row[first.column]) || stored.ref}</a></th>
${join(rest.map((f) => html`<td${f.widget.type === 'number' && html` class="num"`}>${textOf(stored.row[f.column])}</td>`))}
<td>${stored.retiredAt ? html`<span class="breached">retired</span> ${time(stored.retiredAt, ctx.timeZone)}` : 'in use'}</td>
</tr>`;
  });
  const table = rows.length
    ? html`<table><caption class="sr-only">${kind.title}</caption>
<thead><tr>${fields.map((f) => html`<th scope="col"${f.widget.type === 'number' && html` class="num"`}>${f.label}</th>`)}<th scope="col">Status</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>Nothing matches.</p>`;
  const writer = hasAnyRole(ctx.user, kind.writers);
  const exporter = hasAnyRole(ctx.user, exportersOf(kind));
  const actions = [
    writer && html`<a href="${`${action}/new`}">New record</a>`,
    writer && html`<a href="${`/ui/imports/new${queryString({ kind: kind.name })}`}">Import a file</a>`,
    exporter && html`<a href="${`${action}/export?format=csv`}">Export CSV</a>`,
    exporter && html`<a href="${`${action}/export?format=jsonl`}">Export JSON lines</a>`,
  ].filter((a): a is SafeHtml => !!a);
  return layout(ctx, kind.title, html`<p class="meta"><a href="/ui/master-data">← Master data</a></p>
<h1>${kind.title}</h1>
<p class="meta">Kept by: ${kind.writers.map(label).join(', ')}.${kind.readers && ` Read by: ${kind.readers.map(label).join(', ')}.`} A record is named by its ${kind.keyColumns.map(columnLabel).join(' and ').toLowerCase()}.</p>
${actions.length > 0 && html`<p class="actions">${join(actions, ' ')}</p>`}
${filters}
<p role="status">${result.page.total} ${result.page.total === 1 ? 'record matches' : 'records match'}.</p>
${table}
${pager(result.page, action, { q: values.q || undefined, sort: values.sort || undefined, includeRetired: values.includeRetired || undefined })}`);
}

function newRecordPage(ctx: ViewContext, kind: MasterDataKind, input: { values: FormValues; problems: ColumnProblem[] }): SafeHtml {
  const title = `New record: ${kind.title.toLowerCase()}`;
  return layout(ctx, title, html`<p class="meta"><a href="${listHref(kind)}">← ${kind.title}</a></p>
<h1>${title}</h1>
${errorSummary(fieldsOf(kind), input.problems)}
<form method="post" action="${listHref(kind)}" novalidate>
${csrfField(ctx.csrf)}
${fieldsHtml(kind, input.values, input.problems, true)}
<div class="actions"><button type="submit">Create</button></div>
</form>`);
}

interface RecordView {
  stored: Stored;
  /** The edit form's values: the record's, or what was typed into a refused form. */
  values: FormValues;
  /** The version the edit form carries. */
  version: number;
  problems: ColumnProblem[];
  notice?: Notice;
}

function recordPage(ctx: ViewContext, kind: MasterDataKind, view: RecordView): SafeHtml {
  const { stored } = view;
  const fields = fieldsOf(kind);
  const title = recordTitle(kind, stored);
  const href = recordHref(kind, stored);
  const writer = hasAnyRole(ctx.user, kind.writers);
  const summary = html`<dl class="summary">
${join(fields.map((f) => html`<dt>${f.label}${f.key && html` <span class="meta">(key)</span>`}</dt><dd>${textOf(stored.row[f.column]) || html`<span class="meta">none</span>`}</dd>`), '\n')}
<dt>Status</dt><dd id="record-status">${stored.retiredAt ? html`<span class="breached">retired</span> ${time(stored.retiredAt, ctx.timeZone)}` : 'in use'}</dd>
<dt>Version</dt><dd id="record-version">${stored.version}</dd>
</dl>`;
  const edit = writer && !stored.retiredAt && html`<section aria-labelledby="edit-heading"><h2 id="edit-heading">Edit</h2>
<form method="post" action="${href}" novalidate>
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${view.version}">
${fieldsHtml(kind, view.values, view.problems, false)}
<div class="actions"><button type="submit">Save</button></div>
</form></section>
<section aria-labelledby="retire-heading"><h2 id="retire-heading">Retire</h2>
<p>A retired record is kept for what refers to it, but left out of lists, exports and new requests. It cannot be edited afterwards.</p>
<form method="post" action="${`${href}/retire`}">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${stored.version}">
<div class="check"><input id="confirm-retire" name="confirm" type="checkbox" value="yes" required> <label for="confirm-retire">Yes, retire ${title}</label></div>
<div class="actions"><button type="submit" class="reject">Retire</button></div>
</form></section>`;
  return layout(ctx, title, html`<p class="meta"><a href="${listHref(kind)}">← ${kind.title}</a></p>
<h1>${title}</h1>
${kind.name === 'assets' && html`<p><a href="${`/ui/assets/${encodeURIComponent(stored.id)}`}">Its lifecycle page: state, history, licences, costs, and the moves it can make</a></p>`}
${notice(view.notice)}
${errorSummary(fields, view.problems)}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">As stored</h2>${summary}</section>
${edit}
${writer && stored.retiredAt && html`<p>This record is retired: it is kept as it was and cannot be edited.</p>`}`);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/** Refusals a form shows next to itself; anything else (a 5xx) goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = toHttpError(error);
  if (!known || known.status >= 500) throw error;
  return known;
}

/** A refusal as problems with the form: the API's own, or one on the key for a duplicate. */
function problemsOfRefusal(kind: MasterDataKind, values: FormValues, known: HttpError): ColumnProblem[] {
  const problems = (known.details as { problems?: ColumnProblem[] } | undefined)?.problems;
  if (Array.isArray(problems) && problems.length > 0) return problems;
  if (known.code === 'already_exists') return [{ column: kind.keyColumns[0], value: values[kind.keyColumns[0]], reason: known.message }];
  return [{ column: '(row)', reason: known.message }];
}

const staleNotice = (known: HttpError): Notice => ({
  kind: 'error',
  text: `This record was changed since you read it (it is now at version ${(known.details as { currentVersion?: number } | undefined)?.currentVersion ?? '?'}), so nothing was saved. Here are its current values: make your change again.`,
});

const versionField = z.coerce.number().int().min(1).max(2 ** 31 - 1);
const retireForm = z.object({ confirm: z.literal('yes'), version: versionField });
const exportQuery = z.object({ format: z.enum(IMPORT_FORMATS).catch('csv') });

const DONE: Record<string, string> = {
  created: 'Created.',
  saved: 'Saved.',
  unchanged: 'Nothing was different, so nothing was changed.',
  retired: 'Retired: it is kept for what refers to it.',
};

export function registerMasterDataPages(router: Router, kit: WebKit): void {
  router.get('/master-data', async (_req, res) => {
    const ctx = await kit.context(res, 'master-data');
    sendHtml(res, 200, indexPage(ctx, [...MASTER_DATA.values()]));
  });
  for (const kind of MASTER_DATA.values()) registerKind(router, kit, kind);
}

function registerKind(router: Router, kit: WebKit, kind: MasterDataKind): void {
  const { db } = kit.deps;
  const base = `/master-data/${kind.name}`;

  /**
   * The page context for one of `roles`, or a 403 page (and undefined) for anyone else, leading
   * back to the list, or to the index for whoever may not read the list either.
   */
  async function contextFor(res: Response, roles: readonly Role[], what: string): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'master-data');
    if (hasAnyRole(ctx.user, roles)) return ctx;
    const back: [string, string] = mayRead(ctx.user, kind) ? [listHref(kind), kind.title] : ['/ui/master-data', 'Master data'];
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', `${what} ${kind.title.toLowerCase()} is for: ${roles.map(label).join(', ')}. Nothing was changed.`, [back]));
    return undefined;
  }
  const writerContext = (res: Response) => contextFor(res, kind.writers, 'Changing');
  const readerContext = (res: Response) => (kind.readers ? contextFor(res, kind.readers, 'Reading') : kit.context(res, 'master-data'));

  const notFound = (res: Response, ctx: ViewContext) =>
    sendHtml(res, 404, errorPage(ctx, 'Not found', `There is no such record among the ${kind.title.toLowerCase()}; nothing was changed.`, [[listHref(kind), kind.title]]));

  /** The record of the path, or a 404 page (and undefined). */
  async function recordOf(req: Request, res: Response, ctx: ViewContext): Promise<Stored | undefined> {
    const stored = await kind.findByRef(db, String(req.params.ref), false);
    if (!stored) notFound(res, ctx);
    return stored ?? undefined;
  }

  const show = (res: Response, ctx: ViewContext, status: number, stored: Stored, extra: Partial<RecordView> = {}) =>
    sendHtml(res, status, recordPage(ctx, kind, { stored, values: valuesOfRow(kind, stored.row), version: stored.version, problems: [], ...extra }));

  router.get(base, async (req, res) => {
    const ctx = await readerContext(res);
    if (!ctx) return;
    const values = listQuery.parse({
      q: str(req.query.q) ?? '', sort: str(req.query.sort) ?? '', includeRetired: str(req.query.includeRetired) ?? '',
      limit: str(req.query.limit), offset: str(req.query.offset),
    });
    const sort = kind.sortColumns.includes(values.sort.replace(/^-/, '')) ? values.sort : '';
    const result = await kind.list(db, { q: values.q || undefined, sort: sort || undefined, includeRetired: values.includeRetired === 'yes' }, values);
    sendHtml(res, 200, listPage(ctx, kind, { values: { ...values, sort }, result }));
  });

  router.get(`${base}/export`, async (req, res) => {
    if (!(await contextFor(res, exportersOf(kind), 'Exporting'))) return;
    await streamRows(res, kind, kind.exportRows(db), exportQuery.parse({ format: str(req.query.format) }).format);
  });

  router.get(`${base}/new`, async (_req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    sendHtml(res, 200, newRecordPage(ctx, kind, { values: {}, problems: [] }));
  });

  router.post(base, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = valuesOfForm(kind, req.body ?? {});
    try {
      const stored = await createRecord(db, kind, values, ctx.user.email, 'web');
      res.redirect(303, `${recordHref(kind, stored)}${queryString({ done: 'created' })}`);
    } catch (error) {
      const known = refusalOf(error);
      sendHtml(res, known.status, newRecordPage(ctx, kind, { values, problems: problemsOfRefusal(kind, values, known) }));
    }
  });

  router.get(`${base}/:ref`, async (req, res) => {
    const ctx = await readerContext(res);
    if (!ctx) return;
    const stored = await recordOf(req, res, ctx);
    if (!stored) return;
    const done = DONE[str(req.query.done) ?? ''];
    show(res, ctx, 200, stored, { notice: done ? { kind: 'ok', text: done } : undefined });
  });

  router.post(`${base}/:ref`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const stored = await recordOf(req, res, ctx);
    if (!stored) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const version = versionField.safeParse(str(body.version));
    if (!version.success) {
      show(res, ctx, 400, stored, { notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the form below and save again.' } });
      return;
    }
    const values = valuesOfForm(kind, body);
    try {
      const saved = await updateRecord(db, kind, stored.id, [version.data], values, ctx.user.email, 'web');
      await followEndOfTermDates(kit.deps.temporal, kind, values, saved);
      res.redirect(303, `${recordHref(kind, saved)}${queryString({ done: saved.version === version.data ? 'unchanged' : 'saved' })}`);
    } catch (error) {
      const known = refusalOf(error);
      const current = await kind.findByRef(db, stored.id, false);
      if (!current) {
        notFound(res, ctx);
        return;
      }
      if (known.code === 'version_mismatch') {
        show(res, ctx, 412, current, { notice: staleNotice(known) });
        return;
      }
      show(res, ctx, known.status, current, { values: { ...valuesOfRow(kind, current.row), ...values }, version: version.data, problems: problemsOfRefusal(kind, values, known) });
    }
  });

  router.post(`${base}/:ref/retire`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const stored = await recordOf(req, res, ctx);
    if (!stored) return;
    const form = retireForm.safeParse({ confirm: str(req.body?.confirm), version: str(req.body?.version) });
    if (!form.success) {
      show(res, ctx, 400, stored, { notice: { kind: 'error', text: `Nothing was changed: tick "Yes, retire ${recordTitle(kind, stored)}" and press Retire.` } });
      return;
    }
    try {
      const retired = await retireRecord(db, kind, stored.id, [form.data.version], ctx.user.email, 'web');
      res.redirect(303, `${recordHref(kind, retired)}${queryString({ done: 'retired' })}`);
    } catch (error) {
      const known = refusalOf(error);
      const current = (await kind.findByRef(db, stored.id, false)) ?? stored;
      show(res, ctx, known.status, current, {
        notice: known.code === 'version_mismatch' ? staleNotice(known) : { kind: 'error', text: `Not retired: ${known.message}` },
      });
    }
  });
}
