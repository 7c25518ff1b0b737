/**
 * The change request's vocabulary: its states, the states it ends in and its close codes. The
 * workflow, its activities, the API, the process index and the metrics all read these lists.
 */

export const CHANGE_STATES = ['new', 'assess', 'authorize', 'scheduled', 'implement', 'review', 'closed'] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

/** A change ends closed, whatever its close code says about how it went. */
export const CHANGE_FINAL_STATES = ['closed'] as const satisfies readonly ChangeState[];

const BEFORE_IMPLEMENTATION: readonly ChangeState[] = ['new', 'assess', 'authorize', 'scheduled'];

/** The scope may still change, and the requester may still cancel, until implementation. */
export function isBeforeImplementation(state: ChangeState): boolean {
  return BEFORE_IMPLEMENTATION.includes(state);
}

export const CLOSE_CODES = ['successful', 'successful_with_issues', 'unsuccessful', 'rejected', 'cancelled'] as const;
export type CloseCode = (typeof CLOSE_CODES)[number];

/** A lifecycle transition the change declares, run when it succeeds. */
export interface AssetActionInput {
  assetId: string;
  toState: string;
  toSubstate?: string | null;
}

/** Software installs the change adds or removes. */
export interface LicenceChangeInput {
  productId: string;
  installsAdded: number;
  installsRemoved: number;
}

/** A change request as submitted, validated by the API: every id in it existed when it was checked. */
export interface ChangeSubmission {
  changeModelId: string | null;
  title: string;
  description: string;
  costCentreId: string | null;
  currency: string;
  affectedCiIds: string[];
  assetActions: AssetActionInput[];
  licenceChanges: LicenceChangeInput[];
  plannedStart: string | null;
  plannedEnd: string | null;
  oneOffCostMinor: number;
  recurringCostMinor: number;
}
