/**
 * What one inventory row does, decided from the chunk's lookups and nothing else: the check and
 * the apply call the same function on the same reads (the apply's under lock), so the dry run's
 * report is what the real run does. Pure.
 */
import type { ColumnProblem, RowVerdict } from '../../domain/master-data';
import { serialKey } from '../../domain/procurement';
import {
  decideAttribute,
  HARDWARE_CLASSES,
  identify,
  type AttributeAuthority,
  type AttributeChange,
  type AttributeLeftAlone,
  type IdentificationRule,
  type IdentifyingAttribute,
  type InventorySource,
  type Provenance,
  type RowIdentification,
} from '../../domain/reconciliation';
import type { RowChanges } from '../imports';
import {
  identifyingValues, keyOf, nameKey, NO_DOMAIN, type AssetPart, type ChunkLookups, type CurrentRecord, type Holder,
} from './engine-lookups';
import type { InstallationPlan } from './installations';
import { nameForNewRecord, type InventoryRow } from './inventory-row';

export interface BatchContext {
  source: InventorySource;
  /** When the source saw what the batch reports: provenance and sightings take this time. */
  observedAt: string;
  authorities: readonly AttributeAuthority[];
}

/** A new record's columns. */
export interface NewRecord {
  ci: {
    name: string; ciClass: string; hostname: string | null; domain: string | null; macAddress: string | null; cloudResourceId: string | null;
    operationalStatus: string | null; environment: string | null;
  };
  /** The asset behind it: a new one, one in the estate that backed no CI (taken over, with `asset` its edits), or none. */
  asset:
    | { kind: 'new'; assetTag: string | null; serialNumber: string | null; modelId: string; currency: string; location: string | null; assignedToId: string | null }
    | { kind: 'taken_over'; assetId: string; edits: Record<string, unknown> }
    | null;
}

export type WritePlan =
  | { kind: 'none' }
  | { kind: 'create'; record: NewRecord; written: string[] }
  | { kind: 'update' | 'unchanged'; ciId: string; assetId: string | null; ci: Record<string, unknown>; asset: Record<string, unknown>; written: string[]; confirmed: string[] }
  | { kind: 'hold'; ciIds: string[]; reason: string };

export interface Judgement {
  rowNumber: number;
  verdict: RowVerdict;
  naturalKey: string | null;
  problems: ColumnProblem[];
  changes: RowChanges | null;
  leftAlone: Record<string, AttributeLeftAlone> | null;
  identification: RowIdentification | null;
  plan: WritePlan;
  software: InstallationPlan | null;
  /** The parsed row (for a steward's case and the installations). */
  row: InventoryRow | null;
}

export const refused = (rowNumber: number, problems: ColumnProblem[]): Judgement => ({
  rowNumber, verdict: 'refuse', naturalKey: null, problems, changes: null, leftAlone: null, identification: null, plan: { kind: 'none' }, software: null, row: null,
});

/** The CI columns of the attributes a feed reports. */
const CI_COLUMN: Record<string, string> = {
  name: 'name', hostname: 'hostname', domain: 'dns_domain', macAddress: 'mac_address', cloudResourceId: 'cloud_resource_id',
  operationalStatus: 'operational_status', environment: 'environment',
};

const ciIdsOf = (holders: readonly Holder[] | undefined) => [...new Set((holders ?? []).flatMap((h) => (h.ciId ? [h.ciId] : [])))];

function holdersOf(lookups: ChunkLookups, attributes: readonly IdentifyingAttribute[], row: InventoryRow): Holder[] {
  const key = keyOf(attributes, identifyingValues(row));
  return key === undefined ? [] : lookups.holders.get(attributes.join('+'))?.get(key) ?? [];
}

/** The row's first complete key by its class's rules, as `attr=value+attr=value`: a file names each device once. */
export function naturalKeyOf(rules: readonly IdentificationRule[], row: InventoryRow): string | null {
  const values = identifyingValues(row);
  for (const rule of [...rules].sort((a, b) => a.priority - b.priority)) {
    if (keyOf(rule.attributes, values) === undefined) continue;
    return rule.attributes.map((attribute) => `${attribute}=${values[attribute] === NO_DOMAIN ? '' : values[attribute]}`).join('+');
  }
  return null;
}

/** Every record any of the row's rules finds: when there are several, a steward may have settled some of them. */
export function candidatesOf(rules: readonly IdentificationRule[], row: InventoryRow, lookups: Pick<ChunkLookups, 'holders'>): string[] {
  return [...new Set(rules.flatMap((rule) => ciIdsOf(holdersOf(lookups as ChunkLookups, rule.attributes, row))))];
}

/** Which record the row is, by its class's rules and the chunk's lookups. */
export function identifyRow(rules: readonly IdentificationRule[], row: InventoryRow, lookups: Pick<ChunkLookups, 'holders'>, settled: ReadonlySet<string>) {
  return identify(
    rules, identifyingValues(row),
    (rule) => ciIdsOf(holdersOf(lookups as ChunkLookups, rule.attributes, row)),
    (ids) => settled.has([...new Set(ids)].sort().join(':')),
  );
}

/** The attribute decisions of one row, gathered. */
class Decisions {
  readonly changes: Record<string, AttributeChange> = {};
  readonly leftAlone: Record<string, AttributeLeftAlone> = {};
  readonly written: string[] = [];
  readonly confirmed: string[] = [];

  constructor(private readonly context: BatchContext, private readonly provenance: ReadonlyMap<string, Provenance>) {}

  /** Decides `attribute` by source authority; answers whether it is to be written (the caller may still leave it alone). */
  decide(attribute: string, offered: unknown, current: unknown): boolean {
    const heldBy = this.provenance.get(attribute) ?? null;
    const verdict = decideAttribute({
      authorities: this.context.authorities, attribute,
      incoming: { source: this.context.source, value: offered, seenAt: this.context.observedAt },
      current: { value: current ?? null, provenance: heldBy },
    });
    if (verdict.apply) {
      this.changes[attribute] = { from: current ?? null, to: offered, source: this.context.source, reason: verdict.reason, ...(heldBy ? { replaced: heldBy } : {}) };
      this.written.push(attribute);
      return true;
    }
    // The same value from the source that set it is confirmed; otherwise the same value is nothing to report.
    if (verdict.reason === 'same_value') {
      if (heldBy?.source === this.context.source) this.confirmed.push(attribute);
      return false;
    }
    this.leave(attribute, offered, current, verdict.reason);
    return false;
  }

  leave(attribute: string, offered: unknown, current: unknown, reason: AttributeLeftAlone['reason']): void {
    delete this.changes[attribute];
    const at = this.written.indexOf(attribute);
    if (at >= 0) this.written.splice(at, 1);
    const heldBy = this.provenance.get(attribute);
    this.leftAlone[attribute] = { current: current ?? null, offered, reason, ...(heldBy ? { heldBy } : {}) };
  }
}

interface RowInput {
  rowNumber: number;
  row: InventoryRow;
  rules: readonly IdentificationRule[];
  identification: ReturnType<typeof identify>;
  software: InstallationPlan | null;
}

/** The identifiers a record may take: those no other record holds (the database holds them unique). */
function takeIdentifiers(decisions: Decisions, lookups: ChunkLookups, row: InventoryRow, self: CurrentRecord | null): void {
  const heldByOther = (attributes: IdentifyingAttribute[]) => ciIdsOf(holdersOf(lookups, attributes, row)).some((id) => id !== self?.id);
  if ((decisions.written.includes('hostname') || decisions.written.includes('domain')) && heldByOther(['hostname', 'domain'])) {
    for (const attribute of ['hostname', 'domain'] as const) {
      if (decisions.written.includes(attribute)) decisions.leave(attribute, row[attribute], self?.[attribute] ?? null, 'identifier_held_elsewhere');
    }
  }
  if (decisions.written.includes('macAddress') && heldByOther(['macAddress'])) decisions.leave('macAddress', row.macAddress, self?.macAddress ?? null, 'identifier_held_elsewhere');
  if (decisions.written.includes('cloudResourceId') && heldByOther(['cloudResourceId'])) {
    decisions.leave('cloudResourceId', row.cloudResourceId, self?.cloudResourceId ?? null, 'identifier_held_elsewhere');
  }
}

/** The asset's attributes: serial (unless another asset has it), model (known to the catalogue), location, and the assignee (the lifecycle's). */
function decideAsset(decisions: Decisions, lookups: ChunkLookups, row: InventoryRow, asset: AssetPart, edits: Record<string, unknown>): void {
  if (row.serialNumber) {
    const offered = asset.serialNumber && serialKey(asset.serialNumber) === serialKey(row.serialNumber) ? asset.serialNumber : row.serialNumber;
    if (decisions.decide('serialNumber', offered, asset.serialNumber)) {
      if (holdersOf(lookups, ['serialNumber'], row).some((h) => h.assetId !== asset.assetId)) {
        decisions.leave('serialNumber', row.serialNumber, asset.serialNumber, 'identifier_held_elsewhere');
      } else edits.serial_number = offered;
    }
  }
  if (row.model) {
    const model = lookups.models.get(row.model.toLowerCase());
    if (!model) decisions.leave('model', row.model, asset.model, 'unknown_model');
    else if (decisions.decide('model', model.display, asset.model)) edits.model_id = model.id;
  }
  if (row.location && decisions.decide('location', row.location, asset.location)) edits.location = row.location;
  if (row.assignedTo) {
    if (!lookups.people.has(row.assignedTo)) decisions.leave('assignedTo', row.assignedTo, asset.assignedTo, 'unknown_person');
    else if (decisions.decide('assignedTo', row.assignedTo, asset.assignedTo)) {
      // The lifecycle workflow holds the assignee in its state: the asset manager moves it through the lifecycle.
      decisions.leave('assignedTo', row.assignedTo, asset.assignedTo, 'lifecycle_owned');
    }
  }
}

/** The attributes of the asset a record lacks, left alone. */
function noAsset(decisions: Decisions, row: InventoryRow): void {
  for (const attribute of ['serialNumber', 'location', 'assignedTo'] as const) {
    if (row[attribute]) decisions.leave(attribute, row[attribute], null, 'no_asset');
  }
}

function softwareDecisions(decisions: Decisions, plan: InstallationPlan | null): void {
  if (!plan) return;
  if (plan.change) {
    decisions.changes.software = plan.change;
    decisions.written.push('software');
  }
  if (plan.unknownProducts.length > 0) decisions.leftAlone.software = { current: null, offered: plan.unknownProducts, reason: 'unknown_product' };
}

const report = (decisions: Decisions) => ({
  changes: Object.keys(decisions.changes).length > 0 ? decisions.changes as RowChanges : null,
  leftAlone: Object.keys(decisions.leftAlone).length > 0 ? decisions.leftAlone : null,
});

function judgeCreate(context: BatchContext, lookups: ChunkLookups, input: RowInput, naturalKey: string): Judgement {
  const { row } = input;
  const name = nameForNewRecord(row);
  if (lookups.names.has(nameKey(row.ciClass, name))) {
    return refused(input.rowNumber, [{
      column: 'name', value: name,
      reason: `a ${row.ciClass} named ${name} exists without this row's identifiers: give that record its identifiers, or name this one otherwise`,
    }]);
  }
  const decisions = new Decisions(context, new Map());
  const offered: [string, unknown][] = [
    ['name', name], ['hostname', row.hostname], ['domain', row.hostname ? row.domain : null], ['macAddress', row.macAddress],
    ['cloudResourceId', row.cloudResourceId], ['operationalStatus', row.operationalStatus], ['environment', row.environment],
  ];
  for (const [attribute, value] of offered) if (value !== null) decisions.decide(attribute, value, null);
  takeIdentifiers(decisions, lookups, row, null);
  const kept = (attribute: string, value: string | null) => (decisions.written.includes(attribute) ? value : null);
  const record: NewRecord = {
    ci: {
      name, ciClass: row.ciClass, hostname: kept('hostname', row.hostname), domain: kept('hostname', row.hostname) ? kept('domain', row.domain) : null,
      macAddress: kept('macAddress', row.macAddress), cloudResourceId: kept('cloudResourceId', row.cloudResourceId),
      operationalStatus: row.operationalStatus, environment: row.environment,
    },
    asset: null,
  };
  if (HARDWARE_CLASSES.includes(row.ciClass)) {
    // An asset already in the estate (received, registered) that no CI runs on yet is this device.
    const free = [...holdersOf(lookups, ['serialNumber'], row), ...holdersOf(lookups, ['assetTag'], row)]
      .map((h) => (h.ciId === null && h.assetId ? lookups.freeAssets.get(h.assetId) : undefined)).find((asset) => asset !== undefined);
    const model = row.model ? lookups.models.get(row.model.toLowerCase()) : undefined;
    if (free) {
      const edits: Record<string, unknown> = {};
      decideAsset(decisions, lookups, row, free, edits);
      record.asset = { kind: 'taken_over', assetId: free.assetId, edits };
    } else if (model) {
      decisions.decide('model', model.display, null);
      let serialNumber = row.serialNumber;
      if (serialNumber && decisions.decide('serialNumber', serialNumber, null) && holdersOf(lookups, ['serialNumber'], row).length > 0) {
        decisions.leave('serialNumber', serialNumber, null, 'identifier_held_elsewhere');
        serialNumber = null;
      }
      const assetTag = row.assetTag && holdersOf(lookups, ['assetTag'], row).length === 0 ? row.assetTag : null;
      if (row.location) decisions.decide('location', row.location, null);
      let assignedToId: string | null = null;
      if (row.assignedTo) {
        assignedToId = lookups.people.get(row.assignedTo) ?? null;
        if (assignedToId) decisions.decide('assignedTo', row.assignedTo, null);
        else decisions.leave('assignedTo', row.assignedTo, null, 'unknown_person');
      }
      record.asset = { kind: 'new', assetTag, serialNumber, modelId: model.id, currency: model.currency, location: row.location, assignedToId };
    } else {
      decisions.leave('model', row.model, null, 'unknown_model');
      noAsset(decisions, row);
    }
  } else {
    noAsset(decisions, row);
    if (row.model) decisions.leave('model', row.model, null, 'no_asset');
  }
  softwareDecisions(decisions, input.software);
  return {
    rowNumber: input.rowNumber, verdict: 'create', naturalKey, problems: [], ...report(decisions),
    identification: { outcome: 'create', recordIds: [] },
    plan: { kind: 'create', record, written: decisions.written }, software: input.software, row,
  };
}

function judgeMatch(context: BatchContext, lookups: ChunkLookups, input: RowInput, naturalKey: string, record: CurrentRecord, rule: IdentificationRule): Judgement {
  const { row } = input;
  const decisions = new Decisions(context, lookups.provenance.get(record.id) ?? new Map());
  if (row.ciClass !== record.ciClass) decisions.leave('ciClass', row.ciClass, record.ciClass, 'class_differs');
  if (row.name && decisions.decide('name', row.name, record.name)) {
    const holder = lookups.names.get(nameKey(record.ciClass, row.name));
    if (holder !== undefined && holder !== record.id) decisions.leave('name', row.name, record.name, 'name_taken');
  }
  const offered: [string, string | null, string | null][] = [
    ['hostname', row.hostname, record.hostname], ['domain', row.hostname ? row.domain : null, record.domain], ['macAddress', row.macAddress, record.macAddress],
    ['cloudResourceId', row.cloudResourceId, record.cloudResourceId], ['operationalStatus', row.operationalStatus, record.operationalStatus],
    ['environment', row.environment, record.environment],
  ];
  for (const [attribute, value, current] of offered) if (value !== null) decisions.decide(attribute, value, current);
  takeIdentifiers(decisions, lookups, row, record);
  const ci: Record<string, unknown> = {};
  for (const attribute of decisions.written) if (CI_COLUMN[attribute]) ci[CI_COLUMN[attribute]] = row[attribute as keyof InventoryRow];
  const asset: Record<string, unknown> = {};
  if (record.asset) decideAsset(decisions, lookups, row, record.asset, asset);
  else {
    noAsset(decisions, row);
    if (row.model) decisions.leave('model', row.model, null, 'no_asset');
  }
  softwareDecisions(decisions, input.software);
  const changed = Object.keys(decisions.changes).length > 0;
  return {
    rowNumber: input.rowNumber, verdict: changed ? 'update' : 'unchanged', naturalKey, problems: [], ...report(decisions),
    identification: { outcome: 'match', rule: [...rule.attributes], recordIds: [record.id] },
    plan: {
      kind: changed ? 'update' : 'unchanged', ciId: record.id, assetId: record.asset?.assetId ?? null, ci, asset,
      written: decisions.written, confirmed: decisions.confirmed,
    },
    software: input.software, row,
  };
}

/** The verdict of one identified row, what it would change and leave alone, and what applying it writes. */
export function judgeRow(context: BatchContext, lookups: ChunkLookups, input: RowInput): Judgement {
  const naturalKey = naturalKeyOf(input.rules, input.row);
  if (naturalKey === null) {
    const wanted = input.rules.map((rule) => rule.attributes.join(' + ')).join('; or ');
    return refused(input.rowNumber, [{ column: '(row)', value: null, reason: `a ${input.row.ciClass} is identified by ${wanted || 'no rule'}: the row has none of them` }]);
  }
  const found = input.identification;
  if (found.outcome === 'duplicate') {
    return {
      rowNumber: input.rowNumber, verdict: 'hold', naturalKey, problems: [], changes: null, leftAlone: null,
      identification: { outcome: 'duplicate', rule: [...found.rule.attributes], recordIds: found.recordIds, reason: found.reason },
      plan: { kind: 'hold', ciIds: found.recordIds, reason: found.reason }, software: null, row: input.row,
    };
  }
  if (found.outcome === 'create') return judgeCreate(context, lookups, input, naturalKey);
  const record = lookups.records.get(found.recordId);
  // Gone between the identifiers' read and the record's (merged by a steward meanwhile): judged again on the next attempt.
  if (!record) throw new Error(`the record ${found.recordId} a row was identified with is gone; the chunk is judged again`);
  return judgeMatch(context, lookups, input, naturalKey, record, found.rule);
}
