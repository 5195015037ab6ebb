// Answers of dev mode's gateway (traffic-gateway.ts), as response bodies a curl user reads.

export const gatewayNoRoute = (host: string, path: string): string => `dev gateway: no route matches ${host}${path} (404)\n`;

export const gatewayNoBackend = (rule: string): string => `dev gateway: ${rule} has no backend with weight above 0 (500)\n`;

export const gatewayUnknownService = (service: string): string =>
  `dev gateway: Service ${service} is neither a Rollout's stable nor its canary Service; the built-in backends only play those two\n`;

export const gatewayBackendFailed = (role: string, reason: string): string => `dev gateway: backend ${role}: ${reason}\n`;
