/**
 * Segregation of duties after approval: whoever asked for a change or a purchase may not also
 * attest that it was done. The requester of a change does not record its implementation or its
 * review; the requester of a purchase does not record the goods as received. (Approving one's
 * own request is refused by decisionRefusal in domain/approvals.ts.) The API asks first for a
 * plain 403; the workflow's validator asks again, with what it knows of the requester.
 */

export const RECORDED_DUTIES = ['implementation', 'review', 'receipt'] as const;
export type RecordedDuty = (typeof RECORDED_DUTIES)[number];

export interface SegregationRefusal {
  rule: 'segregation_of_duties';
  message: string;
}

const WHAT: Record<RecordedDuty, string> = {
  implementation: 'the requester of a change may not record its implementation',
  review: 'the requester of a change may not record its post-implementation review',
  receipt: 'the requester of a purchase may not record the goods as received',
};

/** Person keys compare as ids or as email addresses, both sides of the same kind; emails ignore case. */
const samePerson = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Why `actor` may not record `duty` on a request made by `requester`, or null when they may.
 * Both are the same kind of key (person ids, or email addresses). An unknown requester (an
 * imported request without one) refuses no one.
 */
export function segregationRefusal(duty: RecordedDuty, actor: string, requester: string | null | undefined): SegregationRefusal | null {
  if (!requester || !samePerson(actor, requester)) return null;
  return { rule: 'segregation_of_duties', message: `${WHAT[duty]}: someone else must record it` };
}
