import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';

// What an SRE checks before `kubectl apply`: every manifest parses, the companion's RBAC is
// least-privilege (no wildcards, no secrets, no create/delete on routes), and the Deployment
// runs non-root with probes.

const ROOT = join(import.meta.dirname, '..', '..', '..');

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

async function docs(file: string): Promise<Record<string, any>[]> {
  const parsed = parseAllDocuments(await readFile(file, 'utf8'));
  for (const d of parsed) expect(d.errors, file).to.deep.equal([]);
  return parsed.map((d) => d.toJS()).filter(Boolean);
}

describe('deploy/ and examples/ manifests', () => {
  it('all parse as YAML', async () => {
    const files = [...(await yamlFiles(join(ROOT, 'deploy'))), ...(await yamlFiles(join(ROOT, 'examples')))];
    expect(files.length).to.be.greaterThan(10);
    for (const f of files) await docs(f);
  });

  it('grant the companion and the plugin least privilege', async () => {
    const rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [];
    for (const f of ['companion/rbac-routing.yaml', 'companion/rbac-canary.yaml', 'plugin/rbac.yaml']) {
      for (const d of await docs(join(ROOT, 'deploy', f))) if (d.rules) rules.push(...d.rules);
    }
    for (const r of rules) {
      expect([...r.apiGroups, ...r.resources, ...r.verbs]).to.not.include('*');
      expect(r.resources).to.not.include('secrets');
    }
    const routeRules = rules.filter((r) => r.resources.includes('httproutes'));
    expect([...new Set(routeRules.flatMap((r) => r.verbs))]).to.have.members(['get', 'list', 'update']);
    const podRules = rules.filter((r) => r.resources.includes('pods'));
    expect(podRules.flatMap((r) => r.verbs)).to.not.include.members(['create', 'delete', 'update']);
  });

  it('run the companion non-root with liveness and readiness probes', async () => {
    for (const file of ['deployment.yaml', 'deployment-relabeller.yaml']) {
      const [deployment] = await docs(join(ROOT, 'deploy', 'companion', file));
      const pod = deployment!.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, file).to.equal(true);
      const container = pod.containers[0];
      expect(container.securityContext, file).to.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(container.livenessProbe.httpGet.path, file).to.equal('/healthz');
      // gRPC is TLS-only, which the kubelet's gRPC probe cannot speak.
      expect(container.readinessProbe.httpGet.path, file).to.equal('/readyz');
    }
    const [relabeller] = await docs(join(ROOT, 'deploy', 'companion', 'deployment-relabeller.yaml'));
    expect(relabeller!.spec.template.spec.containers[0].args).to.include('--leader-election');
  });
});
