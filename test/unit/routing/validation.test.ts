import { expect } from 'chai';
import { parseRouterConfig } from '../../../src/routing/config.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import { PLUGIN, rollout, seedConfig, seedStore, STABLE } from './fixtures.js';

// Validation as strict as Argo Rollouts' and Gateway API's own: what they would refuse is
// refused here, with the field named, before anything is written.

const setup = () => {
  const store = seedStore();
  return { store, router: new TrafficRouter({ store }), ro: rollout(seedConfig()) };
};

const configError = (change: (ro: Rollout) => void): string => {
  const ro = rollout(seedConfig(), [], 'x');
  change(ro);
  try {
    parseRouterConfig(ro, PLUGIN);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a config error');
};

describe('routing: validation', () => {
  describe('maxTrafficWeight (a positive int32 in Argo Rollouts’ schema)', () => {
    for (const bad of [0, -100, 1.5, 1e12, 2 ** 31, '100', Number.NaN]) {
      it(`refuses ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`, () => {
        expect(configError((ro) => ((ro.spec!.strategy!.canary!.trafficRouting!.maxTrafficWeight as unknown) = bad))).to.equal(
          `rollout default/x: spec.strategy.canary.trafficRouting.maxTrafficWeight ${String(bad)} must be a positive integer of at most 2147483647 (an int32 in Argo Rollouts' schema)`,
        );
      });
    }

    it('accepts 1 and the largest int32, and weighs against it', async () => {
      for (const ok of [1, 2 ** 31 - 1]) {
        const ro = rollout(seedConfig());
        ro.spec!.strategy!.canary!.trafficRouting!.maxTrafficWeight = ok;
        expect(parseRouterConfig(ro, PLUGIN).totalWeight).to.equal(ok);
      }
      const { router, store, ro } = setup();
      ro.spec!.strategy!.canary!.trafficRouting!.maxTrafficWeight = 1000;
      expect((await router.setWeight(ro, 1001, [])).error).to.equal('desired canary weight 1001 must be an integer between 0 and 1000');
      expect(store.writes).to.deep.equal([]);
    });
  });

  describe('Services', () => {
    it('refuses the same Service as stable and canary, as Argo Rollouts does', () => {
      expect(configError((ro) => (ro.spec!.strategy!.canary!.canaryService = STABLE))).to.equal(
        `rollout default/x: spec.strategy.canary.stableService and canaryService are both "${STABLE}"; traffic routing needs two different Services (Argo Rollouts rejects this too)`,
      );
    });

    it('refuses a stable or canary Service name that is not a DNS-1123 label', () => {
      expect(configError((ro) => (ro.spec!.strategy!.canary!.stableService = 'Web_Stable'))).to.equal(
        `rollout default/x: spec.strategy.canary.stableService "Web_Stable" is not a valid Service name (a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)`,
      );
    });

    const invalid: [string, string][] = [
      ['a path', '../x'],
      ['a NUL', 'web\u0000x'],
      ['a CRLF', 'web\r\nx-injected: 1'],
      ['300 characters', 'a'.repeat(300)],
      ['upper case', 'Web'],
      ['a trailing dash', 'web-'],
    ];
    for (const [what, name] of invalid) {
      it(`refuses an additionalDestinations Service name with ${what}, writing nothing`, async () => {
        const { router, store, ro } = setup();
        const { error } = await router.setWeight(ro, 10, [{ serviceName: name, weight: 5, podTemplateHash: 'h' }]);
        const shown = JSON.stringify(name.length > 63 ? `${name.slice(0, 63)}…` : name);
        expect(error).to.equal(
          `additionalDestinations[0].serviceName ${shown} is not a valid Service name (a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)`,
        );
        expect(error).to.not.match(/[\r\n\u0000]/);
        expect(store.writes).to.deep.equal([]);
      });
    }
  });

  describe('regular expressions (RE2, what Gateway API implementations evaluate)', () => {
    const cases: [string, string, string][] = [
      ['an unbalanced group', '(beta', 'missing closing ): `(beta`'],
      ['a lookahead', 'beta(?=1)', 'invalid or unsupported Perl syntax: `(?=`'],
      ['a backreference', '(a)\\1', 'invalid escape sequence: `\\1`'],
    ];
    for (const [what, pattern, why] of cases) {
      it(`refuses a setHeaderRoute regex with ${what}, naming the field, writing nothing`, async () => {
        const { router, store, ro } = setup();
        const { error } = await router.setHeaderRoute(ro, {
          name: 'canary-header',
          match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }, { headerName: 'X-Group', headerValue: { regex: pattern } }],
        });
        expect(error).to.equal(
          `setHeaderRoute "canary-header": match[1].headerValue.regex ${JSON.stringify(pattern)} is not a valid RE2 regular expression (error parsing regexp: ${why})`,
        );
        expect(store.writes).to.deep.equal([]);
      });
    }

    it('refuses invalid setMirrorRoute path and header regexes, naming the field', async () => {
      const { router, store, ro } = setup();
      const path = await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { regex: '/api/(v1|v2' } }] });
      expect(path.error).to.match(/^setMirrorRoute "canary-mirror": match\[0\]\.path\.regex "\/api\/\(v1\|v2" is not a valid RE2 regular expression/);
      const header = await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ headers: { 'X-Group': { regex: '[z-a]' } } }] });
      expect(header.error).to.match(/^setMirrorRoute "canary-mirror": match\[0\]\.headers\["X-Group"\]\.regex "\[z-a\]" is not a valid RE2 regular expression/);
      expect(store.writes).to.deep.equal([]);
    });

    it('writes a valid RE2 pattern as given', async () => {
      const { router, store, ro } = setup();
      const { error } = await router.setHeaderRoute(ro, { name: 'canary-header', match: [{ headerName: 'X-Group', headerValue: { regex: '^(beta|canary)-[0-9]+$' } }] });
      expect(error).to.equal('');
      const rules = store.route('HTTPRoute', 'canary-route').spec.rules as { matches?: { headers?: { value: string }[] }[] }[];
      expect(rules.flatMap((r) => r.matches ?? []).flatMap((m) => m.headers ?? []).map((h) => h.value)).to.include('^(beta|canary)-[0-9]+$');
    });
  });
});
