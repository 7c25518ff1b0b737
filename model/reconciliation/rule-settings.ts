/**
 * The rules of identification and reconciliation and the inventory sources, as data people edit
 * (issue 16): each read with a version, each write made on the version read (refused when that is
 * no longer current, checked in the write's own transaction) and audited with the values before and
 * after. The JSON API and the web pages both write through here.
 */
import type { Knex } from 'knex';
import type { IdentificationRulesInput, InventorySourceInput, ReconciliationRuleInput } from '../../domain/inventory-intake';
import { DISCOVERABLE_CLASSES, type DiscoverableClass, type IdentifyingAttribute, type InventorySource } from '../../domain/reconciliation';
import { insertAuditRow } from '../audit-rows';
import { SettingRefused, settingSubjectId } from '../process-settings';

const stale = (what: string, currentVersion: number) => new SettingRefused({
  rule: 'version_mismatch',
  currentVersion,
  message: `${what} changed since you read it: the current version is ${currentVersion}; read it again and repeat your change`,
});

// --- identification rules --------------------------------------------------------------------------

export interface IdentificationRuleSetting {
  /** 1 is tried first. */
  priority: number;
  attributes: IdentifyingAttribute[];
  active: boolean;
}

/** A class's rules as a whole: they are read and written together, under one version. */
export interface ClassIdentificationRules {
  ciClass: DiscoverableClass;
  version: number;
  rules: IdentificationRuleSetting[];
}

interface IdentificationRuleRow {
  ci_class: DiscoverableClass;
  priority: number;
  attributes: IdentifyingAttribute[];
  active: boolean;
  version: number;
}

/** The list's version is its rows' highest: a save writes every row at one above it. */
function toClassRules(ciClass: DiscoverableClass, rows: IdentificationRuleRow[]): ClassIdentificationRules {
  return {
    ciClass,
    version: Math.max(0, ...rows.map((row) => row.version)),
    rules: rows.map((row) => ({ priority: row.priority, attributes: row.attributes, active: row.active })),
  };
}

const ruleRows = (db: Knex) => db('identification_rules').select('ci_class', 'priority', 'attributes', 'active', 'version').orderBy(['ci_class', 'priority']);

/** Every discoverable class's rules, in the order of the classes. */
export async function listIdentificationRules(db: Knex): Promise<ClassIdentificationRules[]> {
  const rows = (await ruleRows(db)) as IdentificationRuleRow[];
  return DISCOVERABLE_CLASSES.map((ciClass) => toClassRules(ciClass, rows.filter((row) => row.ci_class === ciClass)));
}

export async function identificationRulesOf(db: Knex, ciClass: DiscoverableClass): Promise<ClassIdentificationRules> {
  return toClassRules(ciClass, (await ruleRows(db).where({ ci_class: ciClass })) as IdentificationRuleRow[]);
}

/** Writers of one class's rules take turns: the rows are replaced whole, so there is no row to lock before the first write. */
const lockClassRules = (trx: Knex.Transaction, ciClass: string) => trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`identification_rules:${ciClass}`]);

/**
 * Replaces a class's rules with `input` (priorities from its order) if the class is still at one of
 * `expected`; batches checked from now on identify by them. Saving the rules as they are changes nothing.
 */
export async function saveIdentificationRules(
  db: Knex, ciClass: DiscoverableClass, input: IdentificationRulesInput, expected: number[], actor: string,
): Promise<{ rules: ClassIdentificationRules; changed: boolean }> {
  return db.transaction(async (trx) => {
    await lockClassRules(trx, ciClass);
    const current = await identificationRulesOf(trx, ciClass);
    if (!expected.includes(current.version)) throw stale(`the identification rules of ${ciClass}`, current.version);
    const rules = input.rules.map((rule, at) => ({ priority: at + 1, attributes: rule.attributes, active: rule.active }));
    if (JSON.stringify(rules) === JSON.stringify(current.rules)) return { rules: current, changed: false };
    const version = current.version + 1;
    await trx('identification_rules').where({ ci_class: ciClass }).delete();
    await trx('identification_rules').insert(rules.map((rule) => ({
      ci_class: ciClass, priority: rule.priority, attributes: trx.raw('?::text[]', [`{${rule.attributes.join(',')}}`]), active: rule.active, version,
    })));
    await insertAuditRow(trx, {
      actor, subjectType: 'identification_rules', subjectId: settingSubjectId('identification_rules', ciClass), action: 'updated',
      details: { ciClass, before: { version: current.version, rules: current.rules }, after: { version, rules } },
    });
    return { rules: { ciClass, version, rules }, changed: true };
  });
}

// --- reconciliation rules --------------------------------------------------------------------------

export interface ReconciliationRuleSetting {
  /** An attribute, or '*' for every attribute without a rule of its own. */
  attribute: string;
  /** Strongest first. */
  sources: InventorySource[];
  stalenessDays: number;
  version: number;
}

interface ReconciliationRuleRow {
  attribute: string;
  sources: InventorySource[];
  staleness_days: number;
  version: number;
}

const toReconciliationRule = (row: ReconciliationRuleRow): ReconciliationRuleSetting =>
  ({ attribute: row.attribute, sources: row.sources, stalenessDays: row.staleness_days, version: row.version });

const reconciliationSubject = (attribute: string) => settingSubjectId('reconciliation_rule', attribute);

/** Every rule: the '*' rule first, then by attribute. */
export async function listReconciliationRules(db: Knex): Promise<ReconciliationRuleSetting[]> {
  const rows = (await db('reconciliation_rules').select('attribute', 'sources', 'staleness_days', 'version')
    .orderByRaw(`attribute <> '*', attribute`)) as ReconciliationRuleRow[];
  return rows.map(toReconciliationRule);
}

export async function findReconciliationRule(db: Knex, attribute: string, lock = false): Promise<ReconciliationRuleSetting | undefined> {
  const q = db('reconciliation_rules').where({ attribute }).first('attribute', 'sources', 'staleness_days', 'version');
  if (lock) q.forUpdate();
  const row = (await q) as ReconciliationRuleRow | undefined;
  return row && toReconciliationRule(row);
}

const sourcesArray = (trx: Knex, sources: readonly string[]) => trx.raw('?::text[]', [`{${sources.join(',')}}`]);

/**
 * Sets the rule of an attribute: without `expected` it creates one (refused when the attribute has
 * one already); with it, it changes the one at that version ("0" names a rule not there yet).
 */
export async function saveReconciliationRule(
  db: Knex, attribute: string, input: ReconciliationRuleInput, expected: number[] | undefined, actor: string,
): Promise<{ rule: ReconciliationRuleSetting; created: boolean; changed: boolean }> {
  return db.transaction(async (trx) => {
    const current = await findReconciliationRule(trx, attribute, true);
    const subjectId = reconciliationSubject(attribute);
    const after = { sources: input.sources, stalenessDays: input.stalenessDays };
    if (!current) {
      if (expected && !expected.includes(0)) throw stale(`the reconciliation rule of ${attribute}`, 0);
      const inserted = (await trx('reconciliation_rules')
        .insert({ attribute, sources: sourcesArray(trx, input.sources), staleness_days: input.stalenessDays })
        .onConflict('attribute').ignore()
        .returning(['attribute', 'sources', 'staleness_days', 'version'])) as ReconciliationRuleRow[];
      // Another create of the same rule committed first: this one was made without seeing it.
      if (inserted.length === 0) throw stale(`the reconciliation rule of ${attribute}`, (await findReconciliationRule(trx, attribute))?.version ?? 1);
      await insertAuditRow(trx, { actor, subjectType: 'reconciliation_rule', subjectId, action: 'created', details: { attribute, before: null, after } });
      return { rule: toReconciliationRule(inserted[0]), created: true, changed: true };
    }
    if (!expected) {
      throw new SettingRefused({
        rule: 'version_required', currentVersion: current.version,
        message: `${attribute} has a reconciliation rule already (version ${current.version}): send it as If-Match to change it`,
      });
    }
    if (!expected.includes(current.version)) throw stale(`the reconciliation rule of ${attribute}`, current.version);
    const before = { sources: current.sources, stalenessDays: current.stalenessDays };
    if (JSON.stringify(before) === JSON.stringify(after)) return { rule: current, created: false, changed: false };
    const [row] = (await trx('reconciliation_rules').where({ attribute })
      .update({ sources: sourcesArray(trx, input.sources), staleness_days: input.stalenessDays, version: trx.raw('version + 1') })
      .returning(['attribute', 'sources', 'staleness_days', 'version'])) as ReconciliationRuleRow[];
    await insertAuditRow(trx, { actor, subjectType: 'reconciliation_rule', subjectId, action: 'updated', details: { attribute, before, after } });
    return { rule: toReconciliationRule(row), created: false, changed: true };
  });
}

/** Removes an attribute's rule (at the version read): the '*' rule covers it from now on. The '*' rule itself stays. */
export async function removeReconciliationRule(db: Knex, attribute: string, expected: number[], actor: string): Promise<ReconciliationRuleSetting> {
  if (attribute === '*') {
    throw new SettingRefused({
      rule: 'invalid_input', message: 'attribute: the * rule covers every attribute without a rule of its own and cannot be removed; change it instead',
      problems: [{ path: 'attribute', message: 'the * rule cannot be removed; change it instead' }],
    });
  }
  return db.transaction(async (trx) => {
    const current = await findReconciliationRule(trx, attribute, true);
    if (!current) throw new SettingRefused({ rule: 'not_found', message: `${attribute} has no reconciliation rule of its own` });
    if (!expected.includes(current.version)) throw stale(`the reconciliation rule of ${attribute}`, current.version);
    await trx('reconciliation_rules').where({ attribute }).delete();
    await insertAuditRow(trx, {
      actor, subjectType: 'reconciliation_rule', subjectId: reconciliationSubject(attribute), action: 'removed',
      details: { attribute, before: { sources: current.sources, stalenessDays: current.stalenessDays, version: current.version }, after: null },
    });
    return current;
  });
}

// --- sources -------------------------------------------------------------------------------------

export interface InventorySourceSetting {
  name: InventorySource;
  title: string;
  /** After this many days unseen, a record the source reported becomes a missing candidate; null: never. */
  unseenAfterDays: number | null;
  position: number;
  version: number;
}

interface SourceRow {
  name: InventorySource;
  title: string;
  unseen_after_days: number | null;
  position: number;
  version: number;
}

const toSource = (row: SourceRow): InventorySourceSetting =>
  ({ name: row.name, title: row.title, unseenAfterDays: row.unseen_after_days, position: row.position, version: row.version });

export async function listInventorySources(db: Knex): Promise<InventorySourceSetting[]> {
  return ((await db('inventory_sources').orderBy('position').select()) as SourceRow[]).map(toSource);
}

export async function findInventorySource(db: Knex, name: string, lock = false): Promise<InventorySourceSetting | undefined> {
  const q = db('inventory_sources').where({ name }).first();
  if (lock) q.forUpdate();
  const row = (await q) as SourceRow | undefined;
  return row && toSource(row);
}

/** Changes a source's unseen period if it is still at one of `expected`; the unseen watch takes it at its next run. */
export async function updateInventorySource(
  db: Knex, name: string, input: InventorySourceInput, expected: number[], actor: string,
): Promise<{ source: InventorySourceSetting; changed: boolean }> {
  return db.transaction(async (trx) => {
    const current = await findInventorySource(trx, name, true);
    if (!current) throw new SettingRefused({ rule: 'not_found', message: `no inventory source ${name}` });
    if (!expected.includes(current.version)) throw stale(`the source ${name}`, current.version);
    if (current.unseenAfterDays === input.unseenAfterDays) return { source: current, changed: false };
    const [row] = (await trx('inventory_sources').where({ name })
      .update({ unseen_after_days: input.unseenAfterDays, version: trx.raw('version + 1') }).returning('*')) as SourceRow[];
    await insertAuditRow(trx, {
      actor, subjectType: 'inventory_source', subjectId: settingSubjectId('inventory_source', name), action: 'updated',
      details: { name, before: { unseenAfterDays: current.unseenAfterDays }, after: { unseenAfterDays: input.unseenAfterDays } },
    });
    return { source: toSource(row), changed: true };
  });
}
