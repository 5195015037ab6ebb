import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_COMPANION_TOKEN_FILE } from '../../../src/cli/plugin-command.js';
import { DEFAULT_ALLOWED_CALLERS, DEFAULT_AUDIENCE } from '../../../src/security/token-review.js';

// What a security review of `kubectl apply -k deploy/companion` (and deploy/plugin for remote
// mode) checks: TLS from a Secret, only the controller's token accepted, the token projected
// into the controller with the companion's audience, a NetworkPolicy in front, the relabeller's
// pod powers kept off the gRPC server, and a namespaced variant without cluster-wide route/pod rights.

const DEPLOY = join(import.meta.dirname, '..', '..', '..', 'deploy');
type Doc = Record<string, any>;

async function docs(file: string): Promise<Doc[]> {
  return parseAllDocuments(await readFile(join(DEPLOY, file), 'utf8'))
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);
}

const flag = (args: string[], name: string): string | undefined => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

describe('deploy/: authenticated, TLS, network-restricted companion', () => {
  it('serves gRPC over TLS from the rollouts-companion-tls Secret, and only to authenticated callers', async () => {
    const [router] = await docs('companion/deployment.yaml');
    const pod = router!.spec.template.spec;
    const { args, volumeMounts } = pod.containers[0];
    expect(flag(args, '--listen')).to.equal('0.0.0.0:9090');
    expect(args).to.not.include('--insecure-allow-unauthenticated');
    const mount = volumeMounts.find((m: Doc) => flag(args, '--tls-cert')!.startsWith(`${m.mountPath}/`));
    expect(mount, 'the certificate is in a mounted volume').to.not.equal(undefined);
    expect(flag(args, '--tls-key')!.startsWith(`${mount.mountPath}/`)).to.equal(true);
    const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
    expect(volume.secret.secretName).to.equal('rollouts-companion-tls');
    expect(flag(args, '--token-audience')).to.equal(DEFAULT_AUDIENCE);
    expect(flag(args, '--allowed-callers')!.split(',')).to.deep.equal([...DEFAULT_ALLOWED_CALLERS]);
  });

  it('offers a cert-manager Certificate for that Secret, valid for the Service name the plugin dials', async () => {
    const certs = (await docs('companion-cert-manager/certificate.yaml')).filter((d) => d.kind === 'Certificate');
    const serving = certs.find((c) => c.spec.secretName === 'rollouts-companion-tls')!;
    expect(serving.spec.dnsNames).to.include('rollouts-companion.argo-rollouts.svc');
    expect(serving.spec.usages).to.deep.equal(['server auth']);
    const [kustomization] = await docs('companion-cert-manager/kustomization.yaml');
    expect(kustomization!.resources).to.include.members(['../companion', 'certificate.yaml']);
  });

  it('projects a token for the companion\'s audience into the controller, where the plugin reads it', async () => {
    const [kustomization] = await docs('plugin/kustomization.yaml');
    expect(kustomization!.patches).to.deep.include({ path: 'companion-credentials.yaml' });
    const [patch] = await docs('plugin/companion-credentials.yaml');
    const spec = patch!.spec.template.spec;
    const mount = spec.containers.find((c: Doc) => c.name === 'argo-rollouts').volumeMounts.find((m: Doc) => m.mountPath === dirname(DEFAULT_COMPANION_TOKEN_FILE));
    expect(mount, `a volume at ${dirname(DEFAULT_COMPANION_TOKEN_FILE)}`).to.not.equal(undefined);
    const sources = spec.volumes.find((v: Doc) => v.name === mount.name).projected.sources;
    const token = sources.find((s: Doc) => s.serviceAccountToken).serviceAccountToken;
    expect(token.audience).to.equal(DEFAULT_AUDIENCE);
    expect(join(mount.mountPath, token.path)).to.equal(DEFAULT_COMPANION_TOKEN_FILE);
    expect(token.expirationSeconds).to.be.at.most(3600);
  });

  it('admits gRPC only from the controller\'s namespace and metrics only from a labelled monitoring namespace', async () => {
    const [policy] = await docs('companion/networkpolicy.yaml');
    expect(policy!.spec.podSelector.matchLabels).to.deep.equal({ 'app.kubernetes.io/name': 'rollouts-companion' });
    expect(policy!.spec.policyTypes).to.deep.equal(['Ingress']);
    const byPort = Object.fromEntries(policy!.spec.ingress.map((rule: Doc) => [rule.ports.map((p: Doc) => p.port).join(','), rule.from]));
    expect(Object.keys(byPort)).to.have.members(['grpc', 'http']);
    expect(byPort.grpc).to.deep.equal([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'argo-rollouts' } } }]);
    expect(byPort.http).to.deep.equal([{ namespaceSelector: { matchLabels: { 'rollouts-companion.argoproj.io/monitoring': 'true' } } }]);
    const [kustomization] = await docs('companion/kustomization.yaml');
    expect(kustomization!.resources).to.include('networkpolicy.yaml');
  });

  it('runs the gRPC server and the relabeller under separate ServiceAccounts, neither holding the other\'s powers', async () => {
    const [router] = await docs('companion/deployment.yaml');
    const [relabeller] = await docs('companion/deployment-relabeller.yaml');
    const routerSa = router!.spec.template.spec.serviceAccountName;
    const relabellerSa = relabeller!.spec.template.spec.serviceAccountName;
    expect(routerSa).to.not.equal(relabellerSa);
    expect(router!.spec.template.spec.containers[0].args).to.include('--no-long-lived-canaries');
    expect(relabeller!.spec.template.spec.containers[0].args).to.include('--no-traffic-router');

    const rbac = [...(await docs('companion/rbac-routing.yaml')), ...(await docs('companion/rbac-canary.yaml'))];
    const rulesOf = (sa: string) =>
      rbac
        .filter((b) => b.subjects?.some((s: Doc) => s.name === sa))
        .flatMap((b) => rbac.find((r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name)!.rules as Doc[]);
    const can = (sa: string, resource: string, verb: string) => rulesOf(sa).some((r) => r.resources.includes(resource) && r.verbs.includes(verb));
    expect(can(routerSa, 'pods', 'patch')).to.equal(false);
    expect(can(relabellerSa, 'pods', 'patch')).to.equal(true);
    expect(can(relabellerSa, 'httproutes', 'update')).to.equal(false);
    expect(can(routerSa, 'httproutes', 'update')).to.equal(true);
    expect(can(routerSa, 'tokenreviews', 'create')).to.equal(true);
    expect(can(relabellerSa, 'tokenreviews', 'create')).to.equal(false);
  });

  it('offers a namespaced mode: Roles per namespace, no ClusterRole but TokenReview', async () => {
    const cluster = [...(await docs('companion/rbac-routing.yaml')), ...(await docs('companion/rbac-canary.yaml'))].filter((d) =>
      ['ClusterRole', 'ClusterRoleBinding'].includes(d.kind),
    );
    const [kustomization] = await docs('companion-namespaced/kustomization.yaml');
    const deleted = (kustomization!.patches as Doc[])
      .map((p) => (typeof p.patch === 'string' ? (parseAllDocuments(p.patch)[0]!.toJS() as Doc) : {}))
      .filter((p) => p.$patch === 'delete')
      .map((p) => `${p.kind}/${p.metadata.name}`);
    const kept = cluster.map((d) => `${d.kind}/${d.metadata.name}`).filter((id) => !deleted.includes(id));
    expect(kept).to.have.members(['ClusterRole/rollouts-companion-tokenreview', 'ClusterRoleBinding/rollouts-companion-tokenreview']);
    const tokenReview = cluster.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'rollouts-companion-tokenreview')!;
    expect(tokenReview.rules).to.deep.equal([{ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }]);

    const namespaced = await docs('companion-namespaced/rbac-namespace.yaml');
    expect([...new Set(namespaced.map((d) => d.kind))]).to.have.members(['Role', 'RoleBinding']);
    // Each namespace's Roles grant what the ClusterRoles they replace grant, no more, no less.
    for (const role of namespaced.filter((d) => d.kind === 'Role')) {
      const clusterRole = cluster.find((d) => d.kind === 'ClusterRole' && d.metadata.name === role.metadata.name)!;
      expect(role.rules, `${role.metadata.namespace}/${role.metadata.name}`).to.have.deep.members(clusterRole.rules);
    }
    const namespaces = [...new Set(namespaced.map((d) => d.metadata.namespace))];
    const relabellerArgs = JSON.stringify(kustomization!.patches);
    expect(relabellerArgs).to.include(`--namespaces=${namespaces.join(',')}`);
  });
});
