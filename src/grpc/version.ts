import * as grpc from '@grpc/grpc-js';
import { CONTRACT_VERSION, contractCompatible, ownVersion, type VersionInfo } from '../version.js';
import { packageDefinition } from './contract.js';
import { companionWithoutVersion, incompatibleCompanion } from './errors.js';

// rollouts.companion.v1.Version: the companion answers with its version, commit and contract
// version (src/version.ts); the plugin asks before it forwards anything (remote mode).

export const VERSION_SERVICE = 'rollouts.companion.v1.Version';

export type VersionReply = VersionInfo;

function versionService(): grpc.ServiceDefinition {
  return packageDefinition()[VERSION_SERVICE] as grpc.ServiceDefinition;
}

/** Serves rollouts.companion.v1.Version; `answer` is this build's own unless a test stands in for another release. */
export function addVersionService(server: grpc.Server, answer: () => VersionReply = ownVersion): void {
  server.addService(versionService(), {
    GetVersion: (_call: grpc.ServerUnaryCall<unknown, VersionReply>, callback: grpc.sendUnaryData<VersionReply>) => callback(null, answer()),
  });
}

export interface ContractGate {
  /**
   * undefined when calls may go ahead, else why not; rejects with the gRPC error when the
   * companion cannot be asked. Asks until the companion once answers with a usable version.
   */
  check(): Promise<string | undefined>;
  /** The companion's own answer (the `version --companion` verb). */
  ask(): Promise<VersionReply>;
  close(): void;
}

export function companionContractGate(options: { address: string; credentials: grpc.ChannelCredentials; deadlineMs: number }): ContractGate {
  const Client = grpc.makeClientConstructor(versionService(), 'Version');
  // Same address and credentials as the TrafficRouter client: grpc-js shares the connection.
  const client = new Client(options.address, options.credentials) as unknown as grpc.Client & {
    GetVersion(req: object, meta: grpc.CallOptions, cb: grpc.requestCallback<VersionReply>): void;
  };
  let compatible = false;
  let pending: Promise<string | undefined> | undefined;

  const ask = () =>
    new Promise<VersionReply>((resolve, reject) =>
      client.GetVersion({ contractVersion: CONTRACT_VERSION }, { deadline: Date.now() + options.deadlineMs }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    );

  const verdict = async (): Promise<string | undefined> => {
    const ours = ownVersion();
    try {
      const theirs = await ask();
      if (contractCompatible(CONTRACT_VERSION, theirs.contractVersion)) {
        compatible = true;
        return undefined;
      }
      return incompatibleCompanion(options.address, theirs, ours);
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) return companionWithoutVersion(options.address, ours);
      // Down or slow: the caller reports it as it reports a failed call; the next call asks again.
      throw err;
    }
  };

  return {
    check: () => {
      if (compatible) return Promise.resolve(undefined);
      pending ??= verdict().finally(() => (pending = undefined));
      return pending;
    },
    ask,
    close: () => client.close(),
  };
}
