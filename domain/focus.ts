/**
 * What a row of a cloud bill in FOCUS (the FinOps Open Cost and Usage Specification, 1.0 to 1.2) is,
 * as AWS Data Exports, Azure Cost Management exports, Google Cloud's BigQuery FOCUS view and Oracle's
 * OCI FOCUS reports write it: which of a file's columns hold the fields assetflow keeps, which FOCUS
 * version the column set is, and whether a row's values make a cost line, with every problem of a
 * refused row named by its FOCUS column. Pure, so the intake (which reads files with DuckDB), its
 * tests and the bench judge a row alike.
 *
 * Costs stay exact decimal text end to end: providers write plain decimals, and AWS writes its
 * doubles in scientific notation (`1.2E-7`), which is turned into plain decimal text with bigint
 * arithmetic, never through a float, and never rounded.
 */
import { MAX_DECIMAL_PLACES, formatDecimal, type ExactDecimal } from './cost-allocation';

export const FOCUS_VERSIONS = ['1.0', '1.1', '1.2'] as const;
export type FocusVersion = (typeof FOCUS_VERSIONS)[number];

/** The fields assetflow keeps (cost_import_rows' columns, camelCase). */
export type FocusField = 'billingPeriodStart' | 'billingPeriodEnd' | 'chargePeriodStart' | 'chargePeriodEnd'
  | 'chargeCategory' | 'chargeClass' | 'chargeDescription' | 'providerName' | 'publisherName' | 'invoiceIssuerName'
  | 'billingAccountId' | 'subAccountId' | 'serviceName' | 'serviceCategory' | 'resourceId' | 'resourceName'
  | 'resourceType' | 'regionName' | 'billedCost' | 'effectiveCost' | 'listCost' | 'contractedCost'
  | 'consumedQuantity' | 'billingCurrency' | 'tags';

/** Each field's column as the FOCUS specification (1.0 to 1.2) names it; problems name the column so. */
export const FOCUS_COLUMN_OF: Readonly<Record<FocusField, string>> = {
  billingPeriodStart: 'BillingPeriodStart',
  billingPeriodEnd: 'BillingPeriodEnd',
  chargePeriodStart: 'ChargePeriodStart',
  chargePeriodEnd: 'ChargePeriodEnd',
  chargeCategory: 'ChargeCategory',
  chargeClass: 'ChargeClass',
  chargeDescription: 'ChargeDescription',
  providerName: 'ProviderName',
  publisherName: 'PublisherName',
  invoiceIssuerName: 'InvoiceIssuerName',
  billingAccountId: 'BillingAccountId',
  subAccountId: 'SubAccountId',
  serviceName: 'ServiceName',
  serviceCategory: 'ServiceCategory',
  resourceId: 'ResourceId',
  resourceName: 'ResourceName',
  resourceType: 'ResourceType',
  regionName: 'RegionName',
  billedCost: 'BilledCost',
  effectiveCost: 'EffectiveCost',
  listCost: 'ListCost',
  contractedCost: 'ContractedCost',
  consumedQuantity: 'ConsumedQuantity',
  billingCurrency: 'BillingCurrency',
  tags: 'Tags',
};

const FOCUS_FIELDS = Object.keys(FOCUS_COLUMN_OF) as FocusField[];

/**
 * Other names a field's column goes by, used only when the file lacks the specification's name:
 * Oracle's OCI FOCUS reports still write the 1.0-preview names (Provider, Publisher, InvoiceIssuer,
 * Region, UsageQuantity), and FOCUS 1.3 renames ProviderName to ServiceProviderName.
 */
const OTHER_NAMES: Partial<Record<FocusField, readonly string[]>> = {
  providerName: ['ServiceProviderName', 'Provider'],
  publisherName: ['Publisher'],
  invoiceIssuerName: ['InvoiceIssuer'],
  regionName: ['Region'],
  consumedQuantity: ['UsageQuantity'],
};

/** Without these a row is not a cost line assetflow can place: what, whose, when and how much. */
export const REQUIRED_FOCUS_FIELDS: readonly FocusField[] = [
  'billedCost', 'effectiveCost', 'billingCurrency', 'billingPeriodStart', 'billingPeriodEnd',
  'chargePeriodStart', 'chargePeriodEnd', 'chargeCategory', 'providerName', 'serviceName',
];

/**
 * The columns each version added (the specification's changelog). A version is the file's when most
 * of its added columns are there, not any one: Azure's FOCUS 1.0 export already carries
 * BillingAccountType and SubAccountType, and its 1.2-preview export leaves out three of the
 * PricingCurrency… columns.
 */
const COLUMNS_ADDED_IN: readonly { version: FocusVersion; columns: readonly string[] }[] = [
  {
    version: '1.2',
    columns: ['BillingAccountType', 'InvoiceId', 'PricingCurrency', 'PricingCurrencyContractedUnitPrice',
      'PricingCurrencyEffectiveCost', 'PricingCurrencyListUnitPrice', 'SubAccountType'],
  },
  {
    version: '1.1',
    columns: ['CapacityReservationId', 'CapacityReservationStatus', 'CommitmentDiscountQuantity',
      'CommitmentDiscountUnit', 'ServiceSubcategory', 'SkuMeter', 'SkuPriceDetails'],
  },
];

export interface FocusHeader {
  version: FocusVersion;
  /** The file's column (as the file spells it) holding each field it has. */
  columnOf: Partial<Record<FocusField, string>>;
  /** The file's other columns: vendor columns (x_…, oci_…) and the FOCUS columns assetflow does not keep. */
  ignored: string[];
}

const columnKey = (name: string) => name.replace(/^\uFEFF/, '').trim().toLowerCase();

/**
 * The file's column names → which column holds each field, and the FOCUS version the set matches;
 * or the required fields missing (named as FOCUS names them). Names match whatever their case; when
 * two columns could hold a field, the specification's name wins, then the first in the file.
 */
export function readFocusHeader(columnNames: readonly string[]): { header: FocusHeader } | { missing: string[] } {
  const firstByKey = new Map<string, string>();
  for (const name of columnNames) if (!firstByKey.has(columnKey(name))) firstByKey.set(columnKey(name), name);

  const columnOf: Partial<Record<FocusField, string>> = {};
  const used = new Set<string>();
  for (const field of FOCUS_FIELDS) {
    const found = [FOCUS_COLUMN_OF[field], ...(OTHER_NAMES[field] ?? [])]
      .map((name) => firstByKey.get(columnKey(name)))
      .find((name) => name !== undefined);
    if (found === undefined) continue;
    columnOf[field] = found;
    used.add(found);
  }

  const missing = REQUIRED_FOCUS_FIELDS.filter((field) => columnOf[field] === undefined).map((field) => FOCUS_COLUMN_OF[field]);
  if (missing.length > 0) return { missing };

  const present = new Set(firstByKey.keys());
  const version = COLUMNS_ADDED_IN.find(({ columns }) => columns.filter((name) => present.has(columnKey(name))).length * 2 > columns.length)?.version ?? '1.0';
  return { header: { version, columnOf, ignored: columnNames.filter((name) => !used.has(name)) } };
}

/** A row's values by field (text as read; null when empty or absent). */
export type FocusValues = Partial<Record<FocusField, string | null>>;

type RequiredText = 'billingPeriodStart' | 'billingPeriodEnd' | 'chargePeriodStart' | 'chargePeriodEnd' | 'chargeCategory'
  | 'providerName' | 'serviceName' | 'billedCost' | 'effectiveCost' | 'billingCurrency';

/**
 * A checked cost line: costs and the quantity as exact decimal text, every place kept; timestamps
 * ISO 8601 in UTC (`2024-01-01T00:00:00Z`, a fraction of a second kept when not zero); ChargeCategory
 * and ChargeClass in the specification's spelling; the currency upper case; other text trimmed.
 */
export type FocusLine = { [F in RequiredText]: string } & { [F in Exclude<FocusField, RequiredText | 'tags'>]: string | null } & {
  tags: Record<string, string>;
};

export interface RowProblem {
  /** The FOCUS column name, e.g. 'BilledCost'. */
  column: string;
  reason: string;
}

export const CHARGE_CATEGORIES = ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'] as const;
const CHARGE_CLASS_CORRECTION = 'Correction';

export const MAX_TEXT_CHARACTERS = 2000;
export const MAX_TAGS = 200;
export const MAX_TAGS_BYTES = 16 * 1024;
/** Costs stay under 10^15 in magnitude: far above any line item, and a month's sum stays well inside numeric. */
const MAX_WHOLE_DIGITS = 15;
/** Longer than this is not a value any provider writes (33 significant digits plus sign, point and exponent fit). */
const MAX_NUMBER_CHARACTERS = 100;
/** Fractions of a second finer than Postgres keeps (microseconds) are refused rather than cut. */
const MAX_SECOND_FRACTION_DIGITS = 6;
const EARLIEST_YEAR = 1970;
const LATEST_YEAR = 9999;

/** A value as a reason shows it: quoted, and cut so a refusal report stays small. */
const shown = (text: string) => `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;

const hasControlCharacter = (text: string) => {
  for (let at = 0; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
};

const NUMBER = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A FOCUS number ("12.3400056", "-3.5e2", "1.2E-7") exactly, or why not. Places as written are kept
 * ("1.500" stays "1.500"); an exponent moves the point. More than 18 places, or 10^15 or more in
 * magnitude, is refused, never rounded (zeros beyond the 18th place hold no value and are dropped).
 */
export function readFocusNumber(text: string): { value: ExactDecimal } | { reason: string } {
  const trimmed = text.trim();
  const match = trimmed.length <= MAX_NUMBER_CHARACTERS ? NUMBER.exec(trimmed) : null;
  if (!match) return { reason: `not a number: ${shown(trimmed)}` };
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  const mantissa = BigInt(whole + fraction) * (sign === '-' ? -1n : 1n);
  const exponent = Number(exponentText);
  // A far exponent of a non-zero value is out of bounds either way; stopping here keeps 10n ** n small.
  if (mantissa !== 0n && exponent > MAX_NUMBER_CHARACTERS) return { reason: `too large: ${shown(trimmed)}` };
  if (mantissa !== 0n && exponent < -MAX_NUMBER_CHARACTERS) return { reason: `more than ${MAX_DECIMAL_PLACES} decimal places: ${shown(trimmed)}` };

  let units = mantissa;
  let scale = fraction.length - Math.max(-MAX_NUMBER_CHARACTERS, Math.min(MAX_NUMBER_CHARACTERS, exponent));
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  while (scale > MAX_DECIMAL_PLACES && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  if (scale > MAX_DECIMAL_PLACES) return { reason: `more than ${MAX_DECIMAL_PLACES} decimal places: ${shown(trimmed)}` };
  const magnitude = units < 0n ? -units : units;
  if (magnitude >= 10n ** BigInt(MAX_WHOLE_DIGITS + scale)) return { reason: `too large: ${shown(trimmed)} (must be under 10^${MAX_WHOLE_DIGITS})` };
  return { value: { units, scale } };
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?: ?(Z|UTC|[+-]\d{2}(?::?\d{2})?))?)?$/i;

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** An instant in canonical text, and in microseconds since 1970 to compare by. */
interface Instant {
  text: string;
  micros: bigint;
}

/**
 * A FOCUS date and time, or why not: ISO 8601 with Z or an offset (Azure's first 1.0 exports leave out
 * the seconds), DuckDB's text of a Parquet TIMESTAMP (`2024-01-01 00:00:00.123`) or TIMESTAMPTZ
 * (`…+00`), BigQuery's (`… UTC`), or a date alone; without a zone it is UTC, as FOCUS requires.
 */
export function readFocusInstant(text: string): { instant: Instant } | { reason: string } {
  // A bill repeats a few hundred instants over millions of rows: each is read once. Bounded.
  const known = instantsRead.get(text);
  if (known) return known;
  const read = instantOf(text);
  if (instantsRead.size >= INSTANTS_REMEMBERED) instantsRead.clear();
  instantsRead.set(text, read);
  return read;
}

const INSTANTS_REMEMBERED = 10_000;
const instantsRead = new Map<string, { instant: Instant } | { reason: string }>();

function instantOf(text: string): { instant: Instant } | { reason: string } {
  const trimmed = text.trim();
  const match = INSTANT.exec(trimmed);
  const refused = { reason: `not a date and time: ${shown(trimmed)}` };
  if (!match) return refused;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fractionText = '', zone = 'Z'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  if (year < EARLIEST_YEAR) return { reason: `out of range: ${shown(trimmed)}` };
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return refused;

  let offsetMinutes = 0;
  if (/^[+-]/.test(zone)) {
    const [, offsetHours, offsetRest = '0'] = /^[+-](\d{2}):?(\d{2})?$/.exec(zone)!;
    if (Number(offsetHours) > 23 || Number(offsetRest) > 59) return refused;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetRest));
  }
  const fraction = fractionText.replace(/0+$/, '');
  if (fraction.length > MAX_SECOND_FRACTION_DIGITS) return { reason: `finer than a microsecond: ${shown(trimmed)}` };

  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000);
  if (at.getUTCFullYear() < EARLIEST_YEAR || at.getUTCFullYear() > LATEST_YEAR) return { reason: `out of range: ${shown(trimmed)}` };
  const micros = BigInt(at.getTime()) * 1000n + BigInt(fraction.padEnd(MAX_SECOND_FRACTION_DIGITS, '0'));
  return { instant: { text: `${at.toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`, micros } };
}

/**
 * A FOCUS Tags value, or why not: a JSON object of keys to values (AWS, Azure, Oracle; numbers and
 * booleans become text, null the empty text, as a valueless tag carries true), or a JSON array of
 * {key, value} (Google's BigQuery export writes labels so); empty is no tags. Keys are kept as written.
 */
export function readFocusTags(text: string | null | undefined): { tags: Record<string, string> } | { reason: string } {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { tags: {} };
  if (trimmed.length > MAX_TAGS_BYTES || new TextEncoder().encode(trimmed).length > MAX_TAGS_BYTES) {
    return { reason: `larger than ${MAX_TAGS_BYTES / 1024} KB` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { reason: `not JSON: ${shown(trimmed)}` };
  }
  if (parsed === null) return { tags: {} };

  let pairs: [unknown, unknown][];
  if (Array.isArray(parsed)) {
    if (!parsed.every((entry) => typeof entry === 'object' && entry !== null && !Array.isArray(entry) && 'key' in entry)) {
      return { reason: 'a list that is not of {key, value} pairs' };
    }
    pairs = parsed.map((entry: { key: unknown; value?: unknown }) => [entry.key, entry.value ?? null]);
  } else if (typeof parsed === 'object') {
    pairs = Object.entries(parsed);
  } else {
    return { reason: `not a JSON object of tags: ${shown(trimmed)}` };
  }
  if (pairs.length > MAX_TAGS) return { reason: `more than ${MAX_TAGS} tags (${pairs.length})` };

  const tags = new Map<string, string>();
  for (const [key, value] of pairs) {
    if (typeof key !== 'string' || key === '') return { reason: 'a tag without a key' };
    if (hasControlCharacter(key)) return { reason: `the tag key ${shown(key)} contains a control character` };
    if (typeof value === 'object' && value !== null) return { reason: `the value of tag ${shown(key)} is not text` };
    const valueText = value === null ? '' : String(value);
    if (hasControlCharacter(valueText)) return { reason: `the value of tag ${shown(key)} contains a control character` };
    if (tags.has(key) && tags.get(key) !== valueText) return { reason: `tag ${shown(key)} is there twice with different values` };
    tags.set(key, valueText);
  }
  // fromEntries defines own properties, so a key such as __proto__ stays a plain key.
  return { tags: Object.fromEntries(tags) };
}

/** A row's values by field → the checked line, or every problem of the row (not only the first). */
export function checkFocusRow(values: FocusValues): { line: FocusLine } | { problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const problem = (field: FocusField, reason: string) => problems.push({ column: FOCUS_COLUMN_OF[field], reason });
  const given = (field: FocusField): string | null => {
    const value = values[field]?.trim();
    return value ? value : null;
  };

  const text = (field: FocusField, required = false): string | null => {
    const value = given(field);
    if (value === null) {
      if (required) problem(field, 'empty: it is required');
      return null;
    }
    if (value.length > MAX_TEXT_CHARACTERS) problem(field, 'longer than 2,000 characters');
    else if (hasControlCharacter(value)) problem(field, 'contains a control character');
    return value;
  };

  const amount = (field: FocusField, options: { required?: boolean; nonNegative?: boolean } = {}): string | null => {
    const value = given(field);
    if (value === null) {
      if (options.required) problem(field, 'empty: it is required');
      return null;
    }
    const read = readFocusNumber(value);
    if ('reason' in read) {
      problem(field, read.reason);
      return null;
    }
    if (options.nonNegative && read.value.units < 0n) {
      problem(field, `negative: ${shown(value)}`);
      return null;
    }
    return formatDecimal(read.value);
  };

  const instant = (field: FocusField): Instant | null => {
    const value = given(field);
    if (value === null) {
      problem(field, 'empty: it is required');
      return null;
    }
    const read = readFocusInstant(value);
    if ('reason' in read) {
      problem(field, read.reason);
      return null;
    }
    return read.instant;
  };

  const period = (startField: FocusField, endField: FocusField) => {
    const start = instant(startField);
    const end = instant(endField);
    if (start && end && end.micros < start.micros) problem(endField, `ends before it starts (${FOCUS_COLUMN_OF[startField]} ${start.text})`);
    else if (start && end && end.micros === start.micros) problem(endField, `ends when it starts (${start.text}): a period has length`);
    return [start, end] as const;
  };

  const [billingPeriodStart, billingPeriodEnd] = period('billingPeriodStart', 'billingPeriodEnd');
  const [chargePeriodStart, chargePeriodEnd] = period('chargePeriodStart', 'chargePeriodEnd');

  const categoryText = text('chargeCategory', true);
  const chargeCategory = categoryText === null ? null
    : CHARGE_CATEGORIES.find((category) => category.toLowerCase() === categoryText.toLowerCase()) ?? null;
  if (categoryText !== null && chargeCategory === null) problem('chargeCategory', `not a charge category (${CHARGE_CATEGORIES.join(', ')}): ${shown(categoryText)}`);

  const classText = text('chargeClass');
  if (classText !== null && classText.toLowerCase() !== CHARGE_CLASS_CORRECTION.toLowerCase()) {
    problem('chargeClass', `not a charge class (empty or ${CHARGE_CLASS_CORRECTION}): ${shown(classText)}`);
  }

  const currencyText = given('billingCurrency');
  const billingCurrency = currencyText === null ? null : currencyText.toUpperCase();
  if (billingCurrency === null) problem('billingCurrency', 'empty: it is required');
  else if (!/^[A-Z]{3}$/.test(billingCurrency)) problem('billingCurrency', `not a three-letter currency code: ${shown(currencyText!)}`);

  const tagsRead = readFocusTags(values.tags);
  if ('reason' in tagsRead) problem('tags', tagsRead.reason);

  const line = {
    billingPeriodStart: billingPeriodStart?.text,
    billingPeriodEnd: billingPeriodEnd?.text,
    chargePeriodStart: chargePeriodStart?.text,
    chargePeriodEnd: chargePeriodEnd?.text,
    chargeCategory,
    chargeClass: classText === null ? null : CHARGE_CLASS_CORRECTION,
    chargeDescription: text('chargeDescription'),
    providerName: text('providerName', true),
    publisherName: text('publisherName'),
    invoiceIssuerName: text('invoiceIssuerName'),
    billingAccountId: text('billingAccountId'),
    subAccountId: text('subAccountId'),
    serviceName: text('serviceName', true),
    serviceCategory: text('serviceCategory'),
    resourceId: text('resourceId'),
    resourceName: text('resourceName'),
    resourceType: text('resourceType'),
    regionName: text('regionName'),
    billedCost: amount('billedCost', { required: true }),
    effectiveCost: amount('effectiveCost', { required: true }),
    listCost: amount('listCost'),
    contractedCost: amount('contractedCost'),
    consumedQuantity: amount('consumedQuantity', { nonNegative: true }),
    billingCurrency,
    tags: 'tags' in tagsRead ? tagsRead.tags : {},
  };
  if (problems.length > 0) return { problems };
  // Every required field was read or named as a problem above, so none is missing here.
  return { line: line as FocusLine };
}

/** The records a cost import holds and a newer file of the same scope replaces. */
export interface FocusScope {
  providerName: string;
  /** '' when the provider names no billing account. */
  billingAccountId: string;
  billingPeriodStart: string;
}

export const focusScopeOf = (line: FocusLine): FocusScope => ({
  providerName: line.providerName,
  billingAccountId: line.billingAccountId ?? '',
  billingPeriodStart: line.billingPeriodStart,
});

/** One text per scope, unambiguous whatever the names contain (canonical timestamps make equal periods equal). */
export const focusScopeKey = (scope: FocusScope): string => JSON.stringify([scope.providerName, scope.billingAccountId, scope.billingPeriodStart]);
