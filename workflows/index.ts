export { assetLifecycleWorkflow } from './asset-lifecycle/workflow';
export { changeRequestWorkflow } from './change-request/workflow';
export { purchaseRequestWorkflow } from './purchase-request/workflow';
export { personDeactivationWorkflow } from './person-deactivation/workflow';
export { masterDataImportWorkflow } from './master-data-import/workflow';
export { slaWatchWorkflow } from './sla-watch/workflow';
export { unseenWatchWorkflow } from './unseen-watch/workflow';
export { stewardCaseWorkflow } from './steward-case/workflow';
