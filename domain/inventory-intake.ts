/**
 * What an inventory feed may send and how its rules are edited (issue 16): the columns a batch's
 * CSV header may name, the bounds of a batch's key and observation time, and the shapes of the
 * identification rules, reconciliation rules and sources as people edit them. Pure; shared by the
 * JSON API, the web pages and the watched folder, so each refuses the same input with the same words.
 */
import { z } from 'zod';
import type { Role } from './directory';
import {
  DISCOVERABLE_CLASSES, IDENTIFYING_ATTRIBUTES, INVENTORY_COLUMNS, INVENTORY_SOURCES, RECONCILED_ATTRIBUTES, type InventorySource, type ReconciledAttribute,
} from './reconciliation';

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
export const BATCH_KEY_MAX = 255;
export const batchKeyInput = z.string().trim().min(1, { message: 'required' }).max(BATCH_KEY_MAX, { message: `at most ${BATCH_KEY_MAX} characters` });

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

/**
 * Reconciled attributes no rule decides, and why: a rule for one would be accepted and then
 * ignored by every batch, so it is refused instead.
 */
export const UNRULED_ATTRIBUTES = {
  assignedTo: 'an existing record\'s assignee changes through its lifecycle workflow (an assignment), never by a feed; a new record takes the row\'s',
  software: 'each source\'s list is whole for the installations it found, which are kept per source rather than reconciled between sources',
} as const satisfies Partial<Record<ReconciledAttribute, string>>;
type RuledAttribute = Exclude<ReconciledAttribute, keyof typeof UNRULED_ATTRIBUTES>;
const isRuled = (attribute: ReconciledAttribute): attribute is RuledAttribute => !(attribute in UNRULED_ATTRIBUTES);

/** The attributes a reconciliation rule may name; '*' is the rule for every one without a rule of its own. */
export const RECONCILIATION_ATTRIBUTES: readonly ['*', ...RuledAttribute[]] = ['*', ...RECONCILED_ATTRIBUTES.filter(isRuled)];
export const reconciliationAttribute = z.enum(RECONCILIATION_ATTRIBUTES, {
  error: (issue) => {
    const why = (UNRULED_ATTRIBUTES as Record<string, string | undefined>)[String(issue.input)];
    const allowed = `one of: ${RECONCILIATION_ATTRIBUTES.join(', ')}`;
    return why ? `${String(issue.input)} takes no reconciliation rule: ${why}; rules are for ${allowed}` : allowed;
  },
});

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

/**
 * Sources only admins send as: manual is a person's own word and the strongest source for every
 * attribute without a rule of its own, and hr speaks for the people's register. Asset managers
 * send what the feeds found.
 */
export const ADMIN_ONLY_SOURCES: readonly InventorySource[] = ['manual', 'hr'];

/** Why a person with these roles may not send a batch as `source`, or undefined when they may. */
export function sourceSenderRefusal(source: InventorySource, roles: readonly Role[]): string | undefined {
  if (roles.includes('admin') || !ADMIN_ONLY_SOURCES.includes(source)) return undefined;
  const open = INVENTORY_SOURCES.filter((name) => !ADMIN_ONLY_SOURCES.includes(name));
  return `only admins send batches as ${source}: ${ADMIN_ONLY_SOURCES.join(' and ')} outrank the feeds; asset managers send ${open.join(', ')}`;
}

/** Room kept in a dropped file's batch key for its size and modification time. */
const DROPPED_KEY_SUFFIX_ROOM = 64;

/**
 * The batch key of a file dropped in the watched folder: its name with its size and modification
 * time, so the same file dropped again is the same batch while a new export under the same name
 * (a tool that writes inventory.csv every day) is a new one. A name too long for the key keeps its
 * start, which with the size and the time to the millisecond still tells files apart.
 */
export function droppedFileBatchKey(name: string, size: number, modifiedAt: Date): string {
  const room = BATCH_KEY_MAX - DROPPED_KEY_SUFFIX_ROOM;
  const shown = name.length > room ? `${name.slice(0, room - 1)}…` : name;
  return `${shown} (${size} bytes, modified ${modifiedAt.toISOString()})`;
}
