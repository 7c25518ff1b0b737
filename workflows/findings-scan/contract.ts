/**
 * The optimisation findings scan: a short workflow a Temporal Schedule starts (FINDINGS_SCAN_EVERY)
 * and the API starts on demand. Each detector records what it finds (one live finding per kind and
 * subject: a unique index) with its saving or exposure in money, refreshes the ones still true and
 * resolves the open ones no longer found.
 */
export const FINDINGS_SCAN_SCHEDULE_ID = 'findings-scan';

export const findingsScanWorkflowId = (requestKey: string) => `findings-scan:${requestKey}`;

export interface FindingsScanInput {
  /** The instant the findings are judged at (ISO); absent: the run's start. */
  asOf?: string;
}

export interface FindingsScanOutcome {
  /** Per kind: found (new), still open, resolved. */
  byKind: Record<string, { found: number; stillOpen: number; resolved: number }>;
}

export interface ScanFindingsInput {
  idempotencyKey: string;
  /** ISO instant. */
  asOf: string;
  kind: string;
}
