// The self-hosting upgrade on the production server (#19): the orchestrator's own item deploys a
// new build through scripts/release-worker.sh (replay gate, set-current, drain) while another
// project's merge gate is in flight on the old worker; both finish, once each
// (test/support/self-hosting-scenario.ts).
import { Client, Connection } from '@temporalio/client';
import { alive } from '../support/processes';
import { startProductionTemporal, type ProductionTemporal } from '../support/production-temporal';
import { selfHostingUpgrade, type ScenarioCleanup } from '../support/self-hosting-scenario';
import { connectGuarded } from '../../src/temporal/closed-channel-guard';

jest.setTimeout(300_000);

let temporal: ProductionTemporal;
let connection: Connection;
const cleanup: ScenarioCleanup = { pids: [], servers: [] };

beforeAll(async () => {
  temporal = await startProductionTemporal();
  connection = await connectGuarded(temporal.address);
});
afterAll(async () => {
  for (const pid of cleanup.pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const server of cleanup.servers) await server.close();
  await connection?.close();
  await temporal?.close();
});

test('the orchestrator releases its new build with another item in flight, on the production server', () =>
  selfHostingUpgrade({ client: new Client({ connection }), address: temporal.address }, cleanup));
