import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callStep } from '../../../src/cli/call-step.js';
import { startDevCluster, type DevCluster } from '../../../src/cli/dev-cluster.js';
import { KubeClient } from '../../../src/kube/client.js';
import { readRollout } from '../../../src/kube/rollouts.js';
import { describeGates, renderGates } from '../../../src/step/describe.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { requireTool } from '../../support/tooling.js';
import { ROOT } from '../plugin/support.js';

// examples/lockstep-frontend-backend/README.md, step by step, in dev mode: the seeded Rollouts,
// `call ... --record` playing the controller, `status`'s gate view, kubectl moving backend.

const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

describe('example lockstep-frontend-backend: the README walk-through in dev mode', function () {
  this.timeout(120_000);
  let dev: DevCluster;
  let companion: RunningCompanion;

  before(async function () {
    requireTool(this, kubectlAvailable, 'kubectl is not installed');
    dev = await startDevCluster(join(ROOT, 'examples/lockstep-frontend-backend'), mkdtempSync(join(tmpdir(), 'lockstep-dev-')));
    await dev.writeKubeconfig();
    companion = await startCompanion(dev.api.kubeConfig());
  });
  after(async () => {
    await companion?.stop();
    await dev?.close();
  });

  it('frontend waits for backend, status shows who is waited for, then both leave together', async () => {
    const kubeconfig = dev.kubeconfigPath;
    const run = (rollout: string) => callStep('Run', { address: companion.address, rollout, namespace: 'default', kubeconfig, record: true, deadline: 10_000 });
    const kube = new KubeClient({ kubeconfig });

    // 1. frontend is at its gate
    const first = await run('frontend');
    expect(first.phase).to.equal('Running');
    expect(first.message).to.match(/^gate release-42: waiting for default\/backend \(at step 1 of 3, gate is step 2\); 1 of 2 here, default\/frontend since /);

    // 2. status shows the gate
    const frontend = (await readRollout(kube, 'default', 'frontend'))!;
    const text = renderGates(await describeGates(frontend, (ns, name) => readRollout(kube, ns, name)));
    expect(text).to.match(/^gate release-42 {2}\(step 2, plugin rollouts-companion\/lockstep\) {2}waiting since /);
    expect(text).to.match(/\n {2}default\/frontend {2}at the gate since .*\n/);
    expect(text).to.match(/\n {2}default\/backend {3}at step 1 of 3, gate is step 2 {2}← waited for\n/);

    // 3. backend reaches its gate (kubectl, as in the README)
    // (not execFileSync: the API server answering kubectl lives in this process)
    await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, 'patch', 'rollout', 'backend', '--subresource=status', '--type=merge', '-p', '{"status":{"currentStepIndex":1}}']);
    const second = await run('backend');
    expect(second.phase).to.equal('Running');
    const at = /leaving together at (\S+)$/.exec(second.message)?.[1];
    expect(at, second.message).to.be.a('string');

    // 4. once that time has come, both leave
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(at!) - Date.now())));
    expect((await run('frontend')).phase).to.equal('Successful');
    expect((await run('backend')).phase).to.equal('Successful');
    for (const name of ['frontend', 'backend']) expect((await readRollout(kube, 'default', name))!.status!.currentStepIndex).to.equal(2);
  });
});
