import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { silentLogger } from '../../../src/log.js';
import { createCompanionServer, listen } from '../../../src/grpc/server.js';
import { callerGuard, type CallerLimits } from '../../../src/grpc/auth.js';
import { toTarget, trafficRouterClientConstructor } from '../../../src/grpc/contract.js';
import { PLUGIN_TYPE, Verified, type TrafficRouterApi } from '../../../src/routing/api.js';
import { hardenedServerOptions } from '../../../src/security/transport.js';

// Every call ends: a caller that sets no deadline (or a long one) still gets an answer within
// the companion's limit, and its slot is free again for its next call. Reflection needs no
// token and can be switched off.

const rollout = { metadata: { name: 'r', namespace: 'default' } };

/** A router whose SetWeight never finishes (an API server that hangs) and whose Type answers at once. */
const hanging: TrafficRouterApi = {
  initPlugin: async () => ({ error: '' }),
  updateHash: async () => ({ error: '' }),
  setWeight: () => new Promise(() => {}),
  setHeaderRoute: async () => ({ error: '' }),
  setMirrorRoute: async () => ({ error: '' }),
  verifyWeight: async () => ({ verified: Verified.Verified, error: '' }),
  removeManagedRoutes: async () => ({ error: '' }),
  type: async () => PLUGIN_TYPE,
};

describe('caller guard: deadlines, in-flight slots, open services', () => {
  let server: grpc.Server;
  let client: grpc.Client & Record<string, Function>;

  const start = async (limits: Partial<CallerLimits>) => {
    ({ server } = createCompanionServer({ routerFor: () => hanging, logger: silentLogger, grpcOptions: hardenedServerOptions({ interceptors: [callerGuard({ allowed: [], limits })] }) }));
    const port = await listen(server, '127.0.0.1:0');
    const Client = trafficRouterClientConstructor();
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Function>;
  };
  const unary = (method: string, request: object) =>
    new Promise<{ code: grpc.status; details: string }>((resolve) =>
      client[method]!.call(client, request, (err: grpc.ServiceError | null) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' })),
    );

  afterEach(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('ends a call that outlives the companion\'s limit with DEADLINE_EXCEEDED, even without a caller deadline', async () => {
    await start({ maxCallMs: 200 });
    const reply = await unary('SetWeight', { target: toTarget(rollout as never), desiredWeight: 10 });
    expect(grpc.status[reply.code]).to.equal('DEADLINE_EXCEEDED');
    expect(reply.details).to.equal("call did not finish within the companion's 200 ms limit");
  });

  it('frees the caller\'s slot when a call is ended that way', async () => {
    await start({ maxCallMs: 200, maxInFlight: 1 });
    const first = unary('SetWeight', { target: toTarget(rollout as never), desiredWeight: 10 });
    // While the first call holds the only slot, a second is refused...
    const second = await unary('Type', {});
    expect(grpc.status[second.code]).to.equal('RESOURCE_EXHAUSTED');
    expect(second.details).to.equal('127.0.0.1 already has 1 calls in progress: retry later');
    expect(grpc.status[(await first).code]).to.equal('DEADLINE_EXCEEDED');
    // ...and once it has been ended, the next one is served.
    expect(grpc.status[(await unary('Type', {})).code]).to.equal('OK');
  });

  describe('reflection', () => {
    const require = createRequire(import.meta.url);
    const proto = join(require.resolve('@grpc/reflection/package.json'), '..', 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
    const listServices = (address: string) => {
      const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true })) as unknown as {
        grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
      };
      const reflection = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
      const stream = reflection.ServerReflectionInfo!() as grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
      return new Promise<{ services?: string[]; code?: grpc.status }>((resolve) => {
        stream.on('data', (r) => resolve({ services: (r.list_services_response?.service ?? []).map((x: { name: string }) => x.name) }));
        stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code }));
        stream.write({ list_services: '' });
      }).finally(() => {
        stream.cancel();
        reflection.close();
      });
    };
    const serveWith = async (reflection: boolean) => {
      const guard = callerGuard({ reviewer: { review: async () => Promise.reject(new Error('no token may pass')) }, allowed: [] });
      ({ server } = createCompanionServer({ routerFor: () => hanging, logger: silentLogger, reflection, grpcOptions: hardenedServerOptions({ interceptors: [guard] }) }));
      const port = await listen(server, '127.0.0.1:0');
      client = new (trafficRouterClientConstructor())(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Function>;
      return `127.0.0.1:${port}`;
    };

    it('stays open without a token while TrafficRouter calls need one', async () => {
      const address = await serveWith(true);
      expect((await listServices(address)).services).to.include('rollouts.companion.v1.TrafficRouter');
      expect(grpc.status[(await unary('Type', {})).code]).to.equal('UNAUTHENTICATED');
    });

    it('can be turned off (serve --no-reflection)', async () => {
      const address = await serveWith(false);
      expect(grpc.status[(await listServices(address)).code!]).to.equal('UNIMPLEMENTED');
    });
  });
});
