/**
 * A record a feed created is "discovered" until a person has looked at it and says it is real and
 * right: marking it verified is that person's word, audited.
 */
import type { Knex } from 'knex';
import { insertAuditRow } from '../audit-rows';

/**
 * Marks a discovered CI verified, with its audit row in the same transaction. Answers whether it
 * changed anything: a CI verified already (by someone else meanwhile) stays as it is, unaudited.
 */
export async function markCiVerified(db: Knex, ciId: string, actor: { email: string }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const changed = await trx('configuration_items').where({ id: ciId, discovery_state: 'discovered' })
      .update({ discovery_state: 'verified' }).returning('number') as { number: string }[];
    if (!changed.length) return false;
    await insertAuditRow(trx, {
      actor: actor.email, subjectType: 'configuration_item', subjectId: ciId, action: 'verified',
      fromState: 'discovered', toState: 'verified', details: { number: changed[0].number },
    });
    return true;
  });
}
