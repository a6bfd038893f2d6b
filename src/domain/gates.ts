// The names of the quality gates. Each gate guards the outgoing edge of one or more stages
// (see stages.ts); the checks themselves are activities registered under these names, except
// `ci`: the code host's CI reporting on the item's head, which the workflow waits for (ADR-0025),
// and `approval`: a person's approval of the pull request, where the project requires one (ADR-0026).

export const GATE_NAMES = [
  'artifacts',
  'security',
  'merge',
  'image-freshness',
  'observation',
  'ci',
  'approval',
] as const;
export type GateName = (typeof GATE_NAMES)[number];

export function isGateName(value: string): value is GateName {
  return (GATE_NAMES as readonly string[]).includes(value);
}

/**
 * PASS lets the item along the edge; FAIL sends it back with findings;
 * REQUEST_CHANGES is the reviewer's verdict, counted separately from failures.
 */
export type GateVerdict = 'PASS' | 'FAIL' | 'REQUEST_CHANGES';

export interface GateOutcome {
  readonly gate: GateName;
  readonly verdict: GateVerdict;
  /** Shown to the next developer run verbatim, so they must stand on their own. */
  readonly findings: readonly string[];
}
