/**
 * Runs a cloud bill's import in a test the way the intake does once it has checked the file,
 * without HTTP or DuckDB: stages the rows (typed, as the check leaves them) and starts the import
 * workflow, then waits for its outcome.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { costImportWorkflowId, type CostImportOutcome } from '../../workflows/cost-import/contract';
import type { Stack } from './stack';

/** A checked FOCUS row; costs as exact decimal text, times as ISO. */
export interface TestCostRow {
  billingPeriodStart: string;
  billingPeriodEnd: string;
  chargePeriodStart: string;
  chargePeriodEnd: string;
  chargeCategory?: string;
  providerName: string;
  billingAccountId?: string | null;
  serviceName?: string;
  resourceId?: string | null;
  resourceName?: string | null;
  billedCost: string;
  effectiveCost: string;
  listCost?: string | null;
  billingCurrency: string;
  tags?: Record<string, string>;
}

export interface StagedCostImport {
  importId: string;
}

const STAGED_AT_ONCE = 1000;

/** A cost import of the rows, staged and ready for its workflow (state staged, scopes and counts set). */
export async function stageCostImport(db: Knex, staged: { rows: TestCostRow[]; fileSha?: string; requestedById: string; rowsRefused?: number }): Promise<StagedCostImport> {
  const [{ id: importId }] = await db('cost_imports').insert({
    file_name: 'focus.csv',
    file_sha256: staged.fileSha ?? randomBytes(32).toString('hex'),
    file_bytes: 1,
    format: 'csv',
    focus_version: '1.2',
    state: 'staged',
    rows_total: staged.rows.length + (staged.rowsRefused ?? 0),
    rows_refused: staged.rowsRefused ?? 0,
    requested_by_id: staged.requestedById,
  }).returning('id');
  for (let from = 0; from < staged.rows.length; from += STAGED_AT_ONCE) {
    const rows = staged.rows.slice(from, from + STAGED_AT_ONCE).map((r, at) => ({
      row_number: from + at + 1,
      billing_period_start: r.billingPeriodStart,
      billing_period_end: r.billingPeriodEnd,
      charge_period_start: r.chargePeriodStart,
      charge_period_end: r.chargePeriodEnd,
      charge_category: r.chargeCategory ?? 'Usage',
      provider_name: r.providerName,
      billing_account_id: r.billingAccountId ?? null,
      service_name: r.serviceName ?? 'Compute',
      resource_id: r.resourceId ?? null,
      resource_name: r.resourceName ?? null,
      billed_cost: r.billedCost,
      effective_cost: r.effectiveCost,
      list_cost: r.listCost ?? null,
      billing_currency: r.billingCurrency,
      tags: r.tags ?? {},
    }));
    // Costs go in as text and are cast by Postgres: no float on the way.
    await db.raw(`
      INSERT INTO cost_import_rows (import_id, row_number, billing_period_start, billing_period_end, charge_period_start, charge_period_end,
                                    charge_category, provider_name, billing_account_id, service_name, resource_id, resource_name,
                                    billed_cost, effective_cost, list_cost, billing_currency, tags)
      SELECT ?, v.row_number, v.billing_period_start, v.billing_period_end, v.charge_period_start, v.charge_period_end,
             v.charge_category, v.provider_name, v.billing_account_id, v.service_name, v.resource_id, v.resource_name,
             v.billed_cost::numeric, v.effective_cost::numeric, v.list_cost::numeric, v.billing_currency, v.tags
        FROM jsonb_to_recordset(?::jsonb) AS v(row_number int, billing_period_start timestamptz, billing_period_end timestamptz,
             charge_period_start timestamptz, charge_period_end timestamptz, charge_category text, provider_name text, billing_account_id text,
             service_name text, resource_id text, resource_name text, billed_cost text, effective_cost text, list_cost text, billing_currency text, tags jsonb)`,
    [importId, JSON.stringify(rows)]);
  }
  await db.raw(`
    UPDATE cost_imports SET scopes = coalesce((
      SELECT jsonb_agg(jsonb_build_object('provider', s.provider_name, 'billingAccountId', s.account, 'billingPeriodStart', s.billing_period_start)
                        ORDER BY s.provider_name, s.account, s.billing_period_start)
        FROM (SELECT DISTINCT provider_name, coalesce(billing_account_id, '') AS account, billing_period_start FROM cost_import_rows WHERE import_id = ?) s), '[]')
     WHERE id = ?`, [importId, importId]);
  return { importId };
}

/** Starts the import's workflow as the intake does, without waiting. */
export async function startCostImport(stack: Stack, importId: string): Promise<string> {
  const workflowId = costImportWorkflowId(importId);
  await stack.database.db('cost_imports').where({ id: importId }).update({ workflow_id: workflowId });
  await stack.env.client.workflow.start('costImportWorkflow', { workflowId, taskQueue: stack.taskQueue, args: [{ importId }] });
  return workflowId;
}

/** Stages the rows and runs the real workflow to its end. */
export async function runCostImport(
  stack: Stack,
  staged: { rows: TestCostRow[]; fileSha?: string; requestedById: string },
): Promise<{ importId: string; workflowId: string; outcome: CostImportOutcome }> {
  const { importId } = await stageCostImport(stack.database.db, staged);
  const workflowId = await startCostImport(stack, importId);
  const outcome = await stack.env.client.workflow.getHandle(workflowId).result() as CostImportOutcome;
  return { importId, workflowId, outcome };
}
