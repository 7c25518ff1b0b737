/**
 * What an inventory feed may send and how its rules are edited (issue 16): the columns a batch's
 * CSV header may name, the bounds of a batch's key and observation time, and the shapes of the
 * identification rules, reconciliation rules and sources as people edit them. Pure; shared by the
 * JSON API, the web pages and the watched folder, so each refuses the same input with the same words.
 */
import { z } from 'zod';
import { DISCOVERABLE_CLASSES, IDENTIFYING_ATTRIBUTES, INVENTORY_COLUMNS, INVENTORY_SOURCES, RECONCILED_ATTRIBUTES } from './reconciliation';

/** Columns that name a record by themselves; a domain only narrows a host name. */
export const IDENTIFIER_COLUMNS = ['serialNumber', 'assetTag', 'cloudResourceId', 'hostname', 'macAddress'] as const;

export interface HeaderRefusal {
  message: string;
  details: { columns: readonly string[]; identifierColumns: readonly string[]; unknown?: string[]; repeated?: string[]; missing?: string[] };
}

/**
 * A batch's CSV header names inventory columns only, each once, with ciClass and at least one
 * column that identifies a record; answers why not, or undefined when it does.
 */
export function inventoryHeaderRefusal(header: readonly string[]): HeaderRefusal | undefined {
  const columns = header.map((column) => column.trim());
  const base = { columns: INVENTORY_COLUMNS, identifierColumns: IDENTIFIER_COLUMNS };
  const unknown = columns.filter((column) => !(INVENTORY_COLUMNS as readonly string[]).includes(column));
  if (unknown.length > 0) {
    return { message: `unknown column(s) ${unknown.map((c) => `"${c}"`).join(', ')}; inventory rows take: ${INVENTORY_COLUMNS.join(', ')}`, details: { ...base, unknown } };
  }
  const repeated = [...new Set(columns.filter((column, at) => columns.indexOf(column) !== at))];
  if (repeated.length > 0) return { message: `column(s) named twice: ${repeated.join(', ')}`, details: { ...base, repeated } };
  if (!columns.includes('ciClass')) {
    return { message: `the column ciClass is missing: each row says which class of record it reports (${DISCOVERABLE_CLASSES.join(', ')})`, details: { ...base, missing: ['ciClass'] } };
  }
  if (!IDENTIFIER_COLUMNS.some((column) => columns.includes(column))) {
    return {
      message: `no column identifies a record: name at least one of ${IDENTIFIER_COLUMNS.join(', ')}`,
      details: { ...base, missing: [...IDENTIFIER_COLUMNS] },
    };
  }
  return undefined;
}

/** How far ahead of this server's clock a source's clock may run. */
export const OBSERVED_AT_AHEAD_MS = 5 * 60_000;
/** The oldest observation a batch may report: older news would only be left alone by every rule. */
export const OBSERVED_AT_MAX_AGE_DAYS = 365;

/** Why a batch's observation time is refused (ahead of now, or older than a year), or undefined. */
export function observedAtRefusal(observedAt: string, now: Date): string | undefined {
  const at = Date.parse(observedAt);
  if (Number.isNaN(at)) return 'not an ISO instant with an offset (2026-11-29T08:00:00Z)';
  if (at > now.getTime() + OBSERVED_AT_AHEAD_MS) return `in the future (this server's clock says ${now.toISOString()}): a source reports what it has seen`;
  if (at < now.getTime() - OBSERVED_AT_MAX_AGE_DAYS * 86_400_000) return `more than ${OBSERVED_AT_MAX_AGE_DAYS} days ago: send what the source sees now`;
  return undefined;
}

/** A sender's name for a batch (a scan id, a file name): the same name again is the same batch. */
export const batchKeyInput = z.string().trim().min(1, { message: 'required' }).max(255, { message: 'at most 255 characters' });

export const inventorySourceName = z.enum(INVENTORY_SOURCES, { message: `one of: ${INVENTORY_SOURCES.join(', ')}` });
export const discoverableClass = z.enum(DISCOVERABLE_CLASSES, { message: `one of: ${DISCOVERABLE_CLASSES.join(', ')}` });

/** Most rules one class may have: each is a lookup per row. */
export const MAX_IDENTIFICATION_RULES = 12;

const identifyingAttribute = z.enum(IDENTIFYING_ATTRIBUTES, { message: `one of: ${IDENTIFYING_ATTRIBUTES.join(', ')}` });
const attributeSetKey = (attributes: readonly string[]) => [...attributes].sort().join('+');

/**
 * A class's identification rules as a whole, in priority order (the first is tried first): each a
 * set of identifying attributes matched together, active or not. At least one is active (without
 * one every row would be a new record), none names an attribute twice or is a domain alone (every
 * host of a domain would be one record), and no two name the same set.
 */
export const identificationRulesInput = z.strictObject({
  rules: z.array(z.strictObject({
    attributes: z.array(identifyingAttribute).min(1, { message: 'name at least one attribute' }),
    active: z.boolean().default(true),
  })).min(1, { message: 'a class needs at least one rule' }).max(MAX_IDENTIFICATION_RULES, { message: `at most ${MAX_IDENTIFICATION_RULES} rules` }),
}).superRefine((input, ctx) => {
  const seen = new Map<string, number>();
  input.rules.forEach((rule, at) => {
    if (new Set(rule.attributes).size !== rule.attributes.length) {
      ctx.addIssue({ code: 'custom', path: ['rules', at, 'attributes'], message: 'an attribute is named twice' });
    }
    if (rule.attributes.length > 0 && rule.attributes.every((attribute) => attribute === 'domain')) {
      ctx.addIssue({ code: 'custom', path: ['rules', at, 'attributes'], message: 'a domain alone names every host in it: add hostname' });
    }
    const key = attributeSetKey(rule.attributes);
    const first = seen.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', at, 'attributes'], message: `the same attributes as rule ${first + 1}` });
    else seen.set(key, at);
  });
  if (input.rules.length > 0 && !input.rules.some((rule) => rule.active)) ctx.addIssue({ code: 'custom', path: ['rules'], message: 'at least one rule must be active: without one every row would be a new record' });
});
export type IdentificationRulesInput = z.output<typeof identificationRulesInput>;

/** '*' is the rule for every attribute without one of its own. */
export const RECONCILIATION_ATTRIBUTES = ['*', ...RECONCILED_ATTRIBUTES] as const;
export const reconciliationAttribute = z.enum(RECONCILIATION_ATTRIBUTES, { message: `one of: ${RECONCILIATION_ATTRIBUTES.join(', ')}` });

/** Ten years: a longer staleness period is "never". */
export const MAX_STALENESS_DAYS = 3650;

const days = (min: number, max: number) => z.number({ message: 'not a whole number' }).int({ message: 'not a whole number' })
  .min(min, { message: `at least ${min}` }).max(max, { message: `at most ${max}` });

/** Which sources may set an attribute, strongest first, and after how many days a weaker one may change what a stronger one stopped confirming. */
export const reconciliationRuleInput = z.strictObject({
  sources: z.array(inventorySourceName).min(1, { message: 'name at least one source' })
    .refine((sources) => new Set(sources).size === sources.length, { message: 'a source is named twice' })
    .describe('strongest first'),
  stalenessDays: days(0, MAX_STALENESS_DAYS).describe('0: a weaker source may change the value as soon as it differs'),
});
export type ReconciliationRuleInput = z.output<typeof reconciliationRuleInput>;

/** After how many days unseen a record a source reported becomes a missing candidate; null: never. */
export const inventorySourceInput = z.strictObject({
  unseenAfterDays: days(1, MAX_STALENESS_DAYS).nullable(),
});
export type InventorySourceInput = z.output<typeof inventorySourceInput>;
