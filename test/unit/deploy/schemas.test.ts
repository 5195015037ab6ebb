import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// Every object under deploy/ and examples/ against the published schemas: Argo Rollouts
// (@kubernetes-models/argo-rollouts), Gateway API (@kubernetes-models/gateway-api), cert-manager
// (@kubernetes-models/cert-manager, deploy/companion-cert-manager) and core
// Kubernetes (kubernetes-models), so a wrong type, enum or missing required field fails here
// rather than at `kubectl apply`. Kustomize patches are partial objects: for them only
// "missing required property" is allowed. (These schemas do not reject unknown fields.)

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MODEL_PACKAGES: Record<string, string> = {
  'argoproj.io': '@kubernetes-models/argo-rollouts',
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'cert-manager.io': '@kubernetes-models/cert-manager',
};
const KUSTOMIZATION = 'kustomize.config.k8s.io/v1beta1';

interface Doc {
  file: string;
  index: number;
  object: Record<string, any>;
}
interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
}
type Model = new (data: unknown) => { validate(): void };

async function yamlDocs(): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const dir of ['deploy', 'examples']) {
    const entries = await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
    for (const e of entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))) {
      const file = join(e.parentPath, e.name);
      parseAllDocuments(await readFile(file, 'utf8')).forEach((d, index) => {
        const object = d.toJS() as Record<string, any> | null;
        if (object) docs.push({ file: relative(ROOT, file), index, object });
      });
    }
  }
  return docs;
}

async function modelFor(apiVersion: string, kind: string): Promise<Model | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = MODEL_PACKAGES[group!] ?? 'kubernetes-models';
  const path = group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`;
  try {
    return ((await import(path)) as Record<string, Model>)[kind];
  } catch {
    return undefined;
  }
}

/** Schema problems of one object, as "file#doc kind/name: path message". */
async function problems(doc: Doc, isPatch: boolean): Promise<string[]> {
  const { apiVersion, kind, metadata } = doc.object;
  const where = `${doc.file}#${doc.index} ${kind}/${metadata?.name ?? '?'}`;
  const Model = await modelFor(String(apiVersion), String(kind));
  if (!Model) return [`${where}: no schema for ${apiVersion} ${kind}`];
  try {
    new Model(doc.object).validate();
    return [];
  } catch (err) {
    const errors = ((err as { errors?: SchemaError[] }).errors ?? [{ instancePath: '', keyword: '', message: String(err) }]).filter(
      (e) => !(isPatch && e.keyword === 'required'),
    );
    return errors.map((e) => `${where}: ${e.instancePath || '/'} ${e.message}`);
  }
}

/** Files kustomizations apply as patches (partial objects), and every local path they name. */
function kustomizationPaths(docs: Doc[]): { patches: Set<string>; named: string[] } {
  const patches = new Set<string>();
  const named: string[] = [];
  for (const d of docs.filter((d) => d.object.apiVersion === KUSTOMIZATION)) {
    const dir = dirname(d.file);
    const local = (p: string) => relative(ROOT, resolve(ROOT, dir, p));
    for (const p of [...(d.object.patches ?? []).map((p: { path?: string }) => p.path).filter(Boolean), ...(d.object.patchesStrategicMerge ?? [])]) {
      patches.add(local(p));
      named.push(local(p));
    }
    named.push(...(d.object.resources ?? []).filter((r: string) => !/^https?:\/\//.test(r)).map(local));
  }
  return { patches, named };
}

describe('deploy/ and examples/ against the Kubernetes, Argo Rollouts and Gateway API schemas', function () {
  this.timeout(60_000);
  let docs: Doc[];
  before(async () => {
    docs = await yamlDocs();
  });

  it('every object is valid for its kind (kustomize patches may leave out required fields)', async () => {
    const { patches } = kustomizationPaths(docs);
    const objects = docs.filter((d) => d.object.apiVersion !== KUSTOMIZATION);
    expect(objects.map((d) => d.object.kind)).to.include.members(['Rollout', 'HTTPRoute', 'Gateway', 'Deployment', 'Service', 'ClusterRole', 'ConfigMap']);
    const found = (await Promise.all(objects.map((d) => problems(d, patches.has(d.file))))).flat();
    expect(found).to.deep.equal([]);
  });

  it('every kustomization names files that exist', () => {
    const missing = kustomizationPaths(docs).named.filter((p) => !existsSync(join(ROOT, p)));
    expect(missing).to.deep.equal([]);
  });

  it('reports a wrong field with the file, the object and the path', async () => {
    // Given the pinned-routes Rollout with a weight written as a word
    const rollout = docs.find((d) => d.file === 'examples/pinned-routes/rollout.yaml')!;
    const broken = structuredClone(rollout.object);
    broken.spec.strategy.canary.steps[0] = { setWeight: 'ten' };
    // Then the check names it
    expect(await problems({ ...rollout, object: broken }, false)).to.deep.equal([
      'examples/pinned-routes/rollout.yaml#0 Rollout/static-rollouts-demo: /spec/strategy/canary/steps/0/setWeight must be integer',
    ]);
  });

  it('registers the plugin in argo-rollouts-config the way the controller reads it', () => {
    const configs = docs.filter((d) => d.object.kind === 'ConfigMap' && d.object.metadata?.name === 'argo-rollouts-config');
    expect(configs.map((d) => d.file)).to.have.members([
      'deploy/plugin/argo-rollouts-config.yaml',
      'deploy/plugin/init-container/argo-rollouts-config.yaml',
      'examples/lockstep-frontend-backend/install/argo-rollouts-config.yaml',
    ]);
    for (const d of configs) {
      const entries = ['trafficRouterPlugins', 'stepPlugins'].filter((key) => d.object.data[key] !== undefined);
      expect(entries, d.file).to.not.be.empty;
      const plugins = entries.flatMap((key) => parse(d.object.data[key] as string) as Record<string, unknown>[]);
      for (const p of plugins) {
        expect(Object.keys(p), d.file).to.satisfy((keys: string[]) => keys.every((k) => ['name', 'location', 'sha256', 'args'].includes(k)));
        expect(p.name, d.file).to.match(/^[a-z0-9-]+\/[A-Za-z0-9-]+$/);
        expect(p.location, d.file).to.match(/^(https:\/\/|file:\/\/\/)/);
        // A downloaded plugin carries its checksum; a file:// one is checked by the image that put it there.
        if (String(p.location).startsWith('https://')) expect(p.sha256, d.file).to.match(/^[0-9a-f]{64}$/);
      }
    }
  });
});
