/**
 * Data steward cases (issue 16): list and read them, and decide one. A decision is an approval
 * decision (the same code as the inbox, the emailed link and the approval page) that carries what
 * it does: approve merges the records (into the survivor chosen, else the proposed one), reject
 * keeps both or ignores the row that raised the case.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { findStewardCase, listStewardCases, openCaseApprovalOf, type CaseDetail } from '../../model/reconciliation/cases';
import type { Database } from '../../platform/database';
import { CASE_RESOLUTIONS, type CaseResolution } from '../../workflows/steward-case/contract';
import type { DecisionOutcome } from '../../workflows/approvals/contract';
import type { AppDeps } from '../app';
import { decideApproval } from '../approval-decisions';
import { OVERSEERS, hasAnyRole, type Principal } from '../auth';
import { conflict, forbidden, notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

const caseNumber = z.string().trim().min(1).max(40);

export const caseDecisionBody = z.strictObject({
  resolution: z.enum(CASE_RESOLUTIONS),
  survivorCiId: z.uuid().optional().describe('with merge: the record that stays; the proposed one (verified, else the oldest) when not given'),
  comment: z.string().trim().max(2000).optional(),
});
export type CaseDecisionBody = z.output<typeof caseDecisionBody>;

/** A case as its reader may see it: overseers, and whoever was asked to decide it; 404 for no such case. */
export async function readableCase(db: Database, principal: Principal, ref: string): Promise<CaseDetail> {
  const found = await findStewardCase(db, ref);
  if (!found) throw notFound(`no steward case ${ref}`);
  if (!hasAnyRole(principal, OVERSEERS) && !found.approvals.some((a) => a.approverId === principal.id)) {
    throw forbidden('a steward case is read by process owners, asset managers, admins and the stewards asked to decide it');
  }
  return found;
}

/** Decides a case with the caller's open approval of it, as the approval inbox does. */
export async function decideStewardCase(db: Database, temporal: Client, principal: Principal, ref: string, body: CaseDecisionBody): Promise<DecisionOutcome & { resolution: CaseResolution }> {
  const found = await findStewardCase(db, ref);
  if (!found) throw notFound(`no steward case ${ref}`);
  if (found.state !== 'open') throw conflict('case_settled', `${found.number} is ${found.state.replace('_', ' ')} already; nothing was changed`);
  const approvalId = await openCaseApprovalOf(db, found.id, principal.id);
  if (!approvalId) throw forbidden(`${found.number} does not wait for your decision: it is decided by the data stewards asked`);
  const outcome = await decideApproval(db, temporal, {
    approvalId,
    actorId: principal.id,
    decision: body.resolution === 'merge' ? 'approved' : 'rejected',
    comment: body.comment,
    resolution: body.resolution,
    survivorCiId: body.survivorCiId,
    via: 'api',
  });
  return { ...outcome, resolution: body.resolution };
}

export function registerReconciliationCaseRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db, temporal } = deps;

  routes.add(
    {
      method: 'get', path: '/reconciliation/cases', tag: 'inventory', access: OVERSEERS,
      summary: 'Data steward cases, newest first: records that may be one thing, and what the stewards decided',
      query: pageQuery.extend({ state: z.enum(['open', 'merged', 'kept_both', 'ignored', 'cancelled']).optional() }),
      responses: { 200: 'a page of cases' },
    },
    async ({ query }) => listStewardCases(db, { state: query.state }, query),
  );

  routes.add(
    {
      method: 'get', path: '/reconciliation/cases/:number', tag: 'inventory', access: 'authenticated',
      summary: 'A steward case: its records side by side (identifiers, class, asset, provenance, counts), the row that found them, its state and decision',
      params: z.object({ number: caseNumber }),
      responses: { 200: 'the case', 403: 'neither an overseer nor asked to decide it', 404: 'no such case' },
    },
    async ({ params, principal }) => readableCase(db, principal, params.number),
  );

  routes.add(
    {
      method: 'post', path: '/reconciliation/cases/:number/decision', tag: 'inventory', access: 'authenticated',
      summary: 'Decide a steward case with your open approval of it: merge (into survivorCiId, or the proposed record), keep_both or ignore',
      params: z.object({ number: caseNumber }),
      body: caseDecisionBody,
      responses: { 200: 'the decision; the case is settled by its workflow', 400: 'bad body, or a survivor not among the records', 403: 'not waiting for your decision', 404: 'no such case', 409: 'settled already, or the approval was decided' },
    },
    async ({ params, principal, body }) => decideStewardCase(db, temporal, principal, params.number, body),
  );
}
