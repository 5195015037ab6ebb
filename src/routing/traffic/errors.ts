// Messages of the request-matching model's parsers.

export const REQUEST_FORMAT = `"METHOD host/path?query Header:value …" (e.g. "GET app.example.com/ X-Canary:yes") or "GRPC host package.Service/Method Header:value …"`;

export const requestEmpty = (): string => `request is empty; expected ${REQUEST_FORMAT}`;

export const requestTargetInvalid = (text: string): string => `request "${text}": expected ${REQUEST_FORMAT}`;

export const requestHeaderInvalid = (text: string, header: string): string =>
  `request "${text}": header "${header}" must be Name:value`;

export const grpcMethodInvalid = (text: string, method: string): string =>
  `request "${text}": gRPC method "${method}" must be package.Service/Method`;
