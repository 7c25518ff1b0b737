/**
 * The rules of identification and reconciliation, and the sources, as the data holds them: read
 * once per chunk (they are a few dozen rows), so a rule an administrator changes applies from the
 * next chunk on.
 */
import type { Knex } from 'knex';
import type { AttributeAuthority, IdentificationRule, IdentifyingAttribute, InventorySource } from '../../domain/reconciliation';
import { together } from './engine-lookups';

export interface ReconciliationRules {
  /** Active identification rules per CI class, in priority order. */
  identification: Map<string, IdentificationRule[]>;
  authorities: AttributeAuthority[];
  /** Each source's period unseen (days) after which a record it reported becomes a missing candidate; absent: never. */
  unseenAfterDays: Map<InventorySource, number>;
}

export async function loadReconciliationRules(db: Knex): Promise<ReconciliationRules> {
  const [rules, authorities, sources] = await together(db, [
    () => db('identification_rules').where({ active: true }).orderBy(['ci_class', 'priority']).select('ci_class', 'priority', 'attributes') as
      Promise<{ ci_class: string; priority: number; attributes: IdentifyingAttribute[] }[]>,
    () => db('reconciliation_rules').orderBy('attribute').select('attribute', 'sources', 'staleness_days') as
      Promise<{ attribute: string; sources: InventorySource[]; staleness_days: number }[]>,
    () => db('inventory_sources').whereNotNull('unseen_after_days').select('name', 'unseen_after_days') as
      Promise<{ name: InventorySource; unseen_after_days: number }[]>,
  ] as const);
  const identification = new Map<string, IdentificationRule[]>();
  for (const rule of rules) {
    const list = identification.get(rule.ci_class) ?? [];
    list.push({ priority: rule.priority, attributes: rule.attributes });
    identification.set(rule.ci_class, list);
  }
  return {
    identification,
    authorities: authorities.map((a) => ({ attribute: a.attribute, sources: a.sources, stalenessDays: a.staleness_days })),
    unseenAfterDays: new Map(sources.map((s) => [s.name, s.unseen_after_days])),
  };
}
