// The bench's workflow bundle: the real work item, and its bare baseline.
export { workItem } from '../../workflows/work-item';
export { minimalChain } from './minimal-chain';
export { waiting } from './waiting';
