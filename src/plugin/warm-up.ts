import { Duplex } from 'node:stream';
import { decodeTrafficRouterArgs } from './go-to-kube.js';
import type { KnownGobTypes } from './gob/known-types.js';
import { RpcErrorType, serveNetRpc, type RpcReply } from './netrpc.js';

// The controller's first Rollout is decoded and converted by code V8 has never run: it
// interprets it without type feedback, several times slower than once it has run. Serving a
// recorded first reconcile once, on a stream of its own, while the controller encodes its
// real first call, runs that code first: net/rpc, gob, and the conversion to Kubernetes
// objects. Nothing reaches a router; every call is answered with an empty RpcError.

const ANSWERED: RpcReply = { type: RpcErrorType, value: { ErrorString: '' } };

export const warmUpErrors = {
  noCalls: () => 'warm-up: the recording holds no complete call',
} as const;

/**
 * Serves `recorded` (the bytes a host writes on a plugin stream); resolves with the number of
 * calls answered. Throws on bytes net/rpc refuses or arguments that do not convert.
 */
export async function warmUpCalls(recorded: Uint8Array, knownTypes?: KnownGobTypes): Promise<number> {
  let failed: unknown;
  let calls = 0;
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  const served = serveNetRpc(
    stream,
    async (method, args) => {
      calls++;
      try {
        if (args !== null) decodeTrafficRouterArgs(method, args);
      } catch (err) {
        failed ??= err;
      }
      return ANSWERED;
    },
    { decoder: { knownTypes }, onError: (error) => (failed ??= error) },
  );
  stream.push(recorded);
  stream.push(null);
  await served;
  if (failed) throw failed;
  if (calls === 0) throw new Error(warmUpErrors.noCalls());
  return calls;
}
