import type { Knex } from 'knex';
import * as peopleGroupsRoles from './20261127000100_people_groups_roles';
import * as costCentresAndBudgets from './20261127000200_cost_centres_and_budgets';
import * as vendorsAndContracts from './20261127000300_vendors_and_contracts';
import * as productCatalogue from './20261127000400_product_catalogue';
import * as assets from './20261127000500_assets';
import * as configurationItems from './20261127000600_configuration_items';
import * as softwareEntitlements from './20261127000700_software_entitlements_and_consumptions';
import * as focusCostRecords from './20261127000800_focus_cost_records';
import * as procurement from './20261127000900_procurement';
import * as changeRequests from './20261127001000_change_requests';
import * as approvalsAndRules from './20261127001100_approvals_and_rules';
import * as scheduleWindows from './20261127001200_maintenance_and_blackout_windows';
import * as auditLog from './20261127001300_audit_log';
import * as emailLog from './20261127001400_email_log';
import * as changeApprovalWorkflow from './20261127001500_change_approval_workflow';
import * as procurementWorkflow from './20261127001600_procurement_workflow';
import * as processIndex from './20261127001700_process_index';
import * as processStateNotifications from './20261127001800_process_state_notifications';
import * as ciDependantsIndex from './20261127001900_ci_dependants_index';
import * as processSlaOrderIndex from './20261127002000_process_sla_order_index';
import * as submissions from './20261129000100_submissions';
import * as idempotencyKeys from './20261129002000_idempotency_keys';
import * as purchaseTotalUntilPriced from './20261129002100_purchase_total_until_priced';
import * as processAttention from './20261129001000_process_attention';
import * as webSessions from './20261129003000_web_sessions';
import * as rateLimits from './20261129003100_rate_limits';
import * as emailOutbox from './20261129004000_email_outbox';
import * as serialNumbersUnique from './20261129005000_serial_numbers_unique_whatever_the_case';
import * as apiKeys from './20261130000100_api_keys';
import * as peopleAndGroupsEditable from './20261130000200_people_and_groups_editable';
import * as singleSignOn from './20261130000300_single_sign_on';
import * as approvalHandover from './20261130000400_approval_handover';
import * as masterDataEditable from './20261201000100_master_data_editable';
import * as imports from './20261201000200_imports';
import * as configurationVersions from './20261201000300_configuration_versions';
import * as auditSearchIndexes from './20261201000400_audit_search_indexes';
import * as webUiForEveryone from './20261202000100_web_ui_for_everyone';
import * as inventoryReconciliation from './20261203000100_inventory_reconciliation';
import * as mergedConfigurationItems from './20261203000200_merged_configuration_items';
import * as finopsAndCobit from './20261204000100_finops_and_cobit';

/**
 * The migrations in order, imported rather than found on disk: the same list works from
 * TypeScript sources (tests) and compiled JavaScript (dist), and a missing file fails the build.
 */
export const MIGRATIONS: ReadonlyArray<[name: string, migration: Knex.Migration]> = [
  ['20261127000100_people_groups_roles', peopleGroupsRoles],
  ['20261127000200_cost_centres_and_budgets', costCentresAndBudgets],
  ['20261127000300_vendors_and_contracts', vendorsAndContracts],
  ['20261127000400_product_catalogue', productCatalogue],
  ['20261127000500_assets', assets],
  ['20261127000600_configuration_items', configurationItems],
  ['20261127000700_software_entitlements_and_consumptions', softwareEntitlements],
  ['20261127000800_focus_cost_records', focusCostRecords],
  ['20261127000900_procurement', procurement],
  ['20261127001000_change_requests', changeRequests],
  ['20261127001100_approvals_and_rules', approvalsAndRules],
  ['20261127001200_maintenance_and_blackout_windows', scheduleWindows],
  ['20261127001300_audit_log', auditLog],
  ['20261127001400_email_log', emailLog],
  ['20261127001500_change_approval_workflow', changeApprovalWorkflow],
  ['20261127001600_procurement_workflow', procurementWorkflow],
  ['20261127001700_process_index', processIndex],
  ['20261127001800_process_state_notifications', processStateNotifications],
  ['20261127001900_ci_dependants_index', ciDependantsIndex],
  ['20261127002000_process_sla_order_index', processSlaOrderIndex],
  ['20261129000100_submissions', submissions],
  ['20261129001000_process_attention', processAttention],
  ['20261129002000_idempotency_keys', idempotencyKeys],
  ['20261129002100_purchase_total_until_priced', purchaseTotalUntilPriced],
  ['20261129003000_web_sessions', webSessions],
  ['20261129003100_rate_limits', rateLimits],
  ['20261129004000_email_outbox', emailOutbox],
  ['20261129005000_serial_numbers_unique_whatever_the_case', serialNumbersUnique],
  ['20261130000100_api_keys', apiKeys],
  ['20261130000200_people_and_groups_editable', peopleAndGroupsEditable],
  ['20261130000300_single_sign_on', singleSignOn],
  ['20261130000400_approval_handover', approvalHandover],
  ['20261201000100_master_data_editable', masterDataEditable],
  ['20261201000200_imports', imports],
  ['20261201000300_configuration_versions', configurationVersions],
  ['20261201000400_audit_search_indexes', auditSearchIndexes],
  ['20261202000100_web_ui_for_everyone', webUiForEveryone],
  ['20261203000100_inventory_reconciliation', inventoryReconciliation],
  ['20261203000200_merged_configuration_items', mergedConfigurationItems],
  ['20261204000100_finops_and_cobit', finopsAndCobit],
];

export const migrationSource: Knex.MigrationSource<[string, Knex.Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
