/**
 * One source of truth from many feeds (issue 16): which record a discovered row is (identification)
 * and whether a source may set an attribute (reconciliation). Pure: the rules arrive as data, the
 * candidate matches and the attribute's provenance come from the caller's lookups, so the dry run
 * and the real run decide alike.
 */
import { serialKey } from './procurement';

/** Where discovered data comes from. */
export const INVENTORY_SOURCES = ['discovery', 'mdm', 'cloud_inventory', 'hr', 'manual'] as const;
export type InventorySource = (typeof INVENTORY_SOURCES)[number];

/** CI classes a feed may report; a record of a hardware class has an asset behind it. */
export const DISCOVERABLE_CLASSES = [
  'server', 'network_device', 'storage', 'computer', 'mobile_device', 'virtual_machine', 'cloud_resource', 'load_balancer', 'database', 'application',
] as const;
export type DiscoverableClass = (typeof DISCOVERABLE_CLASSES)[number];

/** Classes whose new records get an asset (and its lifecycle workflow) as well as a CI. */
export const HARDWARE_CLASSES: readonly DiscoverableClass[] = ['server', 'network_device', 'storage', 'computer', 'mobile_device'];

/**
 * The columns of an inventory row: a CSV header names some of them, a JSON line has them as keys.
 * `software` is what the source found installed on the device, whole: a JSON array of product
 * names, or in CSV one cell with the names separated by semicolons. A product it no longer reports
 * is uninstalled.
 */
export const INVENTORY_COLUMNS = [
  'ciClass', 'name', 'serialNumber', 'assetTag', 'cloudResourceId', 'hostname', 'domain', 'macAddress',
  'model', 'location', 'assignedTo', 'operationalStatus', 'environment', 'software',
] as const;

/**
 * The attributes reconciled by source authority, each keeping its provenance; the asset tag is the
 * organisation's own and only identifies, the class is set when a record is created.
 */
export const RECONCILED_ATTRIBUTES = [
  'name', 'hostname', 'domain', 'macAddress', 'cloudResourceId', 'serialNumber', 'model', 'location', 'assignedTo', 'operationalStatus', 'environment', 'software',
] as const;
export type ReconciledAttribute = (typeof RECONCILED_ATTRIBUTES)[number];

/** The attributes a record can be identified by. */
export const IDENTIFYING_ATTRIBUTES = ['serialNumber', 'assetTag', 'cloudResourceId', 'hostname', 'domain', 'macAddress'] as const;
export type IdentifyingAttribute = (typeof IDENTIFYING_ATTRIBUTES)[number];

/** One identification rule of a CI class: the record matches on all these attributes together. */
export interface IdentificationRule {
  priority: number;
  attributes: readonly IdentifyingAttribute[];
}

/**
 * The form an identifying value is compared in: serials as the serial key receipts use (case and
 * spacing do not matter), hostnames and domains in lower case without a trailing dot, MAC addresses
 * as twelve lower-case hex digits; empty means absent.
 */
export function normaliseIdentifier(attribute: IdentifyingAttribute, value: string | null | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  switch (attribute) {
    case 'serialNumber':
      return serialKey(text) || undefined;
    case 'hostname':
    case 'domain':
      return text.toLowerCase().replace(/\.$/, '') || undefined;
    case 'macAddress': {
      const hex = text.toLowerCase().replace(/[^0-9a-f]/g, '');
      return hex.length === 12 ? hex : undefined;
    }
    default:
      return text;
  }
}

/**
 * The values a row (or a record) has for a rule's attributes, in the form they are compared in, or
 * undefined when it lacks one. A host name without a domain is a host in no domain: for a rule of
 * host name and domain its domain is '', as the database compares it.
 */
export function identificationParts(attributes: readonly IdentifyingAttribute[], row: Partial<Record<IdentifyingAttribute, string | null>>): string[] | undefined {
  const parts: string[] = [];
  for (const attribute of attributes) {
    let value = normaliseIdentifier(attribute, row[attribute]);
    if (value === undefined && attribute === 'domain' && attributes.includes('hostname') && normaliseIdentifier('hostname', row.hostname) !== undefined) value = '';
    if (value === undefined) return undefined;
    parts.push(value);
  }
  return parts;
}

/** The rule's key for a row: its compared values joined, or undefined when the row lacks one of them. */
export function identificationKey(rule: Pick<IdentificationRule, 'attributes'>, row: Partial<Record<IdentifyingAttribute, string | null>>): string | undefined {
  return identificationParts(rule.attributes, row)?.join('\u0000');
}

export type Identification =
  | { outcome: 'match'; recordId: string; rule: IdentificationRule }
  | { outcome: 'create' }
  | { outcome: 'duplicate'; recordIds: string[]; rule: IdentificationRule; reason: string }
  /** A lower rule found a record that holds another value for a higher rule the row answers: perhaps a replacement, for a person to say. */
  | { outcome: 'conflict'; recordId: string; rule: IdentificationRule; reason: string };

/** Sorted record ids joined: the key a steward's case about these records is remembered by. */
export const pairKeyOf = (recordIds: readonly string[]): string => [...new Set(recordIds)].sort().join(':');

const describeRule = (rule: IdentificationRule) => rule.attributes.join(' + ');

/** A rule's values as a person reads them: a host name with its domain, other values side by side. */
function shown(rule: IdentificationRule, values: Partial<Record<IdentifyingAttribute, string | null>>): string {
  const parts = rule.attributes.map((attribute) => values[attribute]?.trim()).filter((value): value is string => !!value);
  return parts.join(rule.attributes.includes('hostname') && rule.attributes.includes('domain') ? '.' : ' ');
}

/**
 * Which record a row is: the rules in priority order; the first rule the row has every attribute of
 * and that finds records decides. One record is a match (a renamed host that keeps its serial is
 * still found by its serial); several are a duplicate for a person to settle; no rule finding any
 * means a new record. A match is a duplicate too when a later rule the row answers finds another
 * record (its serial names one host, its name another): two records then claim to be one thing.
 * A match is a conflict when the record holds another value for a higher rule the row answers (a
 * replaced server that kept the old one's host name, with a serial of its own): taking it would
 * write one machine's serial onto another's record, so a person says whether it is a replacement.
 * Records a steward kept apart (or whose case they ignored) are not asked about again: `settled`
 * says so for a set of records. `matchesOf` gives the records the caller's lookup found for a rule's
 * key; `identifiersOf` a found record's own identifying values.
 */
export function identify(
  rules: readonly IdentificationRule[],
  row: Partial<Record<IdentifyingAttribute, string | null>>,
  matchesOf: (rule: IdentificationRule, key: string) => readonly string[],
  settled: (recordIds: readonly string[]) => boolean = () => false,
  identifiersOf: (recordId: string) => Partial<Record<IdentifyingAttribute, string | null>> | undefined = () => undefined,
): Identification {
  const ordered = [...rules].sort((a, b) => a.priority - b.priority);
  for (const [at, rule] of ordered.entries()) {
    const key = identificationKey(rule, row);
    if (key === undefined) continue;
    const found = [...new Set(matchesOf(rule, key))].sort();
    if (found.length > 1) {
      if (settled(found)) continue;
      return { outcome: 'duplicate', recordIds: found, rule, reason: `${found.length} records share the ${describeRule(rule)} of this row` };
    }
    if (found.length === 0) continue;
    const recordId = found[0];
    const held = identifiersOf(recordId);
    for (const higher of held ? ordered.slice(0, at) : []) {
      const rowKey = identificationKey(higher, row);
      const heldKey = identificationKey(higher, held!);
      if (rowKey === undefined || heldKey === undefined || rowKey === heldKey) continue;
      return {
        outcome: 'conflict', recordId, rule,
        reason: `the record with the ${describeRule(rule)} ${shown(rule, row)} has the ${describeRule(higher)} ${shown(higher, held!)}, the row ${shown(higher, row)}: `
          + 'if this device replaced that one, retire the old record (or correct its identifiers) and send the row again',
      };
    }
    for (const later of ordered.slice(at + 1)) {
      const laterKey = identificationKey(later, row);
      if (laterKey === undefined) continue;
      const others = [...new Set(matchesOf(later, laterKey))].filter((id) => id !== recordId && !settled([recordId, id]));
      if (others.length > 0) {
        return {
          outcome: 'duplicate', recordIds: [recordId, ...others].sort(), rule,
          reason: `the row's ${describeRule(rule)} names one record and its ${describeRule(later)} another`,
        };
      }
    }
    return { outcome: 'match', recordId, rule };
  }
  return { outcome: 'create' };
}

/** Which sources may set an attribute, strongest first, and how long a stronger source's value holds. */
export interface AttributeAuthority {
  /** The attribute, or '*' for every attribute without a rule of its own. */
  attribute: string;
  sources: readonly InventorySource[];
  /** After this many days without the stronger source confirming it, a weaker source may change it. */
  stalenessDays: number;
}

/** Who set an attribute's value, and when that source last reported it. */
export interface Provenance {
  source: InventorySource;
  seenAt: string;
}

export type AttributeVerdict =
  | { apply: true; reason: 'no_value_yet' | 'same_or_stronger_source' | 'stronger_source_stale' }
  | { apply: false; reason: 'same_value' | 'weaker_source' | 'older_than_current' };

const DAY_MS = 86_400_000;

/** The authority for an attribute: its own rule, else the '*' rule, else every source alike. */
export function authorityFor(authorities: readonly AttributeAuthority[], attribute: string): AttributeAuthority | undefined {
  return authorities.find((a) => a.attribute === attribute) ?? authorities.find((a) => a.attribute === '*');
}

/** A source's rank for an attribute: its place in the list (0 strongest); a source not listed is weaker than all listed. */
function rankOf(authority: AttributeAuthority | undefined, source: InventorySource): number {
  const index = authority?.sources.indexOf(source) ?? -1;
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
}

/**
 * Whether a source's value for an attribute replaces the one the record holds: always when the record
 * has none; never when it is the same value or was seen before the value was last confirmed; when
 * the incoming source is as strong or stronger; and from a weaker source only once the stronger one
 * has not confirmed its value for the staleness period.
 */
export function decideAttribute(input: {
  authorities: readonly AttributeAuthority[];
  attribute: string;
  incoming: { source: InventorySource; value: unknown; seenAt: string };
  current: { value: unknown; provenance: Provenance | null } | undefined;
}): AttributeVerdict {
  const { current, incoming } = input;
  if (current === undefined || current.value === null || current.value === undefined) return { apply: true, reason: 'no_value_yet' };
  if (sameValue(current.value, incoming.value)) return { apply: false, reason: 'same_value' };
  // A value nobody recorded the source of was typed or loaded before reconciliation: any source may correct it.
  if (!current.provenance) return { apply: true, reason: 'same_or_stronger_source' };
  // A batch that arrives late (seen before the value was last confirmed) does not turn the clock back.
  if (Date.parse(incoming.seenAt) < Date.parse(current.provenance.seenAt)) return { apply: false, reason: 'older_than_current' };
  const authority = authorityFor(input.authorities, input.attribute);
  if (rankOf(authority, incoming.source) <= rankOf(authority, current.provenance.source)) return { apply: true, reason: 'same_or_stronger_source' };
  const staleAfterMs = (authority?.stalenessDays ?? 0) * DAY_MS;
  if (Date.parse(incoming.seenAt) - Date.parse(current.provenance.seenAt) > staleAfterMs) return { apply: true, reason: 'stronger_source_stale' };
  return { apply: false, reason: 'weaker_source' };
}

/**
 * Whether a source reporting the value a record holds becomes its holder: when it is at least as
 * strong as the source that set it (or nobody recorded one) and saw it no earlier than the value
 * was last confirmed. A stronger source confirming a weaker one's value then holds it, so the
 * weaker one cannot change it at once, and the two do not take turns each cycle.
 */
export function holdsSameValue(input: {
  authorities: readonly AttributeAuthority[];
  attribute: string;
  incoming: { source: InventorySource; seenAt: string };
  provenance: Provenance | null;
}): boolean {
  const { provenance, incoming } = input;
  if (!provenance) return true;
  if (Date.parse(incoming.seenAt) < Date.parse(provenance.seenAt)) return false;
  const authority = authorityFor(input.authorities, input.attribute);
  return rankOf(authority, incoming.source) <= rankOf(authority, provenance.source);
}

function sameValue(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a.trim() === b.trim() : JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What a row would do, or did, to one attribute: stored per row as the import report's `changes`
 * (written) and `left_alone` (offered and not written), the dry run and the real run alike.
 */
export interface AttributeChange {
  from: unknown;
  to: unknown;
  source: InventorySource;
  reason:
    | Extract<AttributeVerdict, { apply: true }>['reason']
    /**
     * Software: not decided by authority; each source reports its own list, so a product one lists is
     * installed and one no source still lists is reclaimed.
     */
    | 'listed_by_sources';
  /** Who had set the value it replaces, and when they last confirmed it; absent when nobody recorded it. */
  replaced?: Provenance;
}

export interface AttributeLeftAlone {
  current: unknown;
  offered: unknown;
  reason:
    | Extract<AttributeVerdict, { apply: false }>['reason']
    /** Another record holds this identifier (a steward kept the two apart). */
    | 'identifier_held_elsewhere'
    /** A software name the catalogue does not know. */
    | 'unknown_product'
    /** The row's class differs from the record's: a class is set when a record is created. */
    | 'class_differs'
    /** The hardware model is not in the catalogue: a new record gets no asset until it is. */
    | 'unknown_model'
    /** The record has no asset to hold this (serial, model, location, assignee are the asset's). */
    | 'no_asset'
    /** No active person has this email. */
    | 'unknown_person'
    /** The asset's assignee changes through its lifecycle workflow, which holds it: the asset manager moves it. */
    | 'lifecycle_owned'
    /** Another record of the class has this name. */
    | 'name_taken'
    /** A host name and its domain are one name, written together: the other of the two is left alone. */
    | 'host_and_domain_together';
  /** Who set the current value, and when they last confirmed it. */
  heldBy?: Provenance;
}

/** How a row found its record, stored per row as the report's `identification`. */
export interface RowIdentification {
  outcome: Identification['outcome'];
  /** The rule's attributes that decided. */
  rule?: IdentifyingAttribute[];
  /** The record matched or created (CI id), or the records held as a duplicate. */
  recordIds: string[];
  /** Why a row is held. */
  reason?: string;
  /** The steward's case a held row opened (the real run only). */
  caseNumber?: string;
  /**
   * Every identifier the row gives (`attribute=value`, compared form) and, when it names a record,
   * the name (`name=class|name`): a batch names each device once, so a later row claiming one of
   * these is refused (the dry run and the real run then agree).
   */
  claims?: string[];
}

/**
 * Whether a record a source reports has gone unseen long enough to be a candidate for the missing
 * state: the source's period (days) since it last saw it; a source without a period never says so.
 */
export function isUnseenTooLong(lastSeenAt: string, periodDays: number | undefined, now: string): boolean {
  if (periodDays === undefined) return false;
  return Date.parse(now) - Date.parse(lastSeenAt) > periodDays * DAY_MS;
}

/** The states of a data steward case: asked while open, then settled by a steward or cancelled. */
export const CASE_STATES = ['open', 'merged', 'kept_both', 'ignored', 'cancelled'] as const;
export type CaseState = (typeof CASE_STATES)[number];
export const CASE_FINAL_STATES = ['merged', 'kept_both', 'ignored', 'cancelled'] as const satisfies readonly CaseState[];
