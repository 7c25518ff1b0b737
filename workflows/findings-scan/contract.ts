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

export interface KindScanOutcome {
  found: number;
  stillOpen: number;
  resolved: number;
  /** Acted findings whose process did not do it (rejected, cancelled…): open again to be acted on anew. */
  reopened?: number;
  /** Bad data ended this kind's scan: why (the other kinds were scanned). */
  refused?: string;
}

export interface FindingsScanOutcome {
  asOf: string;
  /** Per kind: found (new), still open (or acted), resolved (no longer found, or acted on successfully), reopened. */
  byKind: Record<string, KindScanOutcome>;
}

export interface ScanFindingsInput {
  idempotencyKey: string;
  /** The scan, as its audit rows name it. */
  scanId: string;
  workflowId: string;
  /** ISO instant. */
  asOf: string;
  kind: string;
}
