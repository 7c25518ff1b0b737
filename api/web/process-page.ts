/**
 * What the page of one process shows everyone who may see it: the subject in the viewer's zone,
 * the timeline, and whether the viewer's decision is needed. Built here once, for the page itself
 * (GET /ui/processes/:workflowId) and for a refused process owner command, which answers with it.
 */
import type { ApprovalSubjectType } from '../../domain/approvals';
import { describeApprovalSubject } from '../../model/approval-subjects';
import type { ApprovalRecord } from '../../model/approvals';
import { processTimeline, type ProcessSummary } from '../../model/processes';
import type { Database } from '../../platform/database';
import type { TimelineEntry, ViewContext } from './views';

const SUBJECT_OF_PROCESS: Record<string, ApprovalSubjectType | undefined> = { change: 'change_request', procurement: 'purchase_request', reconciliation: 'reconciliation_case', renewal: 'contract_renewal' };

export async function processPageInput(db: Database, ctx: ViewContext, process: ProcessSummary & { subjectId: string }, approvals: ApprovalRecord[]) {
  const subjectType = SUBJECT_OF_PROCESS[process.process];
  const [subject, timeline] = await Promise.all([
    subjectType ? describeApprovalSubject(db, subjectType, process.subjectId, ctx.timeZone) : undefined,
    processTimeline(db, process.workflowId, process.subjectId),
  ]);
  const myPendingApprovalIds = approvals.filter((a) => a.approver.id === ctx.user.id && a.state === 'requested').map((a) => a.id);
  return { process, subject, approvals, timeline: timeline as TimelineEntry[], myPendingApprovalIds };
}
