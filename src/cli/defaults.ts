// Addresses the verbs agree on, so `serve` and `call` work together with no flags.
export const DEFAULT_GRPC_ADDRESS = '127.0.0.1:9090';
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080';
