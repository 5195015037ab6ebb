import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import { stringify } from 'yaml';

import { type ClusterAccess, loadClusterAccess, type LoadOptions, NeedsClientNode } from '../../../src/kube/cluster-access.js';
import { NO_KUBECONFIG } from '../../../src/kube/errors.js';
import { writeKubeconfigFile } from '../../../src/kube/kubeconfig.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';

/** A kubeconfig with one context "main" (cluster "c", user "u") unless `extra` says otherwise. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://k8s.example:6443', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'main', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'main',
    ...extra,
  };
}

/** What one request would carry, from our loader. */
async function seen(access: ClusterAccess) {
  const { headers } = await access.credentials();
  return { server: access.server, ...access.tls, headers };
}

/** The same, as @kubernetes/client-node 1.4 applies it to a request (applyToHTTPSOptions). */
async function seenByClientNode(file: string, context?: string) {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  const opts: { headers?: Record<string, string>; auth?: string; ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string } = {};
  await kc.applyToHTTPSOptions(opts);
  const headers = { ...opts.headers };
  // node's http sends `auth` as Basic only when no Authorization header is set.
  if (opts.auth && !headers.Authorization) headers.Authorization = `Basic ${b64(opts.auth)}`;
  return {
    server: kc.getCurrentCluster()?.server,
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    rejectUnauthorized: opts.rejectUnauthorized,
    servername: opts.servername,
    headers,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A fresh directory per test, and load options that see nothing of the machine (no HOME, KUBECONFIG or service account). */
function scratchDir(): { dir: string; base: LoadOptions } {
  const scratch = { dir: '', base: {} as LoadOptions };
  beforeEach(async () => {
    scratch.dir = await mkdtemp(join(tmpdir(), 'cluster-access-'));
    scratch.base = { env: {}, serviceAccountDir: join(scratch.dir, 'no-serviceaccount') };
  });
  afterEach(() => rm(scratch.dir, { recursive: true, force: true }));
  return scratch;
}

describe('loadClusterAccess: kubeconfig files without client-node', () => {
  const scratch = scratchDir();

  async function file(config: unknown, name = 'config'): Promise<string> {
    const path = join(scratch.dir, name);
    await writeFile(path, typeof config === 'string' ? config : stringify(config));
    return path;
  }

  it('Given a file with a token, When loaded explicitly, Then requests carry it as a bearer token, as with client-node', async () => {
    const path = await file(kubeconfig({ server: 'https://k8s.example:6443/' }, { token: 'secret-token' }));
    const access = await loadClusterAccess({ ...scratch.base, kubeconfig: path });
    expect(access.server).to.equal('https://k8s.example:6443');
    expect((await access.credentials()).headers).to.deep.equal({ Authorization: 'Bearer secret-token' });
    const ours = await seen(access);
    const theirs = await seenByClientNode(path);
    expect(ours.server).to.equal(theirs.server);
    expect(ours.headers).to.deep.equal(theirs.headers);
  });

  it('Given the file as JSON (kubectl config view -o json) or as flow-style YAML, Then both read like the YAML file', async () => {
    const config = kubeconfig({ 'insecure-skip-tls-verify': true }, { token: 'secret-token' });
    const json = await file(JSON.stringify(config, null, 2), 'config.json');
    // Starts like JSON but is not (unquoted keys): the YAML parser reads it.
    const flow = await file(`{ apiVersion: v1, kind: Config, clusters: [{ name: c, cluster: { server: 'https://k8s.example:6443', insecure-skip-tls-verify: true } }], users: [{ name: u, user: { token: secret-token } }], contexts: [{ name: main, context: { cluster: c, user: u } }], current-context: main }`, 'flow');
    const expected = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: await file(config) }));
    expect(await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: json }))).to.deep.equal(expected);
    expect(await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: flow }))).to.deep.equal(expected);
    expect(expected).to.include({ server: 'https://k8s.example:6443', rejectUnauthorized: false });
  });

  it('Given a tokenFile relative to the kubeconfig, When it is rewritten, Then the new token is used only once a minute has passed', async () => {
    await mkdir(join(scratch.dir, 'sub'));
    await writeFile(join(scratch.dir, 'sub', 'token'), 'first\n');
    const path = await file(kubeconfig({}, { tokenFile: 'sub/token' }));
    let now = 1_000_000;
    const access = await loadClusterAccess({ ...scratch.base, kubeconfig: path, now: () => now });
    expect((await access.credentials()).headers.Authorization).to.equal('Bearer first');

    await writeFile(join(scratch.dir, 'sub', 'token'), 'second\n');
    now += 59_000;
    expect((await access.credentials()).headers.Authorization).to.equal('Bearer first');
    now += 2_000;
    expect((await access.credentials()).headers.Authorization).to.equal('Bearer second');
  });

  it('Given a tokenFile that disappears after loading, When re-read, Then the last token is kept (as client-go does)', async () => {
    await writeFile(join(scratch.dir, 'token'), 'kept');
    const path = await file(kubeconfig({}, { tokenFile: join(scratch.dir, 'token') }));
    let now = 0;
    const access = await loadClusterAccess({ ...scratch.base, kubeconfig: path, now: () => now });
    await rm(join(scratch.dir, 'token'));
    now += 61_000;
    expect((await access.credentials()).headers.Authorization).to.equal('Bearer kept');
  });

  it('Given certificate, key and CA paths relative to the kubeconfig, Then they are read from its directory, as with client-node', async () => {
    await mkdir(join(scratch.dir, 'pki'));
    await writeFile(join(scratch.dir, 'pki', 'ca.crt'), CA);
    await writeFile(join(scratch.dir, 'pki', 'client.crt'), CERT);
    await writeFile(join(scratch.dir, 'pki', 'client.key'), KEY);
    const path = await file(
      kubeconfig({ 'certificate-authority': 'pki/ca.crt' }, { 'client-certificate': 'pki/client.crt', 'client-key': join(scratch.dir, 'pki', 'client.key') }),
    );
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect(String(ours.ca)).to.equal(CA);
    expect(String(ours.cert)).to.equal(CERT);
    expect(String(ours.key)).to.equal(KEY);
    expect(ours.headers).to.deep.equal({});
    const theirs = await seenByClientNode(path);
    expect([ours.ca, ours.cert, ours.key]).to.deep.equal([theirs.ca, theirs.cert, theirs.key]);
  });

  it('Given base64 -data certificate, key and CA, Then they are decoded, as with client-node', async () => {
    const path = await file(
      kubeconfig({ 'certificate-authority-data': b64(CA) }, { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) }),
    );
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect([String(ours.ca), String(ours.cert), String(ours.key)]).to.deep.equal([CA, CERT, KEY]);
    const theirs = await seenByClientNode(path);
    expect([ours.ca, ours.cert, ours.key]).to.deep.equal([theirs.ca, theirs.cert, theirs.key]);
  });

  it('Given insecure-skip-tls-verify and tls-server-name, Then verification is off and the SNI name set, as with client-node', async () => {
    const path = await file(kubeconfig({ 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes.default' }, { token: 't' }));
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect(ours.rejectUnauthorized).to.equal(false);
    expect(ours.servername).to.equal('kubernetes.default');
    const theirs = await seenByClientNode(path);
    expect([ours.rejectUnauthorized, ours.servername]).to.deep.equal([theirs.rejectUnauthorized, theirs.servername]);
  });

  it('Given no insecure-skip-tls-verify, Then rejectUnauthorized is left unset (NODE_TLS_REJECT_UNAUTHORIZED decides, as with client-node)', async () => {
    const path = await file(kubeconfig({ 'insecure-skip-tls-verify': false }, {}));
    const access = await loadClusterAccess({ ...scratch.base, kubeconfig: path });
    expect(access.tls.rejectUnauthorized).to.equal(undefined);
  });

  it('Given username and password, Then requests carry basic auth, as with client-node', async () => {
    const path = await file(kubeconfig({}, { username: 'admin', password: 'pw' }));
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect(ours.headers).to.deep.equal({ Authorization: `Basic ${b64('admin:pw')}` });
    expect(ours.headers).to.deep.equal((await seenByClientNode(path)).headers);
  });

  it('Given a token and basic auth and "as", Then the token wins and Impersonate-User is sent, as with client-node', async () => {
    const path = await file(kubeconfig({}, { token: 'tok', username: 'admin', password: 'pw', as: 'jane' }));
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect(ours.headers).to.deep.equal({ Authorization: 'Bearer tok', 'Impersonate-User': 'jane' });
    expect(ours.headers).to.deep.equal((await seenByClientNode(path)).headers);
  });

  it('Given a context override, Then its cluster and user are used, as with client-node', async () => {
    const path = await file({
      clusters: [
        { name: 'a', cluster: { server: 'https://a.example' } },
        { name: 'b', cluster: { server: 'https://b.example' } },
      ],
      users: [
        { name: 'ua', user: { token: 'ta' } },
        { name: 'ub', user: { token: 'tb' } },
      ],
      contexts: [
        { name: 'ctx-a', context: { cluster: 'a', user: 'ua' } },
        { name: 'ctx-b', context: { cluster: 'b', user: 'ub' } },
      ],
      'current-context': 'ctx-a',
    });
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path, context: 'ctx-b' }));
    expect(ours.server).to.equal('https://b.example');
    expect(ours.headers).to.deep.equal({ Authorization: 'Bearer tb' });
    const theirs = await seenByClientNode(path, 'ctx-b');
    expect([ours.server, ours.headers]).to.deep.equal([theirs.server, theirs.headers]);
  });

  it('Given a context, cluster or user that is named but missing, Then the error names the file and the missing entry', async () => {
    const path = await file(kubeconfig({}, {}, { contexts: [{ name: 'main', context: { cluster: 'gone', user: 'u' } }] }));
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path, context: 'nope' }))).message).to.equal(
      `kubeconfig ${path}: context "nope" not found`,
    );
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }))).message).to.equal(
      `kubeconfig ${path}: cluster "gone" (of context "main") not found`,
    );
    const noUser = await file(kubeconfig({}, {}, { contexts: [{ name: 'main', context: { cluster: 'c', user: 'who' } }] }), 'no-user');
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: noUser }))).message).to.equal(
      `kubeconfig ${noUser}: user "who" (of context "main") not found`,
    );
  });

  it('Given no current-context and no override, Then the error says the file has no current cluster', async () => {
    const path = await file(kubeconfig({}, {}, { 'current-context': undefined }));
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }))).message).to.equal(`kubeconfig ${path} has no current cluster`);
  });

  it('Given an incomplete entry, even an unused one, Then it is refused as client-node refuses it', async () => {
    const path = await file(kubeconfig({}, {}, { clusters: [{ name: 'c', cluster: { server: 'https://x' } }, { name: 'broken', cluster: {} }] }));
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }))).message).to.equal(
      `kubeconfig ${path}: clusters[1].cluster.server is missing`,
    );
  });

  it('Given an explicit file that does not exist, Then the error names its path', async () => {
    const path = join(scratch.dir, 'missing');
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }))).message).to.match(new RegExp(`^cannot read kubeconfig ${path}: ENOENT`));
  });

  it('Given a client certificate file that does not exist, Then the error names the user, the field and the path', async () => {
    const path = await file(kubeconfig({}, { 'client-certificate': 'nope.crt' }));
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }))).message).to.match(
      new RegExp(`^kubeconfig ${path} user "u": cannot read client-certificate ${join(scratch.dir, 'nope.crt')}: ENOENT`),
    );
  });

  it('Given a file that is not YAML, Then the error gives the place but never the content (it may hold a token)', async () => {
    const path = await file('users:\n- name: u\n  user: {token: "leaked-secret"\n');
    const err = await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect(err.message).to.match(new RegExp(`^kubeconfig ${path} is not valid YAML \\(\\w+ at line \\d+, column \\d+\\)$`));
    expect(JSON.stringify({ message: err.message, cause: String(err.cause) })).not.to.include('leaked-secret');
  });

  it('Given the in-process API server kubeconfig (http:// with insecure-skip-tls-verify), Then it is accepted', async () => {
    const path = join(scratch.dir, 'local');
    await writeKubeconfigFile(path, 'http://127.0.0.1:8123');
    const ours = await seen(await loadClusterAccess({ ...scratch.base, kubeconfig: path }));
    expect(ours.server).to.equal('http://127.0.0.1:8123');
    expect(ours.headers).to.deep.equal({});
    expect(ours.server).to.equal((await seenByClientNode(path)).server);
  });

  it('Given http:// without insecure-skip-tls-verify, Then it is refused, as client-node refuses it', async () => {
    const path = await file(kubeconfig({ server: 'http://127.0.0.1:8123' }, {}));
    expect((await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }))).message).to.equal(
      `kubeconfig ${path} cluster "c": server http://127.0.0.1:8123 is plain http://, which client-node only allows with insecure-skip-tls-verify: true`,
    );
    expect((await rejection(seenByClientNode(path))).message).to.include('HTTP protocol is not allowed');
  });
});

describe('loadClusterAccess: what needs client-node', () => {
  const scratch = scratchDir();

  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
    ['an exec user', {}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } }, 'user "u" sets "exec"'],
    ['an auth-provider user', {}, { 'auth-provider': { name: 'oidc', config: {} } }, 'user "u" sets "auth-provider"'],
    ['group impersonation', {}, { as: 'jane', 'as-groups': ['admins'] }, 'user "u" sets "as-groups"'],
    ['a proxy-url cluster', { 'proxy-url': 'http://proxy:3128' }, { token: 't' }, 'cluster "c" sets "proxy-url"'],
  ];
  for (const [what, cluster, user, why] of cases) {
    it(`Given ${what}, Then NeedsClientNode says which field`, async () => {
      const path = join(scratch.dir, 'config');
      await writeFile(path, stringify(kubeconfig(cluster, user)));
      const err = await rejection(loadClusterAccess({ ...scratch.base, kubeconfig: path }));
      expect(err).to.be.instanceOf(NeedsClientNode);
      expect((err as NeedsClientNode).why).to.equal(`kubeconfig ${path} ${why}`);
    });
  }

  it('Given KUBECONFIG with two files, Then NeedsClientNode (merging is client-node\'s)', async () => {
    const err = await rejection(loadClusterAccess({ ...scratch.base, env: { KUBECONFIG: `${join(scratch.dir, 'a')}:${join(scratch.dir, 'b')}` } }));
    expect(err).to.be.instanceOf(NeedsClientNode);
    expect((err as NeedsClientNode).why).to.equal("KUBECONFIG lists 2 files (merging them is client-node's)");
  });

  it('Given an unused user with exec, Then the file still loads without client-node', async () => {
    const path = join(scratch.dir, 'config');
    await writeFile(path, stringify(kubeconfig({}, { token: 't' }, { users: [{ name: 'u', user: { token: 't' } }, { name: 'eks', user: { exec: { command: 'aws' } } }] })));
    expect((await (await loadClusterAccess({ ...scratch.base, kubeconfig: path })).credentials()).headers).to.deep.equal({ Authorization: 'Bearer t' });
  });
});

describe('loadClusterAccess: where the configuration comes from', () => {
  let dir: string;
  let serviceAccountDir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cluster-access-'));
    // Where client-node's loadFromCluster(dir) looks too, for cross-checks.
    serviceAccountDir = join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function config(path: string, server: string): Promise<string> {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, stringify(kubeconfig({ server }, { token: 't' })));
    return path;
  }
  async function serviceAccount(): Promise<void> {
    await mkdir(serviceAccountDir, { recursive: true });
    await writeFile(join(serviceAccountDir, 'token'), 'sa-token');
    await writeFile(join(serviceAccountDir, 'ca.crt'), CA);
    await writeFile(join(serviceAccountDir, 'namespace'), 'argo-rollouts');
  }

  it('Given KUBECONFIG with one file, Then that file is used', async () => {
    const path = await config(join(dir, 'one'), 'https://one.example');
    const access = await loadClusterAccess({ env: { KUBECONFIG: `${path}:`, HOME: dir }, serviceAccountDir });
    expect(access.server).to.equal('https://one.example');
  });

  it('Given --kubeconfig and KUBECONFIG, Then the explicit file wins', async () => {
    const explicit = await config(join(dir, 'explicit'), 'https://explicit.example');
    const fromEnv = await config(join(dir, 'env'), 'https://env.example');
    const access = await loadClusterAccess({ kubeconfig: explicit, env: { KUBECONFIG: fromEnv }, serviceAccountDir });
    expect(access.server).to.equal('https://explicit.example');
  });

  it('Given no KUBECONFIG and ~/.kube/config, Then the home file wins over in-cluster', async () => {
    await config(join(dir, '.kube', 'config'), 'https://home.example');
    await serviceAccount();
    const access = await loadClusterAccess({ env: { HOME: dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir });
    expect(access.server).to.equal('https://home.example');
  });

  it('Given only a service account, Then in-cluster access: the service host, the CA and the token, re-read once a minute', async () => {
    await serviceAccount();
    let now = 0;
    const access = await loadClusterAccess({
      env: { HOME: dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir,
      now: () => now,
    });
    expect(access.server).to.equal('https://10.96.0.1:443');
    expect(String(access.tls.ca)).to.equal(CA);
    expect((await access.credentials()).headers).to.deep.equal({ Authorization: 'Bearer sa-token' });
    await writeFile(join(serviceAccountDir, 'token'), 'rotated');
    now += 61_000;
    expect((await access.credentials()).headers).to.deep.equal({ Authorization: 'Bearer rotated' });
  });

  it('Given an IPv6 service host, Then it is bracketed, and server, CA and token are as with client-node', async () => {
    await serviceAccount();
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    const access = await loadClusterAccess({ env, serviceAccountDir });
    expect(access.server).to.equal('https://[fd00::1]:443');

    // client-node reads the host from process.env.
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    try {
      Object.assign(process.env, env);
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      kc.loadFromCluster(dir);
      const opts: { headers?: Record<string, string>; ca?: Buffer } = {};
      await kc.applyToHTTPSOptions(opts);
      expect([kc.getCurrentCluster()?.server, opts.ca, opts.headers]).to.deep.equal([access.server, access.tls.ca, (await access.credentials()).headers]);
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('Given nothing (no KUBECONFIG, no ~/.kube/config, no service account), Then the one message that says what to do', async () => {
    const err = await rejection(loadClusterAccess({ env: { HOME: dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir }));
    expect(err.message).to.equal(NO_KUBECONFIG);
    expect(NO_KUBECONFIG).to.equal('no Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config, or run in a cluster');
  });
});
