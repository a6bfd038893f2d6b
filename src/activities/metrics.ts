// The worker's Prometheus metrics (agent runs, sandbox refusals and limits, run incidents),
// served by src/worker/metrics-server.ts.
import { Counter, Gauge, Registry } from 'prom-client';

export const workerRegistry = new Registry();

export const sandboxDenied = new Counter({
  name: 'orch_sandbox_denied_connections_total',
  help: 'Connections an agent sandbox tried that its egress proxy refused, by project',
  labelNames: ['project'] as const,
  registers: [workerRegistry],
});

export const sandboxLimitStops = new Counter({
  name: 'orch_sandbox_limit_stops_total',
  help: 'Agent runs stopped at a sandbox limit (wall time, memory, processes), by project and limit',
  labelNames: ['project', 'limit'] as const,
  registers: [workerRegistry],
});

export const agentRuns = new Counter({
  name: 'orch_agent_runs_total',
  help: 'Agent runs started, by project and sandbox mode (bwrap, or off when ORCH_AGENT_SANDBOX=off)',
  labelNames: ['project', 'sandbox'] as const,
  registers: [workerRegistry],
});

export const agentIncidents = new Counter({
  name: 'orch_agent_incidents_total',
  help: 'Agent runs that stalled, looped or exited without a result, by project, role and kind',
  labelNames: ['project', 'role', 'kind'] as const,
  registers: [workerRegistry],
});

export const hostSlots = new Gauge({
  name: 'orch_host_slots',
  help: "This host's slots by pool (agents, builds) and state: capacity, held (claimed, run not started), running",
  labelNames: ['pool', 'state'] as const,
  registers: [workerRegistry],
});

export const reconcileFailures = new Counter({
  name: 'orch_reconcile_failures_total',
  help: "Catch-up runs that failed for a project (its tracker's API answered an error), by project and tracker",
  labelNames: ['project', 'tracker'] as const,
  registers: [workerRegistry],
});

export const reconcileLastSuccess = new Gauge({
  name: 'orch_reconcile_last_success_timestamp_seconds',
  help: "When the catch-up last went through all of a project's tickets or CI heads (Unix time), by project and tracker",
  labelNames: ['project', 'tracker'] as const,
  registers: [workerRegistry],
});
