/**
 * Acting on an optimisation finding with one call, for the API and the findings page alike: the
 * finding's row is locked, the process its kind calls for is started (a change reclaiming licences,
 * the asset's retirement through its lifecycle, a change naming the record, a renewal decision), and
 * the finding is marked acted with that process in the same transaction. Every start is keyed by the
 * finding (`finding:<id>`), so a call that fails half way and is repeated starts the same process,
 * never a second one; a finding acted on already answers its action. Also dismissing one, and the
 * on-demand scan.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Request } from 'express';
import { FINDING_ACTIONS, findingRefusal, type FindingActionKind } from '../domain/findings';
import { formatMoney } from '../domain/money';
import { findAsset } from '../model/assets';
import { findFinding, licenceRecordsOf, lockFinding, markActed, markDismissed, recordFindingCommand, type Finding } from '../model/findings';
import type { ApprovalTimingSettings } from '../platform/config';
import type { Database } from '../platform/database';
import type { ProcessStateWatcher } from '../platform/process-state-watcher';
import { assetLifecycleWorkflowId, type ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { findingsScanWorkflowId, type FindingsScanOutcome } from '../workflows/findings-scan/contract';
import type { findingsScanWorkflow } from '../workflows/findings-scan/workflow';
import type { Principal } from './auth';
import { conflict, notFound } from './errors';
import { commandRequestId } from './idempotency';
import { startRenewalDecision } from './renewal-decisions';
import { transitionAsset } from './routes/assets';
import { submitChange, type CreateChangeBody } from './routes/changes';
import { commandWithinDeadline, startWithinDeadline } from './workflow-calls';

export interface FindingActionDeps {
  db: Database;
  temporal: Client;
  processStates: ProcessStateWatcher;
  taskQueue: string;
  approvalTimings: ApprovalTimingSettings;
  reminders: ReminderSettings;
}

export interface FindingAction {
  /** What was started: a change, the asset's lifecycle, a renewal decision. */
  process: 'change' | 'asset_lifecycle' | 'renewal';
  workflowId: string;
  /** The number people know it by: CHG…, AST…, RNW…. */
  ref: string;
}

export interface ActedFinding {
  finding: Finding;
  action: FindingAction;
  /** The finding was acted on already: this is its action. */
  repeated: boolean;
}

/** A change request's fields for a finding: its title and why, with the money it is about. */
function changeFor(finding: Finding, title: string, affectedCiIds: string[], licenceChanges: CreateChangeBody['licenceChanges'] = []): CreateChangeBody {
  return {
    type: 'normal',
    title: title.slice(0, 200),
    description: `Raised from optimisation finding ${finding.number}: ${finding.title}. `
      + `${finding.effect === 'saving' ? 'Saving' : 'Exposure'}: ${formatMoney(finding.amountMinor, finding.currency)}.`,
    currency: finding.currency,
    affectedCiIds: affectedCiIds.slice(0, 500),
    assetActions: [],
    licenceChanges,
    oneOffCostMinor: 0,
    recurringCostMinor: 0,
  };
}

async function submitFindingChange(deps: FindingActionDeps, principal: Principal, finding: Finding, body: CreateChangeBody, req: Request): Promise<FindingAction> {
  const { reserved } = await submitChange(deps, principal, body, req, `finding:${finding.id}`);
  return { process: 'change', workflowId: reserved.workflowId, ref: reserved.number };
}

const ACTIONS: Record<FindingActionKind, (deps: FindingActionDeps, principal: Principal, finding: Finding, req: Request) => Promise<FindingAction>> = {
  async licence_reclaim_change(deps, principal, finding, req) {
    const records = await licenceRecordsOf(deps.db, finding);
    if (records.ciIds.length === 0) {
      throw conflict('nothing_to_reclaim', `${finding.number}: no record carries these licences, so no change can name one; cut the seats at the entitlement's renewal, or dismiss the finding`);
    }
    const installsRemoved = Math.min(records.units, 100_000);
    const product = (finding.details as { product?: string }).product ?? finding.subjectRef;
    return submitFindingChange(deps, principal, finding, changeFor(
      finding,
      `Reclaim licences of ${product}`,
      records.ciIds,
      installsRemoved > 0 ? [{ productId: records.productId, installsAdded: 0, installsRemoved }] : [],
    ), req);
  },
  async asset_retirement(deps, principal, finding) {
    const asset = await findAsset(deps.db, finding.subjectId);
    if (!asset) throw notFound(`no asset ${finding.subjectRef}`);
    // Retirement starts with disposal pending: how it leaves (sold, donated, disposed with its data wiped) is the asset manager's to record.
    await transitionAsset(deps, asset, { toState: 'in_stock', toSubstate: 'pending_disposal', note: `Optimisation finding ${finding.number}: ${finding.title}` }, {
      principal,
      requestId: async () => `finding:${finding.id}`,
    });
    return { process: 'asset_lifecycle', workflowId: assetLifecycleWorkflowId(asset.assetTag), ref: asset.assetTag };
  },
  async change(deps, principal, finding, req) {
    if (finding.kind === 'past_warranty_tier1') {
      const ci = (finding.details as { ci: { id: string } }).ci;
      return submitFindingChange(deps, principal, finding, changeFor(finding, `Replace ${finding.subjectRef} or extend its warranty`, [ci.id]), req);
    }
    return submitFindingChange(deps, principal, finding, changeFor(finding, `Assign an owner to ${finding.subjectRef} or decommission it`, [finding.subjectId]), req);
  },
  async renewal_decision(deps, principal, finding) {
    const renewal = await startRenewalDecision(deps, {
      contractId: finding.subjectId,
      findingId: finding.id,
      requestedBy: { id: principal.id, email: principal.email },
      idempotencyKey: `finding:${finding.id}`,
    });
    return { process: 'renewal', workflowId: renewal.workflowId, ref: renewal.number };
  },
};

/** The action an acted finding records. */
function recordedAction(finding: Finding): FindingAction {
  const process = ({ licence_reclaim_change: 'change', change: 'change', asset_retirement: 'asset_lifecycle', renewal_decision: 'renewal' } as const)[FINDING_ACTIONS[finding.kind]];
  return { process, workflowId: finding.actionWorkflowId!, ref: finding.actionRef! };
}

/**
 * Acts on a finding (POST /finops/findings/:number/act, and the page's form): starts exactly one
 * process for it. A web form gives its own key (`formKey`) in place of the Idempotency-Key header.
 */
export async function actOnFinding(deps: FindingActionDeps, principal: Principal, number: string, req: Request, formKey?: string): Promise<ActedFinding> {
  await commandRequestId(deps.db, principal.id, req, `finding:${number}`, formKey);
  const acted = await deps.db.transaction(async (trx) => {
    const finding = await lockFinding(trx, number);
    if (!finding) throw notFound(`no finding ${number}`);
    const refusal = findingRefusal(finding.state, 'act');
    if (refusal) throw conflict('finding_closed', `${number}: ${refusal}`);
    if (finding.state === 'acted') return { action: recordedAction(finding), repeated: true };
    const action = await ACTIONS[FINDING_ACTIONS[finding.kind]](deps, principal, finding, req);
    await markActed(trx, finding.id, { actedById: principal.id, workflowId: action.workflowId, ref: action.ref });
    await recordFindingCommand(trx, finding, { actor: principal.email, action: 'acted', toState: 'acted', details: { ...action } });
    return { action, repeated: false };
  });
  return { ...acted, finding: (await findFinding(deps.db, number))! };
}

/** Dismisses an open finding with the reason (POST /finops/findings/:number/dismiss, and the page's form). */
export async function dismissFinding(deps: Pick<FindingActionDeps, 'db'>, principal: Principal, number: string, reason: string): Promise<Finding> {
  await deps.db.transaction(async (trx) => {
    const finding = await lockFinding(trx, number);
    if (!finding) throw notFound(`no finding ${number}`);
    const refusal = findingRefusal(finding.state, 'dismiss');
    if (refusal) throw conflict('finding_closed', `${number}: ${refusal}`);
    await markDismissed(trx, finding.id, principal.id, reason);
    await recordFindingCommand(trx, finding, { actor: principal.email, action: 'dismissed', toState: 'dismissed', details: { reason } });
  });
  return (await findFinding(deps.db, number))!;
}

/** Runs a scan now (POST /finops/findings/scan) and answers its outcome within the command deadline. */
export async function scanFindingsNow(deps: Pick<FindingActionDeps, 'temporal' | 'taskQueue'>, asOf: string | undefined): Promise<FindingsScanOutcome & { workflowId: string }> {
  const { temporal, taskQueue } = deps;
  const workflowId = findingsScanWorkflowId(randomUUID());
  const handle = await startWithinDeadline(temporal, () =>
    temporal.workflow.start<typeof findingsScanWorkflow>('findingsScanWorkflow', { workflowId, taskQueue, args: [asOf ? { asOf } : {}] }));
  try {
    const outcome = await commandWithinDeadline(temporal, 'scanning for findings', () => handle.result(),
      `the scan ${workflowId} goes on and records what it finds: read GET /finops/findings`);
    return { workflowId, ...outcome };
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      throw conflict('findings_scan_failed', `the scan ${workflowId} failed: ${error.cause?.message ?? error.message}; the next scheduled scan tries again`);
    }
    throw error;
  }
}
