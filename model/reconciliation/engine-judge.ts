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
  holdsSameValue,
  identificationParts,
  identify,
  pairKeyOf,
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
  classNameKey, HELD_SETS, identifyingValues, keyOf, type AssetPart, type ChunkLookups, type CurrentRecord, type Holder,
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
  | {
    kind: 'update' | 'unchanged'; ciId: string; assetId: string | null; ci: Record<string, unknown>; asset: Record<string, unknown>; written: string[];
    /** Values the same source reports again: their confirmation moves on. */
    confirmed: string[];
    /** Values a source at least as strong as their holder reports unchanged: it becomes their holder. */
    takenOver: string[];
  }
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

/** The row's first complete key by its class's rules, as `attr=value+attr=value` in the compared form: a file names each device once. */
export function naturalKeyOf(rules: readonly IdentificationRule[], row: InventoryRow): string | null {
  const values = identifyingValues(row);
  for (const rule of [...rules].sort((a, b) => a.priority - b.priority)) {
    const parts = identificationParts(rule.attributes, values);
    if (parts !== undefined) return rule.attributes.map((attribute, at) => `${attribute}=${parts[at]}`).join('+');
  }
  return null;
}

/**
 * What a row claims within its batch (RowIdentification.claims): each identifier it gives, in the
 * compared form, and the name of the record it creates or renames; a host name with its domain.
 */
function claimsOf(row: InventoryRow, name: string | null): string[] {
  const values = identifyingValues(row);
  const claims = HELD_SETS.flatMap((attributes) => {
    const parts = identificationParts(attributes, values);
    if (parts === undefined) return [];
    const [hostname, domain] = parts;
    return [attributes.includes('hostname') ? `hostname=${domain ? `${hostname}.${domain}` : hostname}` : `${attributes.join('+')}=${parts.join(' ')}`];
  });
  return name === null ? claims : [...claims, `name=${classNameKey(row.ciClass, name)}`];
}

/** Every record any of the row's rules finds: when there are several, a steward may have settled some of them. */
export function candidatesOf(rules: readonly IdentificationRule[], row: InventoryRow, lookups: Pick<ChunkLookups, 'holders'>): string[] {
  return [...new Set(rules.flatMap((rule) => ciIdsOf(holdersOf(lookups as ChunkLookups, rule.attributes, row))))];
}

/** Which record the row is, by its class's rules and the chunk's lookups. */
export function identifyRow(rules: readonly IdentificationRule[], row: InventoryRow, lookups: Pick<ChunkLookups, 'holders' | 'identifiers'>, settled: ReadonlySet<string>) {
  return identify(
    rules, identifyingValues(row),
    (rule) => ciIdsOf(holdersOf(lookups as ChunkLookups, rule.attributes, row)),
    (ids) => settled.has(pairKeyOf(ids)),
    (recordId) => lookups.identifiers.get(recordId),
  );
}

/** The attribute decisions of one row, gathered. */
class Decisions {
  readonly changes: Record<string, AttributeChange> = {};
  readonly leftAlone: Record<string, AttributeLeftAlone> = {};
  readonly written: string[] = [];
  readonly confirmed: string[] = [];
  readonly takenOver: string[] = [];

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
    // The same value is nothing to report: the source that set it confirms it, one at least as strong takes it over.
    if (verdict.reason === 'same_value') {
      const incoming = { source: this.context.source, seenAt: this.context.observedAt };
      if (holdsSameValue({ authorities: this.context.authorities, attribute, incoming, provenance: heldBy })) {
        (heldBy?.source === this.context.source ? this.confirmed : this.takenOver).push(attribute);
      }
      return false;
    }
    this.leave(attribute, offered, current, verdict.reason);
    return false;
  }

  leave(attribute: string, offered: unknown, current: unknown, reason: AttributeLeftAlone['reason']): void {
    delete this.changes[attribute];
    for (const list of [this.written, this.confirmed, this.takenOver]) {
      const at = list.indexOf(attribute);
      if (at >= 0) list.splice(at, 1);
    }
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

/**
 * A host name and its domain are one name: decided together, so both are written or both left
 * alone and no name is written that nobody checked. A row that gives a host name without a domain
 * names a host in no domain, as identification reads it.
 */
function decideHost(decisions: Decisions, row: InventoryRow, current: { hostname: string | null; domain: string | null } | null): void {
  if (row.hostname === null) return;
  decisions.decide('hostname', row.hostname, current?.hostname ?? null);
  if (row.domain !== null || (current?.domain ?? null) !== null) decisions.decide('domain', row.domain, current?.domain ?? null);
  const written = (['hostname', 'domain'] as const).filter((attribute) => decisions.written.includes(attribute));
  if (written.length !== 1) return;
  const other = written[0] === 'hostname' ? 'domain' : 'hostname';
  if (decisions.leftAlone[other]) decisions.leave(written[0], row[written[0]], current?.[written[0]] ?? null, 'host_and_domain_together');
}

/** The identifiers a record may take: those no other record holds (the database holds them unique). */
function takeIdentifiers(decisions: Decisions, lookups: ChunkLookups, row: InventoryRow, self: CurrentRecord | null): void {
  const heldByOther = (attributes: IdentifyingAttribute[]) => ciIdsOf(holdersOf(lookups, attributes, row)).some((id) => id !== self?.id);
  // Host name and domain are written together (decideHost): the name written is the row's.
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
  if (lookups.names.has(classNameKey(row.ciClass, name))) {
    return refused(input.rowNumber, [{
      column: 'name', value: name,
      reason: `a ${row.ciClass} named ${name} exists without this row's identifiers: give that record its identifiers, or name this one otherwise`,
    }]);
  }
  const decisions = new Decisions(context, new Map());
  const offered: [string, unknown][] = [
    ['name', name], ['macAddress', row.macAddress], ['cloudResourceId', row.cloudResourceId], ['operationalStatus', row.operationalStatus], ['environment', row.environment],
  ];
  for (const [attribute, value] of offered) if (value !== null) decisions.decide(attribute, value, null);
  decideHost(decisions, row, null);
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
  // A record holding none of the row's identifiers could not be found again: the same row would then make another.
  const asset = record.asset;
  const findable = record.ci.hostname || record.ci.macAddress || record.ci.cloudResourceId || asset?.kind === 'taken_over'
    || (asset?.kind === 'new' && (asset.serialNumber || asset.assetTag));
  if (!findable) {
    const noModel = HARDWARE_CLASSES.includes(row.ciClass) && asset === null;
    return refused(input.rowNumber, [noModel
      ? {
        column: 'model', value: row.model,
        reason: `model ${row.model ? 'unknown' : 'not given'}: the serial and asset tag of a new ${row.ciClass} are kept on its asset, which needs a model; `
          + 'add the model to the catalogue (or give one), or give a host name, MAC address or cloud id',
      }
      : {
        column: '(row)', value: null,
        reason: `the new record would keep none of this row's identifiers (${HARDWARE_CLASSES.includes(row.ciClass) ? 'other records hold them' : `a ${row.ciClass} keeps no serial or asset tag`}): `
          + 'give a host name, MAC address or cloud id it can be found by again',
      }]);
  }
  softwareDecisions(decisions, input.software);
  return {
    rowNumber: input.rowNumber, verdict: 'create', naturalKey, problems: [], ...report(decisions),
    identification: { outcome: 'create', recordIds: [], claims: claimsOf(row, name) },
    plan: { kind: 'create', record, written: decisions.written }, software: input.software, row,
  };
}

function judgeMatch(context: BatchContext, lookups: ChunkLookups, input: RowInput, naturalKey: string, record: CurrentRecord, rule: IdentificationRule): Judgement {
  const { row } = input;
  const decisions = new Decisions(context, lookups.provenance.get(record.id) ?? new Map());
  if (row.ciClass !== record.ciClass) decisions.leave('ciClass', row.ciClass, record.ciClass, 'class_differs');
  if (row.name && decisions.decide('name', row.name, record.name)) {
    const holder = lookups.names.get(classNameKey(record.ciClass, row.name));
    if (holder !== undefined && holder !== record.id) decisions.leave('name', row.name, record.name, 'name_taken');
  }
  const offered: [string, string | null, string | null][] = [
    ['macAddress', row.macAddress, record.macAddress], ['cloudResourceId', row.cloudResourceId, record.cloudResourceId],
    ['operationalStatus', row.operationalStatus, record.operationalStatus], ['environment', row.environment, record.environment],
  ];
  for (const [attribute, value, current] of offered) if (value !== null) decisions.decide(attribute, value, current);
  decideHost(decisions, row, record);
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
    identification: {
      outcome: 'match', rule: [...rule.attributes], recordIds: [record.id], claims: claimsOf(row, decisions.written.includes('name') ? row.name : null),
    },
    plan: {
      kind: changed ? 'update' : 'unchanged', ciId: record.id, assetId: record.asset?.assetId ?? null, ci, asset,
      written: decisions.written, confirmed: decisions.confirmed, takenOver: decisions.takenOver,
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
  if (found.outcome === 'conflict') return refused(input.rowNumber, [{ column: '(row)', value: null, reason: found.reason }]);
  if (found.outcome === 'duplicate') {
    return {
      rowNumber: input.rowNumber, verdict: 'hold', naturalKey, problems: [], changes: null, leftAlone: null,
      identification: { outcome: 'duplicate', rule: [...found.rule.attributes], recordIds: found.recordIds, reason: found.reason, claims: claimsOf(input.row, null) },
      plan: { kind: 'hold', ciIds: found.recordIds, reason: found.reason }, software: null, row: input.row,
    };
  }
  if (found.outcome === 'create') return judgeCreate(context, lookups, input, naturalKey);
  const record = lookups.records.get(found.recordId);
  // Gone between the identifiers' read and the record's (merged by a steward meanwhile): judged again on the next attempt.
  if (!record) throw new Error(`the record ${found.recordId} a row was identified with is gone; the chunk is judged again`);
  return judgeMatch(context, lookups, input, naturalKey, record, found.rule);
}
