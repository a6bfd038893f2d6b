// `npm run build`'s last step: the workflow bundle (src/worker/workflow-bundle.ts).
import { buildWorkflowBundle } from './workflow-bundle';
import { workflowsPath } from './create-worker';

buildWorkflowBundle(workflowsPath()).then(
  (bundle) =>
    process.stdout.write(`workflow bundle ${bundle.codePath} (${bundle.bytes} bytes, sha256 ${bundle.hash})\n`),
  (err: unknown) => {
    process.stderr.write(`workflow bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
