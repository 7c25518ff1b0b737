/**
 * Contract renewal decisions (issue 17): open one for the latest term of a contract in its notice
 * period, read one with its live status, decide one, withdraw one. A decision is an approval decision
 * (the same code as the inbox, the emailed link and the approval page): approve writes the next term,
 * reject lets the contract lapse.
 */
import { z } from 'zod';
import { findContractToRenew, findRenewalDecision, type RenewalDecisionDetail } from '../../model/renewal-decisions';
import { renewalDecisionStatusQuery, type RenewalDecisionStatus } from '../../workflows/renewal-decision/contract';
import type { AppDeps } from '../app';
import { maySeeRequest } from '../auth';
import { decideApproval, decisionBody } from '../approval-decisions';
import { conflict, forbidden, notFound } from '../errors';
import { commandRequestId } from '../idempotency';
import { startRenewalDecision, withdrawRenewalDecision } from '../renewal-decisions';
import type { RouteRegistry } from '../routes-registry';
import { liveStatusWithinDeadline } from '../workflow-calls';

const number = z.string().trim().min(1).max(40);
const withdrawalBody = z.strictObject({ reason: z.string().trim().min(1).max(2000).describe('why it is withdrawn, kept on the decision') });

export function registerRenewalDecisionRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db, temporal } = deps;

  routes.add(
    {
      method: 'post', path: '/contracts/:number/renewal-decision', tag: 'contracts', access: ['process_owner', 'admin', 'asset_manager'],
      summary: 'Ask the renewal approvers (Finance) whether the latest term of a contract, inside its notice period, is followed by one more or let lapse; answers the open decision of the contract if there is one (send an Idempotency-Key)',
      params: z.object({ number: number.describe('the contract, CNTR… or its id') }),
      responses: {
        201: 'the decision is opened and its workflow started', 200: 'the contract already has an open decision: that one',
        404: 'no such contract',
        409: 'the contract is retired (contract_retired), its latest term is not in its notice period (not_in_notice_period) or has ended (contract_ended), or that term was decided already (term_decided)',
        422: 'the Idempotency-Key was used for another request', 503: 'the workflow could not be started: repeat with the same Idempotency-Key',
      },
    },
    async ({ params, principal, req, res }) => {
      const contract = await findContractToRenew(db, params.number);
      if (!contract) throw notFound(`no contract ${params.number}`);
      const requestId = await commandRequestId(db, principal.id, req, `renewal-decision:${contract.id}`);
      const started = await startRenewalDecision(deps, {
        contractId: contract.id, requestedBy: { id: principal.id, email: principal.email }, idempotencyKey: requestId,
      });
      res.status(started.created ? 201 : 200).location(`/renewal-decisions/${encodeURIComponent(started.number)}`);
      return started;
    },
  );

  routes.add(
    {
      method: 'get', path: '/renewal-decisions/:number', tag: 'contracts', access: 'authenticated',
      summary: 'A contract renewal decision: its state, contract, who decided and why, its approvals, and the live step and who it waits for',
      params: z.object({ number }),
      responses: { 200: 'the decision', 403: 'neither an overseer, its requester nor asked to decide it', 404: 'no such decision' },
    },
    async ({ params, principal }): Promise<RenewalDecisionDetail & { live: RenewalDecisionStatus | null; liveUnavailable?: string }> => {
      const found = await findRenewalDecision(db, params.number);
      if (!found) throw notFound(`no renewal decision ${params.number}`);
      const allowed = await maySeeRequest(db, principal, { subjectId: found.id, requesterId: found.requestedBy?.id ?? null }, found.approvals.map((a) => a.approverId));
      if (!allowed) throw forbidden('a renewal decision is read by process owners, asset managers, admins, its requester and the approvers asked');
      if (!found.workflowId) return { ...found, live: null, liveUnavailable: 'its workflow has not been started yet: opening it again starts it' };
      const workflowId = found.workflowId;
      const live = await liveStatusWithinDeadline(temporal, () => temporal.workflow.getHandle(workflowId).query(renewalDecisionStatusQuery));
      return { ...found, live: live.status, ...(live.statusUnavailable ? { liveUnavailable: live.statusUnavailable } : {}) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/renewal-decisions/:number/decision', tag: 'contracts', access: 'authenticated',
      summary: 'Decide a renewal with your open approval of it: approved renews the contract for one more term (written on the decision; the current term stays), rejected lets it lapse (say why in comment)',
      params: z.object({ number }),
      body: decisionBody,
      responses: { 200: 'the decision; the contract is changed by its workflow', 403: 'not waiting for your decision', 404: 'no such decision', 409: 'decided already, or the approval was decided' },
    },
    async ({ params, principal, body }) => {
      const found = await findRenewalDecision(db, params.number);
      if (!found) throw notFound(`no renewal decision ${params.number}`);
      if (found.state !== 'open') throw conflict('renewal_decided', `${found.number} is ${found.state.replace('_', ' ')} already; nothing was changed`);
      const approval = found.approvals.find((a) => a.approverId === principal.id && a.state === 'requested');
      if (!approval) throw forbidden(`${found.number} does not wait for your decision: it is decided by the renewal approvers asked`);
      return decideApproval(db, temporal, { approvalId: approval.id, actorId: principal.id, decision: body.decision, comment: body.comment, via: 'api' });
    },
  );

  routes.add(
    {
      method: 'post', path: '/renewal-decisions/:number/cancel', tag: 'contracts', access: ['process_owner', 'admin'],
      summary: 'Withdraw an open renewal decision: its open approvals are cancelled, the contract stays as it is, and the finding it came from is open again (send an Idempotency-Key)',
      params: z.object({ number }),
      body: withdrawalBody,
      responses: {
        200: 'the decision, cancelled (or still open while a step of it waits for attention)', 404: 'no such decision',
        409: 'decided already, or its decision is being carried out', 422: 'the Idempotency-Key was used for another request', 504: 'the process did not answer in time: repeat with the same Idempotency-Key',
      },
    },
    async ({ params, principal, body, req }) => {
      const found = await findRenewalDecision(db, params.number);
      if (!found) throw notFound(`no renewal decision ${params.number}`);
      const requestId = await commandRequestId(db, principal.id, req, `renewal-withdrawal:${found.id}`);
      return withdrawRenewalDecision(deps, found, { id: principal.id, email: principal.email, reason: body.reason, requestId });
    },
  );
}
