import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ImportActivities } from '../../activities/imports';
import type { ImportState } from '../../domain/master-data';
import { DATABASE_STEP } from '../activity-options';
import { StepRefused, attentionGuard } from '../attention/guard';
import {
  IMPORT_CHUNK_ROWS,
  ImportFailure,
  importProgressQuery,
  type ImportFinalState,
  type ImportOutcome,
  type MasterDataImportInput,
} from './contract';

/** A chunk is a thousand rows judged or written: seconds, but more than a few statements. */
const CHUNK_STEP: ActivityOptions = { ...DATABASE_STEP, startToCloseTimeout: '2 minutes' };

/**
 * Closing the check and finishing run statements over every row of the import (a window over the
 * keys, counts by verdict or outcome): at a million rows, minutes. The heartbeat still notices a
 * dead worker within seconds, so the long limit only lets a live one finish.
 */
const WHOLE_IMPORT_STEP: ActivityOptions = { ...DATABASE_STEP, startToCloseTimeout: '10 minutes' };

const chunks = proxyActivities<ImportActivities>(CHUNK_STEP);
const wholeImport = proxyActivities<ImportActivities>(WHOLE_IMPORT_STEP);

/** Chunks checked side by side: the check only reads and stores verdicts, so their order does not matter. */
const CHECKS_AT_ONCE = 4;

/**
 * A bulk import of master data whose rows are staged already. The check pass judges every row
 * (reads only); then, per afterCheck, a dry run ends previewed, a file with a bad row under
 * reject_file ends refused with nothing written, and otherwise the apply pass writes the rows
 * chunk by chunk in file order, each chunk in one transaction that also records each row's
 * outcome, so a chunk run again after a worker died applies nothing twice. A row refused only
 * when it is applied (the data changed since the check) is left out and the others are written,
 * under either policy; finishImport says so. Each step that runs
 * out of retries waits for attention rather than failing the import. A run continues as new
 * between chunks when its history grows long (an import of a million rows).
 */
export async function masterDataImportWorkflow(input: MasterDataImportInput): Promise<ImportOutcome> {
  const { workflowId } = workflowInfo();
  const { importId, kind, rowsTotal } = input;
  const guard = attentionGuard({ subjectType: 'import', subjectId: importId, interrupted: () => false });
  let state: ImportState = input.resume?.pass === 'apply' ? 'applying' : 'checking';
  let rowsChecked = input.resume ? (input.resume.pass === 'apply' ? rowsTotal : input.resume.from - 1) : 0;
  let rowsApplied = input.resume?.rowsApplied ?? 0;
  setHandler(importProgressQuery, () => ({ importId, state, rowsTotal, rowsChecked, rowsApplied, attention: guard.attention() }));

  const chunk = (from: number) => ({ importId, kind, from, to: Math.min(from + IMPORT_CHUNK_ROWS - 1, rowsTotal) });

  /** Past the history's suggested length, this run hands the rest of the pass to the next one. */
  async function continueIfLong(pass: 'check' | 'apply', from: number): Promise<void> {
    if (!workflowInfo().continueAsNewSuggested) return;
    await condition(allHandlersFinished);
    await continueAsNew<typeof masterDataImportWorkflow>({ ...input, resume: { pass, from, rowsApplied } });
  }

  async function finish(final: ImportFinalState, message?: string): Promise<ImportOutcome> {
    const outcome = await guard.run('finish the import', () =>
      wholeImport.finishImport({ idempotencyKey: `${workflowId}:finish:${final}`, importId, workflowId, state: final, message }));
    state = final;
    return outcome;
  }

  try {
    if (input.resume?.pass !== 'apply') {
      // Chunks handed out in order to a few lanes; a new run starts at the first chunk not yet begun.
      let next = input.resume?.from ?? 1;
      const lane = async () => {
        while (next <= rowsTotal && !workflowInfo().continueAsNewSuggested) {
          const rows = chunk(next);
          next = rows.to + 1;
          const { rowsDone } = await guard.run(`check rows ${rows.from} to ${rows.to}`, () =>
            chunks.checkImportChunk({ ...rows, idempotencyKey: `${workflowId}:check:${rows.from}` }));
          rowsChecked = Math.max(rowsChecked, rowsDone);
        }
      };
      await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, lane));
      if (next <= rowsTotal) await continueIfLong('check', next);
    }
    if (input.resume?.pass !== 'apply') {
      const { next } = await guard.run('close the check', () => wholeImport.closeImportCheck({
        idempotencyKey: `${workflowId}:close-check`, importId, kind, dryRun: input.dryRun, onInvalidRows: input.onInvalidRows,
      }));
      if (next !== 'apply') return await finish(next);
    }
    state = 'applying';
    for (let from = input.resume?.pass === 'apply' ? input.resume.from : 1; from <= rowsTotal; from += IMPORT_CHUNK_ROWS) {
      await continueIfLong('apply', from);
      const rows = chunk(from);
      const { rowsDone } = await guard.run(`apply rows ${rows.from} to ${rows.to}`, () =>
        chunks.applyImportChunk({ ...rows, idempotencyKey: `${workflowId}:apply:${rows.from}` }));
      rowsApplied = rowsDone;
    }
    return await finish('completed');
  } catch (error) {
    if (!(error instanceof StepRefused)) throw error;
    // Failed by the API before anything began (it could not tell whether this start reached
    // Temporal): the import says so already, and nothing was written.
    if (error.failure.cause instanceof ApplicationFailure && error.failure.cause.type === ImportFailure.importAbandoned) {
      return { state: 'failed', counts: {}, message: error.reason };
    }
    // Bad data no retry can take (the kind's rules refused a row in a way the engine did not catch):
    // the import ends failed with the reason, and the process owners are told.
    await guard.reportRefusal(error, 'failed');
    return finish('failed', `${error.step}: ${error.reason}`);
  }
}
