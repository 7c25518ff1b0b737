import type { Knex } from 'knex';
import type { ChangeImpact } from '../domain/change-impact';
import type { RiskAssessment } from '../domain/change-risk';
import { impactSummaryLines } from '../domain/impact-summary';
import { formatMoney } from '../domain/money';
import type { ApprovalSubjectType } from '../domain/approvals';
import type { PurchaseAssessment } from '../domain/procurement';
import { FALLBACK_TIME_ZONE, formatInstant } from '../domain/time-zones';
import { PAGE_PATHS, subjectPagePath } from '../domain/web-links';
import { proposedSurvivor } from './reconciliation/cases';

/**
 * What an approver reads about the thing they approve, whatever it is: the same account in the
 * task email and on the approval page.
 */
export interface ApprovalSubjectSummary {
  id: string;
  number: string;
  title: string;
  state: string;
  requesterId: string;
  requesterName: string;
  requesterEmail: string;
  workflowId: string;
  /** Its web page, e.g. /ui/changes/CHG0001001: what people are sent to; '' while it has none (a renewal decision before its workflow is recorded). */
  page: string;
  /** One line under the title: type, requester, window or cost centre, cost. */
  meta: string;
  description: string;
  sections: { title: string; items: string[] }[];
}

export const SUBJECT_TABLES: Record<ApprovalSubjectType, string> = {
  change_request: 'change_requests',
  purchase_request: 'purchase_requests',
  reconciliation_case: 'reconciliation_cases',
  contract_renewal: 'contract_renewals',
};

export async function requesterOf(db: Knex, type: ApprovalSubjectType, id: string): Promise<string | undefined> {
  // A feed raised the case, not a person: nobody is kept from deciding it.
  if (type === 'reconciliation_case') return undefined;
  if (type === 'contract_renewal') return (await db('contract_renewals').where({ id }).first('requested_by_id'))?.requested_by_id ?? undefined;
  const row = await db(SUBJECT_TABLES[type]).where({ id }).first('requester_id');
  return row?.requester_id;
}

/** A change row with its requester's name and email joined; its window in the reader's zone. */
function describeChange(c: Record<string, any>, timeZone: string): ApprovalSubjectSummary {
  const impact = c.impact as (ChangeImpact & { risk: RiskAssessment }) | null;
  const window = c.planned_start
    ? `${formatInstant(c.planned_start as Date, timeZone)} to ${c.planned_end ? formatInstant(c.planned_end as Date, timeZone) : 'open'}`
    : 'as soon as approved';
  return {
    id: c.id,
    number: c.number,
    title: c.title,
    state: c.state,
    requesterId: c.requester_id,
    requesterName: c.requester_name,
    requesterEmail: c.requester_email,
    workflowId: c.workflow_id,
    page: subjectPagePath('change_request', c.number),
    meta: `${c.type} change · requested by ${c.requester_name} · window ${window} · one-off cost ${formatMoney(c.one_off_cost_minor, c.currency)}`,
    description: c.description,
    sections: [
      {
        title: `Risk: ${(c.risk_level ?? 'not assessed').replace(/_/g, ' ')}${c.risk_score === null ? '' : ` (score ${c.risk_score})`}`,
        items: impact?.risk.reasons.length ? impact.risk.reasons.map((r) => `${r.text} (+${r.points})`) : ['No risk factors.'],
      },
      { title: 'Impact', items: impact ? impactSummaryLines(impact, timeZone) : ['Not assessed yet.'] },
    ],
  };
}

/** A purchase request row with its requester and cost centre code joined, and its lines in order with their vendor's name. */
function describePurchase(p: Record<string, any>, lines: Record<string, any>[]): ApprovalSubjectSummary {
  const a = p.assessment as PurchaseAssessment | null;
  const money = (minor: number) => formatMoney(minor, p.currency);
  const budget = !a
    ? ['Not checked yet.']
    : a.remainingBeforeMinor === null
      ? [`No budget for ${p.cost_centre_code} in ${a.period.slice(0, 7)}.`]
      : [
          `${money(a.remainingBeforeMinor)} of ${money(a.budgetMinor ?? 0)} left in ${a.period.slice(0, 7)} before (spent ${money(a.spentMinor)}, committed ${money(a.committedMinor)}).`,
          `${money(a.remainingAfterMinor ?? 0)} after this request${a.overBudget ? ': over budget' : ''}.`,
        ];
  const flags = a ? [a.offCatalogue ? 'Contains items not in the catalogue.' : '', a.newVendor ? 'Buys from a vendor without a contract in force.' : ''].filter(Boolean) : [];
  return {
    id: p.id,
    number: p.number,
    title: p.justification.length > 80 ? `${p.justification.slice(0, 77)}...` : p.justification,
    state: p.state,
    requesterId: p.requester_id,
    requesterName: p.requester_name,
    requesterEmail: p.requester_email,
    workflowId: p.workflow_id,
    page: subjectPagePath('purchase_request', p.number),
    meta: `purchase request · requested by ${p.requester_name} · cost centre ${p.cost_centre_code} · total ${money(p.total_minor)}${p.programme ? ` · programme ${p.programme}` : ''}`,
    description: p.justification,
    sections: [
      {
        title: 'Lines',
        items: lines.map((l) => {
          const buying = l.quantity - l.reused_units;
          const reuse = l.reused_units ? ` (${l.reused_units} from spare licences)` : '';
          return `${buying} x ${l.description}${reuse} at ${money(l.unit_price_minor)} (${l.price_source} price) = ${money(buying * l.unit_price_minor)}` +
            `${l.vendor_name ? ` from ${l.vendor_name}` : ''}`;
        }),
      },
      { title: 'Budget', items: [...budget, ...flags] },
    ],
  };
}

/** A steward case with its records (number, name, class, identifiers, asset tag and serial) in the case's order. */
function describeCase(c: Record<string, any>, records: Record<string, any>[], importSource: string | null): ApprovalSubjectSummary {
  const byId = new Map(records.map((r) => [r.id as string, r]));
  const ordered = (c.ci_ids as string[]).map((id) => byId.get(id)).filter((r): r is Record<string, any> => r !== undefined);
  const survivorId = ordered.length
    ? proposedSurvivor(ordered.map((r) => ({ id: r.id, discoveryState: r.discovery_state, createdAt: new Date(r.created_at).toISOString(), number: r.number })))
    : undefined;
  const survivor = ordered.find((r) => r.id === survivorId);
  const line = (r: Record<string, any>) => [
    `${r.number} ${r.name} (${r.ci_class}, ${r.discovery_state})`,
    r.hostname ? `host ${r.hostname}${r.dns_domain ? `.${r.dns_domain}` : ''}` : '',
    r.mac_address ? `MAC ${r.mac_address}` : '',
    r.cloud_resource_id ? `cloud id ${r.cloud_resource_id}` : '',
    r.asset_tag ? `asset ${r.asset_tag}${r.serial_number ? ` serial ${r.serial_number}` : ''}` : 'no asset',
  ].filter(Boolean).join(' · ');
  return {
    id: c.id,
    number: c.number,
    title: `Are ${ordered.map((r) => r.number).join(' and ')} one thing?`,
    state: c.state,
    requesterId: '',
    requesterName: importSource ? `the ${importSource} feed` : 'an inventory feed',
    requesterEmail: '',
    workflowId: c.workflow_id,
    page: subjectPagePath('reconciliation_case', c.number),
    meta: `data steward case · raised by ${importSource ? `the ${importSource} feed` : 'an inventory feed'} · ${ordered.length} records`,
    description: c.reason,
    sections: [
      { title: 'Records', items: ordered.map(line) },
      {
        title: 'Your choices',
        items: [
          survivor ? `Approve merges them into ${survivor.number} ${survivor.name} (on the case page you may choose the record that stays).` : 'Approve merges them.',
          'Reject keeps both: they are different things, and this pair is not asked about again.',
          'On the case page you may also ignore the row that raised it (noise): not asked about again either.',
        ],
      },
    ],
  };
}

/** A renewal decision with its contract (number, title, the term decided about, its value, notice) and vendor joined, and who asked. */
function describeRenewal(r: Record<string, any>): ApprovalSubjectSummary {
  // The term decided about (the latest when it was opened); the contract's own while that term is not found.
  const term = r.term_starts_on
    ? { startsOn: r.term_starts_on, endsOn: r.term_ends_on, valueMinor: r.term_value_minor }
    : { startsOn: r.starts_on, endsOn: r.ends_on, valueMinor: r.value_minor };
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    state: r.state,
    requesterId: r.requested_by_id ?? '',
    requesterName: r.requester_name ?? 'a finding',
    requesterEmail: r.requester_email ?? '',
    workflowId: r.workflow_id,
    page: r.workflow_id ? PAGE_PATHS.process(r.workflow_id) : '',
    meta: `contract renewal · ${r.contract_number} with ${r.vendor_name} · value ${formatMoney(Number(term.valueMinor), r.currency)} · ends ${term.endsOn}`,
    description: `${r.contract_title} (${r.contract_number}, ${String(r.kind).replace(/_/g, ' ')}) with ${r.vendor_name} runs from ${term.startsOn} to ${term.endsOn}; `
      + `notice is due ${r.renewal_notice_days} days before it ends${r.auto_renew ? ', and it renews by itself unless told' : ''}.`,
    sections: [
      {
        title: 'Your choices',
        items: [
          'Approve renews it: the contract runs on for one more term of the same length and value, from the day after it ends.',
          'Reject lets it lapse: it no longer renews by itself and ends on its end date. Say why in the comment.',
        ],
      },
    ],
  };
}

/** `timeZone`: the reader's, in which the times of the account are written (a change's window). */
export async function describeApprovalSubject(db: Knex, type: ApprovalSubjectType, id: string, timeZone: string = FALLBACK_TIME_ZONE): Promise<ApprovalSubjectSummary | undefined> {
  const [summary] = await describeApprovalSubjects(db, [{ type, id }], timeZone);
  return summary;
}

/**
 * Many subjects at once, in at most six queries however many there are (changes, purchase
 * requests, their lines, steward cases, their records, contract renewals): a page of an inbox costs the same as one card. The answer is in the
 * order asked, undefined where a subject does not exist.
 */
export async function describeApprovalSubjects(
  db: Knex,
  subjects: { type: ApprovalSubjectType; id: string }[],
  timeZone: string = FALLBACK_TIME_ZONE,
): Promise<(ApprovalSubjectSummary | undefined)[]> {
  const idsOf = (type: ApprovalSubjectType) => [...new Set(subjects.filter((s) => s.type === type).map((s) => s.id))];
  const changeIds = idsOf('change_request');
  const purchaseIds = idsOf('purchase_request');
  const caseIds = idsOf('reconciliation_case');
  const renewalIds = idsOf('contract_renewal');
  const [changes, purchases, lines, cases, renewals] = await Promise.all([
    changeIds.length
      ? db('change_requests as c').join('people as r', 'r.id', 'c.requester_id').whereIn('c.id', changeIds)
          .select('c.*', 'r.name as requester_name', 'r.email as requester_email')
      : [],
    purchaseIds.length
      ? db('purchase_requests as p').join('people as r', 'r.id', 'p.requester_id').join('cost_centres as cc', 'cc.id', 'p.cost_centre_id')
          .whereIn('p.id', purchaseIds).select('p.*', 'r.name as requester_name', 'r.email as requester_email', 'cc.code as cost_centre_code')
      : [],
    purchaseIds.length
      ? db('purchase_request_lines as l').leftJoin('vendors as v', 'v.id', 'l.vendor_id').whereIn('l.purchase_request_id', purchaseIds)
          .orderBy('l.line_number').select('l.*', 'v.name as vendor_name')
      : [],
    caseIds.length
      ? db('reconciliation_cases as rc').leftJoin('imports as i', 'i.id', 'rc.import_id').whereIn('rc.id', caseIds).select('rc.*', 'i.source as import_source')
      : [],
    renewalIds.length
      ? db('contract_renewals as cr').join('contracts as k', 'k.id', 'cr.contract_id').join('vendors as v', 'v.id', 'k.vendor_id')
          .leftJoin('contract_terms as t', (j) => j.on('t.contract_id', 'cr.contract_id').andOn('t.ends_on', 'cr.term_ends_on'))
          .leftJoin('people as r', 'r.id', 'cr.requested_by_id').whereIn('cr.id', renewalIds)
          .select('cr.*', 't.starts_on as term_starts_on', 't.value_minor as term_value_minor', 'k.number as contract_number', 'k.title as contract_title', 'k.kind', 'k.starts_on', 'k.ends_on', 'k.value_minor', 'k.currency',
            'k.auto_renew', 'k.renewal_notice_days', 'v.name as vendor_name', 'r.name as requester_name', 'r.email as requester_email')
      : [],
  ]);
  const caseRecordIds = [...new Set(cases.flatMap((c: Record<string, any>) => c.ci_ids as string[]))];
  const caseRecords: Record<string, any>[] = caseRecordIds.length
    ? await db('configuration_items as ci').leftJoin('assets as a', 'a.id', 'ci.asset_id').whereIn('ci.id', caseRecordIds)
      .select('ci.id', 'ci.number', 'ci.name', 'ci.ci_class', 'ci.discovery_state', 'ci.created_at', 'ci.hostname', 'ci.dns_domain', 'ci.mac_address', 'ci.cloud_resource_id', 'a.asset_tag', 'a.serial_number')
    : [];
  const linesOf = new Map<string, Record<string, any>[]>(purchaseIds.map((id) => [id, []]));
  for (const line of lines) linesOf.get(line.purchase_request_id)!.push(line);
  const summaries = new Map<string, ApprovalSubjectSummary>([
    ...changes.map((c): [string, ApprovalSubjectSummary] => [`change_request:${c.id}`, describeChange(c, timeZone)]),
    ...purchases.map((p): [string, ApprovalSubjectSummary] => [`purchase_request:${p.id}`, describePurchase(p, linesOf.get(p.id)!)]),
    ...cases.map((c: Record<string, any>): [string, ApprovalSubjectSummary] => [`reconciliation_case:${c.id}`, describeCase(c, caseRecords, c.import_source)]),
    ...renewals.map((r: Record<string, any>): [string, ApprovalSubjectSummary] => [`contract_renewal:${r.id}`, describeRenewal(r)]),
  ]);
  return subjects.map((s) => summaries.get(`${s.type}:${s.id}`));
}

/** The summary as plain text for emails. */
export function summaryText(summary: ApprovalSubjectSummary): string[] {
  return [
    `${summary.number}: ${summary.title}`,
    `${summary.meta[0].toUpperCase()}${summary.meta.slice(1)}.`,
    '',
    summary.description,
    ...summary.sections.flatMap((s) => ['', `${s.title}:`, ...s.items.map((item) => `  - ${item}`)]),
  ];
}
