/**
 * An inventory row as a feed sends it (a JSON line or a CSV row, staged as a Row) turned into what
 * the engine compares: identifiers in the one form they are compared in, the software list as
 * names. A CSV cell and a JSON value parse alike (the master-data cells).
 */
import { z } from 'zod';
import { cells, problemsOf, type ColumnProblem } from '../../domain/master-data';
import { DISCOVERABLE_CLASSES, normaliseIdentifier, type DiscoverableClass } from '../../domain/reconciliation';
import type { Row } from '../master-data/kind';

/** The operational statuses a feed may report; retired is what retiring a record sets. */
export const DISCOVERED_STATUSES = ['operational', 'non_operational', 'repair_in_progress'] as const;

const MAX_SOFTWARE_ITEMS = 500;
const MAX_NAME = 200;
/** DNS bounds (RFC 1035): a label at most 63 characters, a whole name at most 253. */
const MAX_LABEL = 63;
const MAX_FQDN = 253;

export interface InventoryRow {
  ciClass: DiscoverableClass;
  /** The name the row gives, as given; null when it gives none. */
  name: string | null;
  /** As given (an asset keeps its serial as written); compared by its normalised form. */
  serialNumber: string | null;
  /** Upper case, as asset tags are stored. */
  assetTag: string | null;
  cloudResourceId: string | null;
  /** Lower case, without the domain. */
  hostname: string | null;
  /** Lower case, without a trailing dot; null when the host is in no domain. */
  domain: string | null;
  /** Twelve lower-case hex digits. */
  macAddress: string | null;
  /** "Manufacturer Name" or Name, as given. */
  model: string | null;
  location: string | null;
  /** Lower case. */
  assignedTo: string | null;
  operationalStatus: (typeof DISCOVERED_STATUSES)[number] | null;
  environment: string | null;
  /** The products the source found installed, whole; null when the row does not report software. */
  software: string[] | null;
}

/** A JSON array of names, or a CSV cell of names separated by semicolons; empty names dropped, each name once. */
const softwareList = z.preprocess((value) => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return value;
      }
    }
    return text.split(';');
  }
  return value;
}, z.array(z.string({ message: 'a product name is text' }).trim().max(MAX_NAME), { message: 'a list of product names (JSON array, or names separated by ;)' })
  .transform((names) => [...new Map(names.filter((name) => name !== '').map((name) => [name.toLowerCase(), name])).values()])
  .refine((names) => names.length <= MAX_SOFTWARE_ITEMS, { message: `at most ${MAX_SOFTWARE_ITEMS} products` })
  .nullable());

const identifier = (attribute: 'serialNumber' | 'hostname' | 'domain' | 'macAddress' | 'cloudResourceId', message: string, max = MAX_NAME) =>
  cells.optional.text(max).superRefine((value, context) => {
    if (value !== null && normaliseIdentifier(attribute, value) === undefined) context.addIssue({ code: 'custom', message });
  });

const schema = z.object({
  ciClass: cells.oneOf(DISCOVERABLE_CLASSES),
  name: cells.optional.text(MAX_NAME),
  serialNumber: identifier('serialNumber', 'not a serial number'),
  assetTag: cells.optional.text(64).transform((tag) => tag?.toUpperCase() ?? null),
  cloudResourceId: identifier('cloudResourceId', 'not a cloud resource id'),
  // A fully qualified name with its trailing dot; splitHost holds it to the DNS bounds.
  hostname: identifier('hostname', 'not a host name', MAX_FQDN + 1),
  domain: identifier('domain', 'not a domain', MAX_FQDN + 1),
  macAddress: identifier('macAddress', 'not a MAC address (twelve hex digits)'),
  model: cells.optional.text(MAX_NAME),
  location: cells.optional.text(MAX_NAME),
  assignedTo: cells.optional.email,
  operationalStatus: cells.optional.oneOf(DISCOVERED_STATUSES),
  environment: cells.optional.text(64),
  software: softwareList,
});

/** The first problem of a name's labels, or null: none empty, none longer than a label may be. */
function labelProblem(name: string, what: string): string | null {
  const labels = name.split('.');
  if (labels.some((label) => label === '')) return `${what} has an empty label (two dots together, or a dot at the start)`;
  if (labels.some((label) => label.length > MAX_LABEL)) return `${what} has a label longer than ${MAX_LABEL} characters`;
  return null;
}

/**
 * The host name and domain as a CI stores them: the host one label, the domain apart. A host name
 * given fully qualified is split at its first dot when the row names no domain; when it names one,
 * the host name may end with that domain (dropped), and any other dot is refused, since the row
 * would then say two things about where the host lives.
 */
function splitHost(given: { hostname: string | null; domain: string | null }): { hostname: string | null; domain: string | null } | { problem: ColumnProblem } {
  let hostname = normaliseIdentifier('hostname', given.hostname) ?? null;
  let domain = normaliseIdentifier('domain', given.domain) ?? null;
  const refuse = (column: 'hostname' | 'domain', reason: string) => ({ problem: { column, value: given[column], reason } });
  if (domain !== null) {
    const problem = labelProblem(domain, 'the domain');
    if (problem) return refuse('domain', problem);
  }
  if (hostname === null) return { hostname, domain };
  if (domain !== null && hostname.endsWith(`.${domain}`)) hostname = hostname.slice(0, -(domain.length + 1));
  if (hostname.includes('.')) {
    if (domain !== null) return refuse('hostname', `the host name is not in the domain ${domain} the row gives: give the host name alone, or leave the domain empty`);
    const problem = labelProblem(hostname, 'the host name');
    if (problem) return refuse('hostname', problem);
    const dot = hostname.indexOf('.');
    [hostname, domain] = [hostname.slice(0, dot), hostname.slice(dot + 1)];
  }
  if (hostname === '') return refuse('hostname', 'the host name is only its domain: give the host name before it');
  if (hostname.length > MAX_LABEL) return refuse('hostname', `a host name has at most ${MAX_LABEL} characters`);
  if (domain !== null && hostname.length + 1 + domain.length > MAX_FQDN) return refuse('hostname', `the host name with its domain has at most ${MAX_FQDN} characters`);
  return { hostname, domain };
}

/** The row parsed, or its problems (column, value, reason). */
export function parseInventoryRow(record: Row): { row: InventoryRow } | { problems: ColumnProblem[] } {
  const parsed = schema.safeParse(record);
  if (!parsed.success) return { problems: problemsOf(parsed.error, record) };
  const given = parsed.data;
  const host = splitHost(given);
  if ('problem' in host) return { problems: [host.problem] };
  const row: InventoryRow = {
    ciClass: given.ciClass,
    name: given.name,
    serialNumber: given.serialNumber,
    assetTag: given.assetTag,
    cloudResourceId: normaliseIdentifier('cloudResourceId', given.cloudResourceId) ?? null,
    hostname: host.hostname,
    domain: host.domain,
    macAddress: normaliseIdentifier('macAddress', given.macAddress) ?? null,
    model: given.model,
    location: given.location,
    assignedTo: given.assignedTo,
    operationalStatus: given.operationalStatus,
    environment: given.environment,
    software: given.software,
  };
  if (!row.serialNumber && !row.assetTag && !row.cloudResourceId && !row.hostname && !row.macAddress) {
    return { problems: [{ column: '(row)', value: null, reason: 'no identifier: give a serialNumber, assetTag, cloudResourceId, hostname or macAddress' }] };
  }
  return { row };
}

/**
 * The name a new record gets when the row gives none: its host name (with its domain, since one
 * short name lives in many domains), else its serial, else its cloud id.
 */
export function nameForNewRecord(row: InventoryRow): string {
  const host = row.hostname && row.domain ? `${row.hostname}.${row.domain}` : row.hostname;
  return row.name ?? host ?? row.serialNumber ?? row.cloudResourceId ?? row.assetTag ?? row.macAddress!;
}
