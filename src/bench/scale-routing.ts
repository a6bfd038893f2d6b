// The claim queues of one scale-out measurement, named after its main queue.
import type { HostRouting } from '../domain';

export function scaleRouting(queue: string): HostRouting {
  return { agentQueue: `${queue}-agents`, buildQueue: `${queue}-builds`, hostStartMs: 60_000 };
}
