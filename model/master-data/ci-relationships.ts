import type { Knex } from 'knex';
import { z } from 'zod';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { isUuid } from '../keys';
import { CI_CLASSES } from './configuration-items';
import type { Lookups, MasterDataKind, Row, Stored } from './kind';
import { streamedInOrder, listPage, nextVersion } from './shared';

/** The edge types the table's check constraint allows, read "<from> <type> <to>". */
export const RELATIONSHIP_TYPES = ['depends_on', 'runs_on', 'hosted_on', 'uses'] as const;

/**
 * Relationships of the service map, matched on both CIs (each by name, any letter case, and class)
 * and the type; URLs name them by id. An edge is nothing but its key: importing it again changes
 * nothing, and a retired edge no longer counts in the impact walk.
 */
interface RelationshipRecord {
  id: string;
  from_name: string;
  from_class: string;
  type: string;
  to_name: string;
  to_class: string;
  version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('ci_relationships as r')
  .join('configuration_items as f', 'f.id', 'r.from_ci_id')
  .join('configuration_items as t', 't.id', 'r.to_ci_id')
  .select('r.id', 'f.name as from_name', 'f.ci_class as from_class', 'r.type', 't.name as to_name', 't.ci_class as to_class', 'r.version', 'r.retired_at');

const toRow = (r: RelationshipRecord): Row => ({ fromName: r.from_name, fromClass: r.from_class, type: r.type, toName: r.to_name, toClass: r.to_class });
const toStored = (r: RelationshipRecord): Stored => ({
  id: r.id, ref: r.id, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('r') : query);

interface CiRef {
  id: string;
  number: string;
  retired: boolean;
}

/** The CI a name (any letter case) and class name, memoised per Lookups: a file names the same hubs over and over. */
function ciByName(lookups: Lookups, name: string, ciClass: string): Promise<CiRef | null> {
  return lookups.once(`ci:${ciClass}|${name.toLowerCase()}`, async (db) => {
    const row = await db('configuration_items').whereRaw('lower(name) = lower(?)', [name]).where('ci_class', ciClass).first('id', 'number', 'retired_at');
    return row ? { id: row.id as string, number: row.number as string, retired: row.retired_at !== null } : null;
  });
}

/** One end of an edge, or why it cannot be one. */
async function end(lookups: Lookups, row: Row, side: 'from' | 'to'): Promise<CiRef | ColumnProblem> {
  const name = row[`${side}Name`] as string;
  const ciClass = row[`${side}Class`] as string;
  const ci = await ciByName(lookups, name, ciClass);
  if (!ci) return { column: `${side}Name`, value: name, reason: `no configuration item of class ${ciClass} has this name` };
  if (ci.retired) return { column: `${side}Name`, value: name, reason: `${ci.number} is retired` };
  return ci;
}

/** The live relationships of a CI, both ways, for reading a CI. */
export async function relationshipsOf(db: Knex, ciId: string) {
  const rows = await db('ci_relationships as r')
    .join('configuration_items as f', 'f.id', 'r.from_ci_id')
    .join('configuration_items as t', 't.id', 'r.to_ci_id')
    .where((w) => w.where('r.from_ci_id', ciId).orWhere('r.to_ci_id', ciId))
    .whereNull('r.retired_at')
    .orderBy(['r.type', 'f.number', 't.number'])
    .select('r.id', 'r.type', 'r.from_ci_id', 'f.number as from_number', 'f.name as from_name', 'f.ci_class as from_class',
      'r.to_ci_id', 't.number as to_number', 't.name as to_name', 't.ci_class as to_class');
  const other = (r: Record<string, string>, side: 'from' | 'to') =>
    ({ relationshipId: r.id, type: r.type, ci: { id: r[`${side}_ci_id`], number: r[`${side}_number`], name: r[`${side}_name`], ciClass: r[`${side}_class`] } });
  return {
    /** What this CI depends on, runs on, is hosted on or uses. */
    outgoing: rows.filter((r) => r.from_ci_id === ciId).map((r) => other(r, 'to')),
    /** What depends on, runs on, is hosted on or uses this CI. */
    incoming: rows.filter((r) => r.to_ci_id === ciId).map((r) => other(r, 'from')),
  };
}

export const ciRelationships: MasterDataKind = {
  name: 'ci-relationships',
  title: 'CI relationships',
  subjectType: 'ci_relationship',
  path: '/ci-relationships',
  readsElsewhere: false,
  writers: ['asset_manager', 'admin'],
  columns: ['fromName', 'fromClass', 'type', 'toName', 'toClass'],
  keyColumns: ['fromName', 'fromClass', 'type', 'toName', 'toClass'],
  sortColumns: ['fromName', 'type', 'toName'],
  schema: z.object({
    fromName: cells.text(200),
    fromClass: cells.oneOf(CI_CLASSES),
    type: cells.oneOf(RELATIONSHIP_TYPES),
    toName: cells.text(200),
    toClass: cells.oneOf(CI_CLASSES),
  }),

  async findByKey(lookups, key, lock) {
    const [from, to] = await Promise.all([
      ciByName(lookups, key.fromName as string, key.fromClass as string),
      ciByName(lookups, key.toName as string, key.toClass as string),
    ]);
    if (!from || !to) return null;
    const row = await locked(select(lookups.db).where({ 'r.from_ci_id': from.id, 'r.to_ci_id': to.id, 'r.type': key.type as string }), lock).first();
    // The CIs matched in any letter case, so the edge reads back as the key spelled them: the same edge is unchanged.
    return row ? toStored({ ...row, from_name: key.fromName, to_name: key.toName }) : null;
  },

  async findByRef(db, ref, lock) {
    if (!isUuid(ref)) return null;
    const row = await locked(select(db).where('r.id', ref), lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row) {
    const [from, to] = await Promise.all([end(lookups, row, 'from'), end(lookups, row, 'to')]);
    const problems = [from, to].filter((e): e is ColumnProblem => 'reason' in e);
    if (problems.length > 0) return { problems };
    const [fromCi, toCi] = [from as CiRef, to as CiRef];
    if (fromCi.id === toCi.id) return { problems: [{ column: 'toName', value: row.toName, reason: 'a configuration item cannot be related to itself' }] };
    return { values: { from_ci_id: fromCi.id, to_ci_id: toCi.id, type: row.type } };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('ci_relationships').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('ci_relationships').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('ci_relationships').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<RelationshipRecord>({
      query: select(db), searchColumns: ['f.name', 't.name', 'f.number', 't.number'],
      sortable: { fromName: 'f.name', type: 'r.type', toName: 't.name' },
      defaultSort: 'fromName', idColumn: 'r.id', retiredColumn: 'r.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<RelationshipRecord>(select(db).whereNull('r.retired_at').orderBy('f.name').orderBy('r.type'), 't.name', 'r.id', toRow);
  },
};
