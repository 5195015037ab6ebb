// Messages of dev mode (the embedded API server and its simulated gateway).

const fix = 'remove it, or pass --dev-dir with a directory of your own';

export const devDirNotDirectory = (dir: string, what: string): string => `dev directory ${dir} is ${what}; refusing to use it (${fix})`;

export const devDirForeign = (dir: string, owner: number, me: number): string =>
  `dev directory ${dir} belongs to uid ${owner}, not to you (uid ${me}); refusing to use it (${fix})`;

export const devDirNotPrivate = (dir: string, mode: number): string =>
  `dev directory ${dir} has mode ${mode.toString(8).padStart(4, '0')}; it must be private (0700): chmod 700 it, ${fix}`;

export const gatewayListenInvalid = (value: string): string => `--gateway-listen "${value}" must be host:port (port 0 picks a free one)`;
