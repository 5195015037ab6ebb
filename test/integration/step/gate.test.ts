import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { pluginBundle } from '../plugin/support.js';
import { ControllerPlay, GATE_STEP, HOSTS, PLUGIN, memberRollout, resultOf } from './controller.js';

// The lockstep gate as the controller drives it, under both hosts: Rollouts in the in-process
// API server, the controller's part (Run while progressing, Terminate on promotion, Abort in
// reverse order, status kept in status.canary.stepPluginStatuses) played between plugin
// processes. `align: false` leaves as soon as everybody is here, so these scenarios need no
// waiting for the shared release point (spread.test.ts covers that).

for (const host of HOSTS) {
  describe(`lockstep gate under ${host.name}`, function () {
    this.timeout(120_000);
    let api: ApiServer;
    let play: ControllerPlay;

    before(async function () {
      host.require(this);
      await pluginBundle();
    });
    beforeEach(async () => {
      api = await startApiServer();
      play = await ControllerPlay.start(api, host);
    });
    afterEach(async () => {
      await api.close();
    });

    const gate = (members: string[], extra: Record<string, unknown> = {}) => ({ gate: 'release-42', members, timeout: '15m', align: false, ...extra });

    it('two members meet: the first waits for the second, then both leave the gate', async () => {
      // Given frontend and backend, both gated on release-42, and frontend at the gate first
      play.create(memberRollout('frontend', gate(['frontend', 'backend'])), memberRollout('backend', gate(['frontend', 'backend'])));
      play.arrive('frontend');

      // When the controller runs frontend's gate step
      let round = await play.reconcile(['frontend', 'backend']);
      // Then frontend waits, naming backend and where it is
      expect(resultOf(round.by['frontend']).phase).to.equal('Running');
      expect(resultOf(round.by['frontend']).message).to.match(/waiting for default\/backend \(at step 1 of 3, gate is step 2\)/);
      expect(resultOf(round.by['frontend']).requeueAfterNs).to.be.greaterThan(10e9);
      expect(round.by['backend']).to.equal(undefined);

      // When backend reaches the gate and both are reconciled
      play.arrive('backend');
      round = await play.reconcile(['backend', 'frontend']);
      // Then both leave the gate: the next step of each is running
      expect(resultOf(round.by['backend']).phase).to.equal('Successful');
      expect(resultOf(round.by['frontend']).phase).to.equal('Successful');
      expect([play.step('frontend'), play.step('backend')]).to.deep.equal([GATE_STEP + 1, GATE_STEP + 1]);
    });

    it('three members, one late: the two early ones wait for the third, then all three leave', async () => {
      const members = ['api', 'web', 'worker'];
      play.create(...members.map((m) => memberRollout(m, gate(members))));
      play.arrive('api', 'web');

      let round = await play.reconcile(['api', 'web', 'worker']);
      expect(resultOf(round.by['web']).message).to.match(/waiting for default\/worker \(at step 1 of 3, gate is step 2\); 2 of 3 here/);
      expect(resultOf(round.by['web']).phase).to.equal('Running');
      // Still nobody leaves while worker is late
      round = await play.reconcile(['api', 'web']);
      expect([resultOf(round.by['api']).phase, resultOf(round.by['web']).phase]).to.deep.equal(['Running', 'Running']);

      play.arrive('worker');
      round = await play.reconcile(['worker', 'api', 'web']);
      expect(members.map((m) => resultOf(round.by[m]).phase)).to.deep.equal(['Successful', 'Successful', 'Successful']);
      expect(members.map((m) => play.step(m))).to.deep.equal([2, 2, 2]);
    });

    it('a member aborted before the others arrive fails them on arrival; Abort then clears their gate step', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'])), memberRollout('backend', gate(['frontend', 'backend'])));
      play.arrive('backend');
      await play.reconcile(['backend']);
      play.abort('backend');

      // When frontend reaches the gate
      play.arrive('frontend');
      let round = await play.reconcile(['frontend', 'backend']);
      // Then frontend fails, naming backend and why, and the controller aborts frontend too
      expect(resultOf(round.by['frontend']).phase).to.equal('Failed');
      expect(resultOf(round.by['frontend']).message).to.equal(
        'gate release-42: member default/backend was aborted (RolloutAborted: metric "error-rate" assessed Failed); leaving with it (abortWithMembers)',
      );
      expect(play.get('frontend').status!['abort']).to.equal(true);
      // And backend's own gate step was aborted by the controller: nothing kept
      expect(resultOf(round.by['backend']).phase).to.equal('Successful');
      expect(resultOf(round.by['backend']).message).to.equal('gate release-42: aborted; nothing kept');
      expect(resultOf(round.by['backend']).status).to.equal(null);
    });

    it('a member aborted after the others arrived fails the ones still waiting at the gate', async () => {
      // Given both at the gate, aligned (they leave together at the next release point)
      const cfg = gate(['frontend', 'backend'], { align: true });
      play.create(memberRollout('frontend', cfg), memberRollout('backend', cfg));
      play.arrive('frontend', 'backend');
      let round = await play.reconcile(['frontend', 'backend']);
      expect(resultOf(round.by['backend']).message).to.match(/all 2 members here; leaving together at /);
      expect(resultOf(round.by['frontend']).phase).to.equal('Running');

      // When backend is aborted before they leave
      play.abort('backend', 'RolloutAborted: aborted by user');
      round = await play.reconcile(['frontend']);
      // Then frontend fails with it
      expect(resultOf(round.by['frontend']).phase).to.equal('Failed');
      expect(resultOf(round.by['frontend']).message).to.match(/member default\/backend was aborted \(RolloutAborted: aborted by user\)/);
    });

    it('abortWithMembers: false keeps a member waiting when another one is aborted', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'], { abortWithMembers: false })), memberRollout('backend', gate(['frontend', 'backend'])));
      play.abort('backend');
      play.arrive('frontend');
      const round = await play.reconcile(['frontend']);
      expect(resultOf(round.by['frontend']).phase).to.equal('Running');
      expect(resultOf(round.by['frontend']).message).to.match(/not leaving with default\/backend \(was aborted .*\) \(abortWithMembers: false\)/);
    });

    it('a member deleted while another waits fails the waiting one', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'])), memberRollout('backend', gate(['frontend', 'backend'])));
      play.arrive('frontend');
      await play.reconcile(['frontend']);
      api.delete('argoproj.io/v1alpha1', 'Rollout', 'default', 'backend');
      const round = await play.reconcile(['frontend']);
      expect(resultOf(round.by['frontend']).phase).to.equal('Failed');
      expect(resultOf(round.by['frontend']).message).to.match(/member default\/backend was deleted/);
    });

    it('times out: the waiting member fails naming who never came', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'], { timeout: '1s' })), memberRollout('backend', gate(['frontend', 'backend'])));
      play.arrive('frontend');
      await play.reconcile(['frontend']);
      await new Promise((r) => setTimeout(r, 1100));
      const round = await play.reconcile(['frontend']);
      expect(resultOf(round.by['frontend']).phase).to.equal('Failed');
      expect(resultOf(round.by['frontend']).message).to.equal(
        'gate release-42: timed out after 1s waiting for default/backend (at step 1 of 3, gate is step 2)',
      );
    });

    it('the plugin killed and restarted mid-wait carries on from the step status', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'])), memberRollout('backend', gate(['frontend', 'backend'])));
      play.arrive('frontend');
      let round = await play.reconcile(['frontend']);
      const since = (resultOf(round.by['frontend']).status as { arrivedAt: string }).arrivedAt;

      // When the plugin is killed and started again before the next Run
      round = await play.reconcile(['frontend'], { before: [{ method: 'Run', context: { pluginName: PLUGIN, config: gate(['frontend', 'backend']) } , rollout: play.get('backend') }, { method: 'Kill' }, { method: 'Restart' }, { method: 'InitPlugin' }] });
      // Then frontend is still waiting since its first arrival
      expect(resultOf(round.by['frontend']).phase).to.equal('Running');
      expect(resultOf(round.by['frontend']).message).to.include(`default/frontend since ${since}`);

      play.arrive('backend');
      round = await play.reconcile(['backend', 'frontend']);
      expect([resultOf(round.by['backend']).phase, resultOf(round.by['frontend']).phase]).to.deep.equal(['Successful', 'Successful']);
    });

    it('a member promoted by hand past the gate releases the member waiting for it', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'])), memberRollout('backend', gate(['frontend', 'backend'])));
      play.arrive('frontend');
      let round = await play.reconcile(['frontend']);
      expect(resultOf(round.by['frontend']).phase).to.equal('Running');

      // When an operator runs `kubectl argo rollouts promote --full backend` before its gate
      play.promoteFull('backend');
      // Then frontend, waiting at the gate, follows it
      round = await play.reconcile(['frontend']);
      expect(resultOf(round.by['frontend']).phase).to.equal('Successful');
      expect(play.step('frontend')).to.equal(GATE_STEP + 1);
    });

    it('a member promoted by hand while waiting at the gate is terminated; one arriving later waits for it in vain', async () => {
      play.create(memberRollout('frontend', gate(['frontend', 'backend'], { timeout: '2s' })), memberRollout('backend', gate(['frontend', 'backend'], { timeout: '2s' })));
      play.arrive('frontend');
      await play.reconcile(['frontend']);

      // When frontend is promoted by hand while its gate step is Running
      play.promoteFull('frontend');
      await play.reconcile(['frontend']);
      // Then the controller terminated frontend's gate step and frontend is fully promoted
      const terminate = play.entries('frontend').find((e) => e.operation === 'Terminate');
      expect(terminate?.phase).to.equal('Successful');
      expect(terminate?.message).to.equal('gate release-42: promoted past the gate; nothing kept');
      expect(play.step('frontend')).to.equal(3);

      // And backend, arriving afterwards, did not meet it: it waits, saying so, until its timeout
      await new Promise((r) => setTimeout(r, 1100));
      play.arrive('backend');
      const round = await play.reconcile(['backend']);
      expect(resultOf(round.by['backend']).phase).to.equal('Running');
      expect(resultOf(round.by['backend']).message).to.match(/waiting for default\/frontend \(fully promoted at .*, before this member arrived\)/);
    });

    it('answers bad configs with an Error phase that says what to fix, never a hang', async () => {
      play.create(
        memberRollout('frontend', gate(['frontend', 'backend'])),
        memberRollout('backend', gate(['frontend', 'backend'])),
        memberRollout('other', { gate: 'release-7', members: ['other', 'frontend'] }),
      );
      play.arrive('frontend');
      const frontend = play.get('frontend');
      const run = (config: unknown) => ({ method: 'Run', rollout: frontend, context: { pluginName: PLUGIN, config } });
      const round = await play.reconcile([], {
        before: [
          run({ members: ['frontend', 'backend'] }),
          run({ gate: 'release-42', members: ['frontend', 'ghost'] }),
          run({ gate: 'release-42', members: ['frontend', 'other'] }),
          run({ gate: 'release-42', members: ['frontend', 'backend', 'default/frontend'] }),
          run({ gate: 'release-42', members: ['frontend', 'backend'], timeout: '15 minutes' }),
        ],
      });
      const replies = round.run.lines.filter((l) => l.method === 'Run').map((l) => resultOf(l));
      expect(replies.map((r) => r.phase)).to.deep.equal(['Error', 'Error', 'Error', 'Error', 'Error']);
      expect(replies.map((r) => r.message)).to.deep.equal([
        'default/frontend: config.gate is missing or empty: name the gate (e.g. gate: release-42)',
        'gate release-42: member Rollout default/ghost does not exist (check config.members; "namespace/name" for another namespace)',
        `gate release-42: member default/other has no step of this gate (a step with plugin.name ${PLUGIN} and config.gate release-42)`,
        'default/frontend: config.members lists default/frontend twice',
        'default/frontend: config.timeout "15 minutes" is not a positive duration (e.g. 90s, 15m, 1h30m)',
      ]);
    });
  });
}
