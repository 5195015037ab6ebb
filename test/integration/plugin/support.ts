import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { PLUGIN_NODE_FLAGS } from '../../../scripts/bundle.mjs';
import { seedPinnedRoutes } from '../../support/seed.js';

// Running the plugin under the real go-plugin host (../shared/goplugin-host, built into
// .build/gphost by CI): the host starts the plugin as the controller does and prints one JSON
// line per reply.

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const GPHOST_DIR = join(ROOT, '.build/gphost');
export const HOST = join(GPHOST_DIR, 'host');
export const PLUGIN_BUNDLE_DIR = join(ROOT, '.build/plugin-test');
/** Argo Rollouts v1.9.1's own plugin client and complete type tree (static binary, beside the repository). */
export const REALHOST = join(ROOT, '../shared/realhost/realhost');
export const WIRETAP = join(GPHOST_DIR, 'wiretap');

/** The two hosts the plugin must satisfy: the go-plugin host (look-alike types) and the controller's real client. */
export const HOSTS = [
  { name: 'goplugin-host', path: HOST },
  { name: 'realhost (Argo Rollouts v1.9.1 client)', path: REALHOST },
] as const;

/** Fails (never skips) when a host is missing: CI builds or provides them, so a missing host is a broken build. */
export function requireHost(host: string = HOST): void {
  if (existsSync(host)) return;
  if (host === REALHOST) throw new Error(`${REALHOST} is missing: the plugin conformance tests need ../shared/realhost beside the repository`);
  throw new Error(
    `${host} is missing: build it with ../shared/goplugin-host/build.sh ${GPHOST_DIR} (the plugin conformance tests need the real go-plugin host)`,
  );
}

let bundled: Promise<string> | undefined;
/** The plugin as shipped: scripts/bundle.mjs output, built once per test run. */
export function pluginBundle(): Promise<string> {
  bundled ??= (async () => {
    const { bundlePlugin } = (await import(join(ROOT, 'scripts/bundle.mjs'))) as {
      bundlePlugin(o: { outdir: string }): Promise<string>;
    };
    return bundlePlugin({ outdir: PLUGIN_BUNDLE_DIR });
  })();
  return bundled;
}

/** argv that starts the plugin: the bundle, or the TypeScript entry when PLUGIN_FROM_SOURCE=1. */
export async function pluginArgv(args: string[]): Promise<string[]> {
  if (process.env.PLUGIN_FROM_SOURCE === '1') {
    return [process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/plugin-main.ts'), ...args];
  }
  // With the launcher's node flags (one V8 worker thread), so tests run the plugin as deployed.
  return [process.execPath, ...PLUGIN_NODE_FLAGS, await pluginBundle(), ...args];
}

export interface HostLine {
  i: number;
  sub?: number;
  method: string;
  ok: boolean;
  rpcError?: string;
  verified?: number;
  type?: string;
  result?: Record<string, unknown>;
  transportError?: string;
  expectError?: string;
  durationMs: number;
}

export interface HostRun {
  code: number | null;
  lines: HostLine[];
  stderr: string;
}

export interface Scenario {
  comment?: string;
  rollout: unknown;
  calls: Record<string, unknown>[];
}

/** Plays a scenario under the host and collects every reply line. */
export async function runHost(
  scenario: Scenario,
  pluginArgs: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    callTimeout?: string;
    logLevel?: string;
    /** Start this instead of the bundle (pluginArgs are appended). */
    command?: string[];
    /** The plugin kind the host loads (default trafficrouter). */
    kind?: 'trafficrouter' | 'step';
    /** The host binary: goplugin-host's host (default) or realhost (same scenario format). */
    host?: string;
    /** Record the conversation here with wiretap -raw (test/support/wiretap.ts reads it). */
    wiretap?: string;
  } = {},
): Promise<HostRun> {
  const host = options.host ?? HOST;
  requireHost(host);
  const dir = mkdtempSync(join(tmpdir(), 'gphost-'));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario));
  const plugin = options.command ? [...options.command, ...pluginArgs] : await pluginArgv(pluginArgs);
  const argv = options.wiretap ? [WIRETAP, '-o', join(dir, 'wiretap.txt'), '-raw', options.wiretap, '--', ...plugin] : plugin;
  const child = spawn(
    host,
    ['-kind', options.kind ?? 'trafficrouter', '-scenario', file, '-timeout', options.callTimeout ?? '20s', '-log-level', options.logLevel ?? 'debug', '--', ...argv],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  const lines = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HostLine);
  return { code, lines, stderr };
}

/** The lines of the scenario's own calls: not the implicit Start (i = -1), not the copies inside a Parallel. */
export const topLevel = (run: HostRun) => run.lines.filter((l) => l.i >= 0 && l.sub === undefined);

/** Gives a failing assertion the host's own words. */
export function describeRun(run: HostRun): string {
  return `host exit ${run.code}\n${run.lines.map((l) => JSON.stringify(l)).join('\n')}\n--- stderr ---\n${run.stderr.slice(-4000)}`;
}

export const STABLE = 'argo-rollouts-stable-service';
export const CANARY = 'argo-rollouts-canary-service';
export const CANARY_HASH = '7c9d8f6b5';
export const STABLE_HASH = '5f6d7c8b9';

/** Seeds the API server with the seeds' three HTTPRoutes and two Services; returns the Rollout as the controller would send it. */
export async function seedAndRollout(api: ApiServer, pluginName = 'rollouts-companion/gatewayAPI'): Promise<Rollout> {
  const rollout = await seedPinnedRoutes(api);
  const plugins = rollout.spec!.strategy!.canary!.trafficRouting!.plugins!;
  if (pluginName !== 'rollouts-companion/gatewayAPI') {
    plugins[pluginName] = plugins['rollouts-companion/gatewayAPI'];
    delete plugins['rollouts-companion/gatewayAPI'];
  }
  return {
    ...rollout,
    metadata: {
      ...rollout.metadata,
      uid: '6f1c2b9e-3d4a-4e8f-9a7b-1c2d3e4f5a6b',
      resourceVersion: '184213',
      generation: 4,
      creationTimestamp: '2025-03-02T10:15:00Z',
      annotations: { 'rollout.argoproj.io/revision': '2' },
    },
    status: { currentPodHash: CANARY_HASH, stableRS: STABLE_HASH, currentStepIndex: 0, phase: 'Progressing' },
  } as Rollout;
}

export interface SeededCluster {
  api: ApiServer;
  /** The seeds' Rollout as the controller sends it. */
  rollout: Rollout;
  /** A kubeconfig file for `api`. */
  kubeconfig: string;
}

/**
 * For each test of the calling suite (mocha hooks): an in-process API server seeded by
 * seedAndRollout, with a kubeconfig file for it; closed after the test.
 */
export function seededClusterEach(): SeededCluster {
  const cluster = {} as SeededCluster;
  beforeEach(async () => {
    cluster.api = await startApiServer({ simulateGateway: true });
    cluster.rollout = await seedAndRollout(cluster.api);
    cluster.kubeconfig = join(mkdtempSync(join(tmpdir(), 'plugin-kube-')), 'kubeconfig');
    await cluster.api.writeKubeconfig(cluster.kubeconfig);
  });
  afterEach(async () => {
    await cluster.api.close();
  });
  return cluster;
}

export function httpRoute(api: ApiServer, name: string): RouteObject {
  const route = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', name);
  if (!route) throw new Error(`HTTPRoute default/${name} is missing`);
  return route as unknown as RouteObject;
}
