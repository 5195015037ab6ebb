import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';

// What probes and grpcurl see: the standard health service and server reflection.

const require = createRequire(import.meta.url);
const reflectionProto = join(require.resolve('@grpc/reflection/package.json'), '..', 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

type Ctor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Function>;
function clientFor(file: string, service: string, address: string) {
  const def = protoLoader.loadSync(file, { keepCase: true, defaults: true, enums: String });
  const Client = grpc.loadPackageDefinition(def) as unknown as Record<string, unknown>;
  const ctor = service.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], Client) as Ctor;
  return new ctor(address, grpc.credentials.createInsecure());
}

describe('companion gRPC server: health and reflection', () => {
  let api: ApiServer;
  let companion: RunningCompanion;

  before(async () => {
    api = await startApiServer();
    companion = await startCompanion(api.kubeConfig());
  });
  after(async () => {
    await companion.stop();
    await api.close();
  });

  it('reports SERVING for the server and for rollouts.companion.v1.TrafficRouter', async () => {
    const health = clientFor(healthProto, 'grpc.health.v1.Health', companion.address);
    for (const service of ['', 'rollouts.companion.v1.TrafficRouter']) {
      const reply = await new Promise<{ status: string }>((resolve, reject) =>
        health.Check!({ service }, (err: Error | null, r: { status: string }) => (err ? reject(err) : resolve(r))),
      );
      expect(reply.status, service || '(server)').to.equal('SERVING');
    }
    health.close();
  });

  it('lists the TrafficRouter and Version services through server reflection', async () => {
    const reflection = clientFor(reflectionProto, 'grpc.reflection.v1.ServerReflection', companion.address);
    const call = reflection.ServerReflectionInfo!() as grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
    const reply = new Promise<string[]>((resolve, reject) => {
      call.on('data', (r) => resolve((r.list_services_response?.service ?? []).map((s: { name: string }) => s.name)));
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    const services = await reply;
    call.end();
    expect(services).to.include.members(['rollouts.companion.v1.TrafficRouter', 'rollouts.companion.v1.Version']);
    reflection.close();
  });
});
