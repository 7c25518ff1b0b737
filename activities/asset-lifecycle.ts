import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { TransitionFacts } from '../domain/asset-lifecycle';
import { bookValue } from '../domain/depreciation';
import { formatMoney } from '../domain/money';
import { localInputValue } from '../domain/time-zones';
import { pageLinks } from '../domain/web-links';
import { loadTransitionFacts, type AssetRow } from '../model/assets';
import { licencePositions } from '../model/licences';
import {
  LifecycleFailure,
  type RecordTransitionInput,
  type RecordTransitionResult,
  type ReminderInput,
  type RetirementEffectInput,
  type SecurityNoticeInput,
} from '../workflows/asset-lifecycle/contract';
import { recordOnce } from './audit';
import { addresseeTimeZone, queueEmail } from './email';

export interface AssetLifecycleActivityDeps {
  db: Knex;
  publicUrl: string;
  securityNoticeEmail: string;
  /** The organisation's time zone (TIME_ZONE), for addressees without one of their own. */
  timeZone?: string;
}

interface AssetForMail extends AssetRow {
  model_name: string;
  assigned_to_name: string | null;
  manager_email: string | null;
  manager_name: string | null;
  cost_centre_code: string | null;
  cost_centre_owner_email: string | null;
}

async function assetForMail(db: Knex, assetId: string): Promise<AssetForMail> {
  const row = await db('assets as a')
    .join('hardware_models as m', 'm.id', 'a.model_id')
    .leftJoin('people as u', 'u.id', 'a.assigned_to_id')
    .leftJoin('people as mgr', 'mgr.id', 'a.managed_by_id')
    .leftJoin('cost_centres as cc', 'cc.id', 'a.cost_centre_id')
    .leftJoin('people as owner', 'owner.id', 'cc.owner_id')
    .where('a.id', assetId)
    .first(
      'a.*',
      db.raw(`m.manufacturer || ' ' || m.name AS model_name`),
      'u.name as assigned_to_name',
      'mgr.email as manager_email',
      'mgr.name as manager_name',
      'cc.code as cost_centre_code',
      'owner.email as cost_centre_owner_email',
    );
  if (!row) throw ApplicationFailure.nonRetryable(`asset ${assetId} does not exist`, LifecycleFailure.assetNotFound);
  return row as AssetForMail;
}

/** Today's date where the reader is: a date that ended in Lisbon may not have in Berlin yet. */
function todayIn(zone: string): string {
  return localInputValue(new Date(), zone).slice(0, 10);
}

export function createAssetLifecycleActivities({ db, publicUrl, securityNoticeEmail, timeZone }: AssetLifecycleActivityDeps) {
  const links = pageLinks(publicUrl);

  return {
    async loadTransitionFacts(assetId: string): Promise<TransitionFacts> {
      return loadTransitionFacts(db, assetId);
    },

    /** Moves the asset row from the state the workflow knows to the new one, compare-and-set on its version. */
    async recordTransition(input: RecordTransitionInput): Promise<RecordTransitionResult> {
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: input.actor,
          subjectType: 'asset',
          subjectId: input.assetId,
          action: 'transition',
          fromState: input.from.substate ? `${input.from.state}/${input.from.substate}` : input.from.state,
          toState: input.to.substate ? `${input.to.state}/${input.to.substate}` : input.to.state,
          workflowId: input.workflowId,
          details: { note: input.note ?? null, assignedToId: input.assignedToId },
        },
        async (trx) => {
          const retiring = input.to.state === 'retired';
          const [row] = await trx('assets')
            .where({ id: input.assetId, version: input.expectedVersion })
            .update({
              state: input.to.state,
              substate: input.to.substate,
              assigned_to_id: input.assignedToId,
              version: input.expectedVersion + 1,
              updated_at: trx.fn.now(),
              ...(retiring ? { retired_at: trx.fn.now() } : {}),
              ...(input.dataWipeAttestation ? { disposal_attestation: input.dataWipeAttestation } : {}),
            })
            .returning(['version', 'retired_at']);
          if (!row) {
            const exists = await trx('assets').where({ id: input.assetId }).first('version');
            if (!exists) throw ApplicationFailure.nonRetryable(`asset ${input.assetId} does not exist`, LifecycleFailure.assetNotFound);
            throw ApplicationFailure.nonRetryable(
              `asset ${input.assetId} is at version ${exists.version}, expected ${input.expectedVersion}: it was changed outside its lifecycle workflow`,
              LifecycleFailure.assetChangedElsewhere,
            );
          }
          const result = { version: row.version as number, retiredAt: row.retired_at ? (row.retired_at as Date).toISOString() : null };
          return { result, details: input.dataWipeAttestation ? { dataWipeAttestation: input.dataWipeAttestation } : undefined };
        },
      );
    },

    /** Frees the licences installed on or assigned through a retired asset; returns how many were reclaimed. */
    async reclaimLicences(input: RetirementEffectInput): Promise<number> {
      return recordOnce(
        db,
        { ...input, subjectType: 'asset', subjectId: input.assetId, action: 'licences_reclaimed' },
        async (trx) => {
          const reclaimed: { product_id: string; units: number }[] = await trx('software_consumptions')
            .where({ asset_id: input.assetId })
            .whereNull('reclaimed_at')
            .update({ reclaimed_at: trx.fn.now(), reclaimed_by_key: input.idempotencyKey })
            .returning(['product_id', 'units']);
          const productIds = [...new Set(reclaimed.map((r) => r.product_id))];
          const positions = productIds.length ? await licencePositions(trx, productIds) : [];
          return {
            result: reclaimed.length,
            details: {
              reclaimed: positions.map((p) => ({
                product: `${p.publisher} ${p.product}`,
                units: reclaimed.filter((r) => r.product_id === p.productId).reduce((sum, r) => sum + r.units, 0),
                positionAfter: p.position,
                entitledUnits: p.entitledUnits,
                consumedUnitsAfter: p.consumedUnits,
              })),
            },
          };
        },
      );
    },

    /** Records the book value at retirement, from the asset's depreciation method. */
    async recordRetirementBookValue(input: RetirementEffectInput): Promise<number> {
      return recordOnce(
        db,
        { ...input, subjectType: 'asset', subjectId: input.assetId, action: 'book_value_recorded' },
        async (trx) => {
          const asset: AssetRow | undefined = await trx('assets').where({ id: input.assetId }).first();
          if (!asset) throw ApplicationFailure.nonRetryable(`asset ${input.assetId} does not exist`, LifecycleFailure.assetNotFound);
          const onDate = (asset.retired_at ?? new Date()).toISOString().slice(0, 10);
          const value = bookValue({
            method: asset.depreciation_method,
            costMinor: asset.purchase_cost_minor,
            salvageMinor: asset.salvage_value_minor,
            usefulLifeMonths: asset.useful_life_months,
            purchaseDate: asset.purchase_date ?? onDate,
            onDate,
          });
          await trx('assets').where({ id: input.assetId }).update({ retirement_book_value_minor: value });
          return {
            result: value,
            details: {
              method: asset.depreciation_method,
              costMinor: asset.purchase_cost_minor,
              currency: asset.currency,
              purchaseDate: asset.purchase_date,
              onDate,
            },
          };
        },
      );
    },

    /** Tells security, and the asset's manager, that a lost or stolen asset may expose data. */
    async sendSecurityNotice({ lastAssignedToId, ...input }: SecurityNoticeInput): Promise<void> {
      const asset = await assetForMail(db, input.assetId);
      const lastUser = lastAssignedToId ? await db('people').where({ id: lastAssignedToId }).first('name', 'email') : undefined;
      const recipients = [securityNoticeEmail, asset.manager_email].filter((r): r is string => Boolean(r));
      const subject = `Security notice: ${asset.asset_tag} reported ${asset.substate}`;
      const text = [
        `Asset ${asset.asset_tag} (${asset.model_name}, serial ${asset.serial_number ?? 'unknown'}) was retired as ${asset.substate} by ${input.actor}.`,
        `Last assigned to: ${lastUser ? `${lastUser.name} <${lastUser.email}>` : 'nobody'}`,
        `Location: ${asset.location ?? 'unknown'}; cost centre: ${asset.cost_centre_code ?? 'none'}.`,
        '',
        'Treat any data on it as exposed: revoke its certificates and sessions, and rotate credentials it held.',
        `Asset record: ${links.asset(asset.asset_tag)}`,
      ].join('\n');
      await recordOnce(
        db,
        { ...input, subjectType: 'asset', subjectId: input.assetId, action: 'security_notice_sent', details: { recipients } },
        async () => {
          const sent = await queueEmail(db, {
            idempotencyKey: input.idempotencyKey,
            template: 'security_notice',
            to: recipients,
            subject,
            text,
            subjectType: 'asset',
            subjectId: input.assetId,
            workflowId: input.workflowId,
          });
          return { result: sent.messageId };
        },
      );
    },

    /** Emails the asset's manager (or its cost centre's owner) that a warranty or lease is ending. */
    async sendEndOfTermReminder(input: ReminderInput): Promise<void> {
      const asset = await assetForMail(db, input.assetId);
      const recipient = asset.manager_email ?? asset.cost_centre_owner_email;
      await recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: 'system:asset-lifecycle',
          subjectType: 'asset',
          subjectId: input.assetId,
          action: `${input.kind}_end_reminder`,
          workflowId: input.workflowId,
          details: { endDate: input.endDate, recipient },
        },
        async () => {
          if (!recipient) return { result: null, details: { skipped: 'the asset has no manager and no cost centre owner' } };
          const what = input.kind === 'warranty' ? 'warranty' : 'lease';
          const zone = await addresseeTimeZone(db, recipient, timeZone);
          const sent = await queueEmail(db, {
            idempotencyKey: input.idempotencyKey,
            template: `${input.kind}_end_reminder`,
            to: [recipient],
            subject: `${asset.asset_tag}: ${what} ends on ${input.endDate}`,
            text: [
              `Hello ${asset.manager_name ?? ''},`.trim(),
              '',
              `The ${what} of ${asset.asset_tag} (${asset.model_name}, serial ${asset.serial_number ?? 'unknown'}) ends on ${input.endDate}${input.endDate < todayIn(zone) ? ' (already passed)' : ''}.`,
              `It is ${asset.state}${asset.substate ? `/${asset.substate}` : ''}${asset.assigned_to_name ? `, used by ${asset.assigned_to_name}` : ''}; purchase cost ${formatMoney(asset.purchase_cost_minor, asset.currency)}.`,
              input.kind === 'warranty'
                ? 'Decide whether to extend the warranty, plan a replacement, or accept the risk.'
                : 'Decide whether to return, buy out or extend the lease before it ends.',
              `Asset record: ${links.asset(asset.asset_tag)}`,
            ].join('\n'),
            subjectType: 'asset',
            subjectId: input.assetId,
            workflowId: input.workflowId,
          });
          return { result: sent.messageId };
        },
      );
    },
  };
}

export type AssetLifecycleActivities = ReturnType<typeof createAssetLifecycleActivities>;
