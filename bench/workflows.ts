/** The bench worker's workflows: the product's, and the no-op baseline measured beside them. */
export * from '../workflows';
export { baselineWorkflow } from './baseline-workflow';
