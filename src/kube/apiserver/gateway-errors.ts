// Messages of the simulated gateway and the CRD pruning of the in-process API server; the gateway answers are response bodies a curl user reads.

export const gatewayNoRoute = (host: string, path: string): string => `dev gateway: no route matches ${host}${path} (404)\n`;

export const gatewayNoBackend = (rule: string): string => `dev gateway: ${rule} has no backend with weight above 0 (500)\n`;

export const gatewayUnknownService = (service: string): string =>
  `dev gateway: Service ${service} is neither a Rollout's stable nor its canary Service; the built-in backends only play those two\n`;

export const gatewayBackendFailed = (role: string, reason: string): string => `dev gateway: backend ${role}: ${reason}\n`;

export const gatewayApiVersionInvalid = (version: string): string => `Gateway API version "${version}" must look like v1.N or v1.N.P`;
