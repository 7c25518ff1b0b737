import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { z } from 'zod';
import { ASSET_STATES, IN_STOCK_SUBSTATES, RETIREMENT_REASONS, checkTransitionRequest, isFinal } from '../../domain/asset-lifecycle';
import { answersForAsset, assetDetail, assetRecordVersion, findAsset, listAssets, type Asset } from '../../model/assets';
import { isActivePerson } from '../../model/directory';
import { missingCandidacyOf } from '../../model/reconciliation/unseen';
import { effectiveReminderLeadTimes } from '../../model/process-settings';
import type { Database } from '../../platform/database';
import { lifecycleStartOptions } from '../../workflows/asset-lifecycle/start';
import { transitionUpdate, type ReminderSettings } from '../../workflows/asset-lifecycle/contract';
import { OVERSEERS, hasAnyRole, type Principal } from '../auth';
import { setETag } from '../concurrency';
import { badRequest, forbidden, notFound, transitionRefused } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { commandRequestId } from '../idempotency';
import { commandWithinDeadline } from '../workflow-calls';

export interface AssetRouteDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  reminders: ReminderSettings;
}

const SUBSTATES = [...IN_STOCK_SUBSTATES, ...RETIREMENT_REASONS] as const;

const assetParams = z.object({ id: z.string().min(1).max(64).describe('asset id (uuid) or asset tag') });

const listAssetsQuery = pageQuery.extend({
  state: z.enum(ASSET_STATES).optional(),
  substate: z.enum(SUBSTATES).optional(),
  assignedTo: z.uuid().optional().describe('person id'),
  costCentre: z.string().max(32).optional().describe('cost centre code'),
  model: z.uuid().optional(),
  q: z.string().trim().min(1).max(100).optional().describe('asset tag or serial number prefix'),
  warrantyEndsBefore: z.iso.date().optional(),
});

export const transitionBody = z.strictObject({
  toState: z.enum(ASSET_STATES),
  toSubstate: z.enum(SUBSTATES).optional(),
  assignedToId: z.uuid().optional().describe('the person who will use the asset (moves to in_use only)'),
  note: z.string().max(2000).optional(),
  dataWipeAttestation: z
    .strictObject({
      performedBy: z.string().trim().min(1).max(200),
      performedAt: z.iso.datetime({ offset: true }),
      method: z.string().trim().min(1).max(200).describe('e.g. NIST 800-88 purge, degauss, shred'),
      certificateId: z.string().trim().min(1).max(200),
    })
    .optional()
    .describe('required to retire an asset as disposed'),
});

/**
 * How much of an asset a person may read: all of it (its costs and the purchase it came from too)
 * for its overseers and for those who answer for it (its manager, its cost centre's owner: the
 * addressees of its emails); the asset itself for the person it is assigned to; else nothing.
 */
export async function assetVisibility(db: Database, principal: Principal, asset: Asset): Promise<'all' | 'assigned' | undefined> {
  if (hasAnyRole(principal, OVERSEERS) || (await answersForAsset(db, principal.id, asset))) return 'all';
  return asset.assignedToId === principal.id ? 'assigned' : undefined;
}

/** Who may read an asset, in the API and on its page alike: see assetVisibility. */
export async function canSeeAsset(db: Database, principal: Principal, asset: Asset): Promise<boolean> {
  return (await assetVisibility(db, principal, asset)) !== undefined;
}

export function registerAssetRoutes(routes: RouteRegistry, { db, temporal, taskQueue, reminders }: AssetRouteDeps): void {
  routes.add(
    {
      method: 'get', path: '/assets', tag: 'assets', access: 'authenticated',
      summary: 'List assets; asset managers and process owners see all, others the assets assigned to them, managed by them or of a cost centre they own',
      query: listAssetsQuery,
      responses: { 200: 'a page of assets', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query, principal }) => listAssets(db, {
      visibleTo: hasAnyRole(principal, OVERSEERS) ? undefined : principal.id,
      state: query.state,
      substate: query.substate,
      assignedToId: query.assignedTo,
      modelId: query.model,
      costCentreCode: query.costCentre,
      warrantyEndsBefore: query.warrantyEndsBefore,
      q: query.q,
    }, query),
  );

  routes.add(
    {
      method: 'get', path: '/assets/:id', tag: 'assets', access: 'authenticated',
      summary: 'An asset with its model, assignee, the CIs it backs, its licences, its history and its missing candidacy (missingCandidate: since when, and when each feed last saw it; null when none is open); ETag is the version of its record (If-Match of PATCH /assets/:ref)',
      params: assetParams,
      responses: { 200: 'the asset', 403: 'not assigned to you, managed by you or charged to your cost centre', 404: 'no such asset' },
    },
    async ({ params, principal, res }) => {
      // The version first: a record read after it is as new or newer, so its ETag never claims a change the body lacks.
      const version = await assetRecordVersion(db, params.id);
      const asset = await findAsset(db, params.id);
      if (!asset || version === undefined) throw notFound(`no asset ${params.id}`);
      if (!(await canSeeAsset(db, principal, asset))) throw forbidden('you can see the assets assigned to you, managed by you or charged to a cost centre you own');
      setETag(res, version);
      const [detail, missingCandidate] = await Promise.all([assetDetail(db, asset), missingCandidacyOf(db, asset.id)]);
      return { ...detail, missingCandidate, version };
    },
  );

  routes.add(
    {
      method: 'post', path: '/assets/:id/transitions', tag: 'assets', access: ['asset_manager', 'admin'],
      summary: 'Move an asset through its lifecycle; refused at once with the rule it breaks',
      params: assetParams,
      body: transitionBody,
      responses: {
        200: 'the transition was made; the outcome names its effects',
        400: 'bad input',
        403: 'not an asset manager',
        404: 'no such asset',
        409: 'the transition breaks a lifecycle rule (details.rule names it)',
      },
    },
    async ({ params, body, principal, req }) => {
      const asset = await findAsset(db, params.id);
      if (!asset) throw notFound(`no asset ${params.id}`);
      return transitionAsset({ db, temporal, taskQueue, reminders }, asset, body, {
        principal,
        requestId: () => commandRequestId(db, principal.id, req, asset.id),
      });
    },
  );
}

export type TransitionBody = z.output<typeof transitionBody>;

/**
 * Moves an asset through its lifecycle, for the API and the web pages alike: refuses at once what
 * the asset's final state or an unknown assignee rules out, then sends the transition update to the
 * asset's workflow (starting it if it is not running) within the command deadline, under the
 * caller's request id, so a repeated request is answered with the first outcome. The workflow's
 * refusals come back as its errors (toHttpError: 409 transition_refused with the rule).
 */
export async function transitionAsset(
  { db, temporal, taskQueue, reminders }: AssetRouteDeps,
  asset: Asset,
  body: TransitionBody,
  caller: { principal: Principal; requestId: () => Promise<string> },
) {
  // A final state never changes, so its projection is current: refuse without waking a finished workflow.
  const finalRefusal = isFinal(asset.state) && checkTransitionRequest(asset, body);
  if (finalRefusal) throw transitionRefused(finalRefusal);
  if (body.assignedToId && !(await isActivePerson(db, body.assignedToId))) {
    throw badRequest(`assignedToId: no active person ${body.assignedToId}`, [{ path: 'assignedToId', message: 'unknown person' }]);
  }
  const requestId = await caller.requestId();
  // Used only if the asset's workflow is not running: a running one keeps the reminder days it started with.
  const startReminders = await effectiveReminderLeadTimes(db, reminders);
  const outcome = await commandWithinDeadline(temporal, `moving ${asset.assetTag}`, () =>
    temporal.workflow.executeUpdateWithStart(transitionUpdate, {
      args: [{ ...body, requestedBy: caller.principal.email, requestId }],
      updateId: requestId,
      startWorkflowOperation: new WithStartWorkflowOperation(
        'assetLifecycleWorkflow',
        lifecycleStartOptions(asset, { taskQueue, reminders: startReminders }),
      ),
    }));
  return { outcome, asset: await findAsset(db, asset.id) };
}
