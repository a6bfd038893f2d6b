import fs from 'node:fs';
import path from 'node:path';
import {
  GATE_NAMES,
  ROLES,
  STAGES,
  STAGE_GRAPH,
  rollbackTargets,
  stageGraphMermaid,
  stageIndex,
} from '../../src/domain';

describe('stage graph', () => {
  test('the pipeline is one chain from created to done', () => {
    const walked = ['created'];
    let stage = STAGE_GRAPH.created;
    while (stage.next) {
      walked.push(stage.next);
      stage = STAGE_GRAPH[stage.next];
    }
    expect(walked).toEqual([...STAGES]);
  });

  test('every working stage has a step, gates and a failure target that is not later than itself', () => {
    for (const stage of STAGES.filter((s) => s !== 'created' && s !== 'done')) {
      const spec = STAGE_GRAPH[stage];
      expect(spec.step).toBeDefined();
      expect(spec.gates.length).toBeGreaterThan(0);
      expect(spec.gates[0]).toBe('artifacts');
      expect(stageIndex(spec.onFailure!)).toBeLessThanOrEqual(stageIndex(stage));
    }
    expect(STAGE_GRAPH.done.next).toBeUndefined();
  });

  test('review and later stages send work back to development', () => {
    for (const stage of ['review', 'testing', 'deploy-staging', 'deploy'] as const)
      expect(STAGE_GRAPH[stage].onFailure).toBe('development');
  });

  test('security runs before merge and image freshness on the edge into deploy-staging', () => {
    expect(STAGE_GRAPH.testing.next).toBe('deploy-staging');
    expect(STAGE_GRAPH.testing.gates).toEqual(['artifacts', 'security', 'merge', 'image-freshness']);
  });

  test('each agent role is used by exactly one stage, and gates are known names', () => {
    const roles = STAGES.flatMap((s) => {
      const step = STAGE_GRAPH[s].step;
      return step?.activity === 'runAgent' ? [step.role] : [];
    });
    expect(new Set(roles).size).toBe(roles.length);
    expect(ROLES.filter((r) => !roles.includes(r))).toEqual(['deployer']);
    for (const s of STAGES) for (const g of STAGE_GRAPH[s].gates) expect(GATE_NAMES).toContain(g);
  });

  test('docs/architecture/README.md shows the graph exactly as the code defines it', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/architecture/README.md'), 'utf8');
    expect(doc).toContain(`\`\`\`mermaid\n${stageGraphMermaid()}\n\`\`\``);
  });

  test('rollback targets are the earlier working stages', () => {
    expect(rollbackTargets('review')).toEqual(['analysis', 'architecture', 'development']);
    expect(rollbackTargets('analysis')).toEqual([]);
  });

  test('the Mermaid rendering names every edge and its gates', () => {
    const chart = stageGraphMermaid();
    expect(chart).toContain(
      'testing[testing] -->|artifacts, security, merge, image-freshness| deploy_staging[deploy-staging]',
    );
    expect(chart).toContain('review -. REQUEST_CHANGES / fail .-> development');
    expect(chart).toContain('deploy -. fail .-> development');
  });
});
