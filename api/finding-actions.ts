/**
 * Acting on an optimisation finding with one call, for the API and the findings page alike. In a
 * short transaction holding the finding's row the action is claimed: the workflow id (and number) it
 * starts under is reserved from the finding alone (`finding:<number>:<attempt>`) and written on the
 * finding with who acts. Then, with no transaction and no row held, the process its kind calls for is
 * started (a change reclaiming licences or naming a record, the asset's retirement through its
 * lifecycle, a renewal decision), idempotent by that reservation whoever calls; then the finding is
 * marked acted. A call that fails half way, repeated by anyone, finds the claim and starts the same
 * process, never a second one; a finding acted on already answers its action. A refusal of the
 * process (4xx) gives the claim back, kept in the finding's past actions. Also dismissing one, and
 * the on-demand scan.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Request } from 'express';
import type { Knex } from 'knex';
import { ACTION_PROCESSES, FINDING_ACTIONS, findingRefusal, type ActionProcess } from '../domain/findings';
import { formatMoney } from '../domain/money';
import { findAsset } from '../model/assets';
import { reserveChangeNumber } from '../model/changes';
import {
  claimAction,
  findFinding,
  isIdleInStock,
  licenceRecordsOf,
  lockFinding,
  markActed,
  markDismissed,
  pastActionsOf,
  recordFindingCommand,
  reopenFinding,
  resolveFinding,
  settleActions,
  type Finding,
} from '../model/findings';
import { processState } from '../model/processes';
import { findSubmission, rememberSubmission } from '../model/submissions';
import type { ApprovalTimingSettings } from '../platform/config';
import type { Database } from '../platform/database';
import type { ProcessStateWatcher } from '../platform/process-state-watcher';
import { assetLifecycleWorkflowId, type ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { changeWorkflowId } from '../workflows/change-request/contract';
import { findingsScanWorkflowId, type FindingsScanOutcome } from '../workflows/findings-scan/contract';
import type { findingsScanWorkflow } from '../workflows/findings-scan/workflow';
import type { Principal } from './auth';
import { conflict, notFound, toHttpError } from './errors';
import { commandRequestId } from './idempotency';
import { startRenewalDecision } from './renewal-decisions';
import { transitionAsset } from './routes/assets';
import { changeSubmissionOf, startChangeWorkflow, type CreateChangeBody } from './routes/changes';
import { REGISTRATION_WAIT_MS } from './submissions';
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
  process: ActionProcess;
  workflowId: string;
  /** The number people know it by: CHG…, AST…, RNW…. */
  ref: string;
}

export interface ActedFinding {
  finding: Finding;
  action: FindingAction;
  /** The action was asked for already (acted on, or claimed by a call that did not finish): this is it. */
  repeated: boolean;
}

/** A claimed action: what it starts under, and who asked for it (the requester whoever finishes starting it). */
interface Claim {
  finding: Finding;
  attemptKey: string;
  workflowId: string;
  ref: string;
  claimer: { id: string; email: string };
}

/** A change request's fields for a finding: its title and why, with the money it is about. */
function changeFor(finding: Finding, title: string, affectedCiIds: string[], licenceChanges: CreateChangeBody['licenceChanges'] = [], figures = ''): CreateChangeBody {
  return {
    type: 'normal',
    title: title.slice(0, 200),
    description: (`Raised from optimisation finding ${finding.number}: ${finding.title}. `
      + `${finding.effect === 'saving' ? 'Saving' : 'Exposure'}: ${formatMoney(finding.amountMinor, finding.currency)}.${figures}`).slice(0, 10_000),
    currency: finding.currency,
    affectedCiIds: affectedCiIds.slice(0, 500),
    assetActions: [],
    licenceChanges,
    oneOffCostMinor: 0,
    recurringCostMinor: 0,
  };
}

interface EntitlementShare { number: string; units: number; quantity: number; endsOn: string | null; currency: string; savingMinor: string }

/**
 * The change for a licence finding: it names the records whose installs it reclaims (idle ones, or
 * those beyond the entitlement) and removes those installs. Spare seats nobody holds have nothing to
 * reclaim: the change then names no record and asks for the entitlements to be reduced at renewal,
 * with the figures per entitlement; an over-deployment without a record to name asks for the true-up.
 */
async function licenceChange(db: Knex, finding: Finding): Promise<CreateChangeBody> {
  const records = await licenceRecordsOf(db, finding);
  const details = finding.details as { product?: string; unusedUnits?: number; shortfallUnits?: number; entitlements?: EntitlementShare[] };
  const product = details.product ?? finding.subjectRef;
  const installsRemoved = Math.min(records.units, 100_000);
  const licenceChanges = records.ciIds.length > 0 && installsRemoved > 0 ? [{ productId: records.productId, installsAdded: 0, installsRemoved }] : [];
  if (finding.kind === 'unused_entitlement') {
    const unused = details.unusedUnits ?? 0;
    const shares = (details.entitlements ?? []).slice(0, 50).map((e) =>
      `\n- ${e.number}: ${e.units} of ${e.quantity} seats not used, ${e.endsOn ? `term ends ${e.endsOn}` : 'perpetual'}, worth ${formatMoney(Number(e.savingMinor), e.currency)}${e.endsOn ? ' a year' : ''}`);
    const figures = `\nReduce the entitlements by ${unused} ${unused === 1 ? 'seat' : 'seats'} at their renewal${records.ciIds.length ? `, after reclaiming ${installsRemoved} idle ${installsRemoved === 1 ? 'install' : 'installs'} from the records named` : ''}:${shares.join('')}`;
    const title = records.ciIds.length ? `Reclaim idle licences of ${product} and reduce ${unused} seats at renewal` : `Reduce the entitlements of ${product} by ${unused} seats at renewal`;
    return changeFor(finding, title, records.ciIds, licenceChanges, figures);
  }
  const shortfall = details.shortfallUnits ?? 0;
  if (records.ciIds.length === 0) {
    return changeFor(finding, `True up ${product}: ${shortfall} ${shortfall === 1 ? 'unit' : 'units'} beyond its entitlement`, [], [],
      `\nNo record carries the installs beyond the entitlement: buy ${shortfall} ${shortfall === 1 ? 'unit' : 'units'} or find and remove them.`);
  }
  return changeFor(finding, `Reclaim licences of ${product}`, records.ciIds, licenceChanges);
}

/** The change a finding of its kind asks for. */
function changeOf(db: Knex, finding: Finding): Promise<CreateChangeBody> | CreateChangeBody {
  if (FINDING_ACTIONS[finding.kind] === 'licence_reclaim_change') return licenceChange(db, finding);
  if (finding.kind === 'past_warranty_tier1') {
    const ci = (finding.details as { ci: { id: string } }).ci;
    return changeFor(finding, `Replace ${finding.subjectRef} or extend its warranty`, [ci.id]);
  }
  return changeFor(finding, `Assign an owner to ${finding.subjectRef} or decommission it`, [finding.subjectId]);
}

interface ActionPlan {
  /** Reserves what the action starts under, in the claim's transaction. */
  reserve(trx: Knex.Transaction, finding: Finding, claimer: Principal, attemptKey: string): Promise<{ workflowId: string; ref: string }>;
  /** Starts the claimed action, or finds it started; answers what it runs under. */
  start(deps: FindingActionDeps, claim: Claim, principal: Principal): Promise<FindingAction>;
}

const changePlan: ActionPlan = {
  // The change's number and id, remembered as a submission under the claim's key and its claimer.
  async reserve(trx, _finding, claimer, attemptKey) {
    const number = await reserveChangeNumber(trx);
    const reserved = await rememberSubmission(trx, claimer.id, attemptKey, { process: 'change', subjectId: randomUUID(), number, workflowId: changeWorkflowId(number) });
    return { workflowId: reserved.workflowId, ref: reserved.number };
  },
  async start(deps, claim) {
    const { db, temporal, processStates } = deps;
    const reserved = await findSubmission(db, claim.claimer.id, claim.attemptKey);
    if (!reserved) throw new Error(`${claim.finding.number}: the change its claim reserved (${claim.ref}) is not remembered`);
    const body = await changeOf(db, claim.finding);
    const submission = await changeSubmissionOf(db, body);
    const current = () => processState(db, reserved.workflowId);
    // A registered change's workflow has started and may have finished: starting it again would begin a second run.
    if ((await current()) === undefined) {
      await startWithinDeadline(temporal, () => startChangeWorkflow(deps, claim.claimer, body.type, submission, reserved));
    }
    await processStates.waitFor(reserved.workflowId, 'any', REGISTRATION_WAIT_MS, current);
    return { process: 'change', workflowId: reserved.workflowId, ref: reserved.number };
  },
};

const PLANS: Record<ActionProcess, ActionPlan> = {
  change: changePlan,
  asset_lifecycle: {
    async reserve(trx, finding) {
      const asset = await findAsset(trx, finding.subjectId);
      if (!asset) throw notFound(`no asset ${finding.subjectRef}`);
      return { workflowId: assetLifecycleWorkflowId(asset.assetTag), ref: asset.assetTag };
    },
    async start(deps, claim, principal) {
      const { finding } = claim;
      const asset = await findAsset(deps.db, finding.subjectId);
      if (!asset) throw notFound(`no asset ${finding.subjectRef}`);
      if (asset.state === 'in_stock' && asset.substate === 'pending_disposal') return { process: 'asset_lifecycle', workflowId: claim.workflowId, ref: asset.assetTag };
      // Retirement starts with disposal pending: how it leaves (sold, donated, disposed with its data wiped) is the asset manager's to record.
      await transitionAsset(deps, asset, { toState: 'in_stock', toSubstate: 'pending_disposal', note: `Optimisation finding ${finding.number}: ${finding.title}` }, {
        principal,
        requestId: async () => claim.attemptKey,
      });
      return { process: 'asset_lifecycle', workflowId: assetLifecycleWorkflowId(asset.assetTag), ref: asset.assetTag };
    },
  },
  renewal: {
    // The decision's number comes with it: the claim holds the finding's own key until the decision is opened.
    async reserve(_trx, finding, _claimer, attemptKey) {
      return { workflowId: attemptKey, ref: finding.subjectRef };
    },
    async start(deps, claim) {
      const renewal = await startRenewalDecision(deps, {
        contractId: claim.finding.subjectId,
        findingId: claim.finding.id,
        requestedBy: claim.claimer,
        idempotencyKey: claim.attemptKey,
      });
      return { process: 'renewal', workflowId: renewal.workflowId, ref: renewal.number };
    },
  },
};

const processOf = (finding: Finding): ActionProcess => ACTION_PROCESSES[FINDING_ACTIONS[finding.kind]];

/** Why acting on the finding now would act on a subject that changed since the scan: an asset no longer idle in stock. */
async function staleness(trx: Knex.Transaction, finding: Finding): Promise<string | undefined> {
  if (finding.kind !== 'idle_in_stock' || (await isIdleInStock(trx, finding.subjectId, new Date()))) return undefined;
  const asset = await findAsset(trx, finding.subjectId);
  return `${finding.subjectRef} is no longer idle in stock (it is ${asset ? `${asset.state}${asset.substate ? `/${asset.substate}` : ''}` : 'gone'}): nothing was moved`;
}

type ClaimOutcome =
  | { acted: Finding }
  | { stale: string }
  | { claim: Omit<Claim, 'claimer'> & { claimerId: string }; repeated: boolean };

/** The short transaction: the finding locked, refused or answered, or claimed for a new action. */
function claimFor(db: Database, principal: Principal, number: string): Promise<ClaimOutcome> {
  return db.transaction(async (trx): Promise<ClaimOutcome> => {
    const finding = await lockFinding(trx, number);
    if (!finding) throw notFound(`no finding ${number}`);
    const refusal = findingRefusal(finding.state, 'act');
    if (refusal) throw conflict('finding_closed', `${number}: ${refusal}`);
    if (finding.state === 'acted') return { acted: finding };
    const attemptKey = `finding:${finding.number}:${pastActionsOf(finding).length + 1}`;
    if (finding.actionWorkflowId) {
      return { claim: { finding, attemptKey, workflowId: finding.actionWorkflowId, ref: finding.actionRef ?? '', claimerId: finding.actedById ?? principal.id }, repeated: true };
    }
    const stale = await staleness(trx, finding);
    if (stale) {
      await resolveFinding(trx, finding.id, stale);
      return { stale };
    }
    const reserved = await PLANS[processOf(finding)].reserve(trx, finding, principal, attemptKey);
    await claimAction(trx, finding.id, { actedById: principal.id, ...reserved });
    return { claim: { finding, attemptKey, ...reserved, claimerId: principal.id }, repeated: false };
  });
}

/**
 * Acts on a finding (POST /finops/findings/:number/act, and the page's form): starts exactly one
 * process for it. A web form gives its own key (`formKey`) in place of the Idempotency-Key header.
 */
export async function actOnFinding(deps: FindingActionDeps, principal: Principal, number: string, req: Request, formKey?: string): Promise<ActedFinding> {
  const { db } = deps;
  await commandRequestId(db, principal.id, req, `finding:${number}`, formKey);
  const before = await findFinding(db, number);
  if (!before) throw notFound(`no finding ${number}`);
  // A claimed or acted action whose process ended meanwhile is settled first: one that did not do it is acted on anew.
  if (before.actionWorkflowId) await settleActions(db, { id: before.id });
  const outcome = await claimFor(db, principal, number);
  if ('acted' in outcome) {
    const { acted } = outcome;
    return { finding: acted, action: { process: processOf(acted), workflowId: acted.actionWorkflowId!, ref: acted.actionRef! }, repeated: true };
  }
  if ('stale' in outcome) throw conflict('finding_stale', `${number}: ${outcome.stale}; the finding is resolved`);
  const { claim: claimed, repeated } = outcome;
  const claimer: { id: string; email: string } | undefined = claimed.claimerId === principal.id ? principal : await db('people').where({ id: claimed.claimerId }).first('id', 'email');
  const claim: Claim = { ...claimed, claimer: claimer ?? principal };
  let action: FindingAction;
  try {
    action = await PLANS[processOf(claim.finding)].start(deps, claim, principal);
  } catch (error) {
    const known = toHttpError(error);
    // The process refused it: the claim is given back (kept in the past actions) and the finding can be acted on again.
    if (known && known.status < 500) {
      await reopenFinding(db, claim.finding.id, claim.workflowId, {
        process: processOf(claim.finding), workflowId: claim.workflowId, ref: claim.ref, actedById: claim.claimer.id,
        endedAs: 'refused', reason: `refused before it started: ${known.message}`, endedAt: new Date().toISOString(),
      });
    }
    throw error;
  }
  await markActed(db, claim.finding.id, claim.workflowId, action);
  await recordFindingCommand(db, claim.finding, { actor: principal.email, action: 'acted', key: `acted:${claim.attemptKey}`, toState: 'acted', details: { ...action } });
  return { finding: (await findFinding(db, number))!, action, repeated };
}

/** Dismisses an open finding with the reason (POST /finops/findings/:number/dismiss, and the page's form). */
export async function dismissFinding(deps: Pick<FindingActionDeps, 'db'>, principal: Principal, number: string, reason: string): Promise<Finding> {
  await deps.db.transaction(async (trx) => {
    const finding = await lockFinding(trx, number);
    if (!finding) throw notFound(`no finding ${number}`);
    const refusal = findingRefusal(finding.state, 'dismiss', finding.actionWorkflowId !== null);
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
