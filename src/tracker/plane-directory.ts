// Cached look-ups the Plane webhook mapping needs: webhooks carry UUIDs, the pipeline needs
// "SHOP-42" and state groups. Identifiers and states rarely change: cached for the process.
import type { PlaneClient } from './plane-client';

export interface PlaneDirectory {
  projectIdentifier(projectId: string): Promise<string>;
  stateGroup(projectId: string, stateId: string): Promise<string | undefined>;
  workItemSequence(projectId: string, workItemId: string): Promise<number>;
}

export function cachedPlaneDirectory(client: PlaneClient): PlaneDirectory {
  const identifiers = new Map<string, Promise<string>>();
  const states = new Map<string, Promise<Map<string, string>>>();
  const sequences = new Map<string, number>();
  const remember = <K, V>(map: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> => {
    let value = map.get(key);
    if (!value) {
      value = load();
      map.set(key, value);
      value.catch(() => map.delete(key)); // do not cache failures
    }
    return value;
  };
  return {
    projectIdentifier: (projectId) => remember(identifiers, projectId, () => client.projectIdentifier(projectId)),
    async stateGroup(projectId, stateId) {
      const groups = await remember(
        states,
        projectId,
        async () => new Map((await client.states(projectId)).map((s) => [s.id, s.group])),
      );
      return groups.get(stateId);
    },
    async workItemSequence(projectId, workItemId) {
      const known = sequences.get(workItemId);
      if (known !== undefined) return known;
      const item = await client.workItem(projectId, workItemId);
      sequences.set(workItemId, item.sequence_id);
      return item.sequence_id;
    },
  };
}
