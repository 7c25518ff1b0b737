export { assetLifecycleWorkflow } from './asset-lifecycle/workflow';
