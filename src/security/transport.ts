import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as msg from './errors.js';

// How the companion's gRPC port is exposed: TLS whose certificate files are re-read while serving
// (cert-manager and kubelet Secret updates rotate them in place, no restart), and server options
// that bound what one connection can cost.

/** The largest real Rollout (hundreds of steps, big pod templates) is a few MB; 64 MB is an attack. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** How often the files are checked for a new certificate; default 60 s. */
  refreshMs?: number;
}

/** Server TLS from files that may be replaced while the server runs. */
export function reloadingTlsCredentials(tls: TlsFiles): grpc.ServerCredentials {
  const missing = [tls.certFile, tls.keyFile].filter((f) => !existsSync(f));
  if (missing.length) throw new Error(msg.tlsFilesMissing(missing));
  const provider = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs: tls.refreshMs ?? 60_000,
  });
  // grpc-js names the parameters the other way round: the first provider is the server's identity.
  return grpc.experimental.createCertificateProviderServerCredentials(provider, null, false);
}

export interface HardenedOptions {
  maxMessageBytes?: number;
  interceptors?: grpc.ServerInterceptor[];
}

export function hardenedServerOptions(options: HardenedOptions = {}): grpc.ServerOptions {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return {
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    // A connection cannot open unbounded parallel streams...
    'grpc.max_concurrent_streams': 100,
    // ...nor sit dead: the server pings idle clients and drops those that do not answer,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    // closes connections idle for 10 minutes, and recycles every connection hourly (clients
    // reconnect transparently; a stolen connection does not live for ever).
    'grpc.max_connection_idle_ms': 600_000,
    'grpc.max_connection_age_ms': 3_600_000,
    'grpc.max_connection_age_grace_ms': 60_000,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  };
}

/** Whether a --listen address only accepts connections from this machine. */
export function isLoopback(address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
