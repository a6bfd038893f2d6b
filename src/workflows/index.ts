// The workflow bundle's entry point: every workflow type the worker registers.
export { workItem } from './work-item';
export { reconcileTracker } from './reconcile';
export { repositoryLease } from './lease';
