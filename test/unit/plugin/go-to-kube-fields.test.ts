import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GO_FIELD_TYPES, GO_TYPE } from '../../../src/plugin/gob/index.js';
import { decodeTrafficRouterArgs, toKube } from '../../../src/plugin/go-to-kube.js';
import { afterGob } from '../../support/gob-losses.js';
import { requireTool } from '../../support/tooling.js';
import { pluginCalls } from '../../support/wiretap.js';

// The judge is the Argo Rollouts controller's own type tree (v1.9.1, ../shared/realhost):
// rollout-fields.tsv lists every struct field its plugin RPC arguments can reach, with the
// struct tag whose json name is the key Kubernetes JSON uses. gob carries Go field names;
// each one must come back under that key.

const REALHOST = join(import.meta.dirname, '../../../../shared/realhost');
const TSV = join(REALHOST, 'rollout-fields.tsv');
const FIXTURES = join(import.meta.dirname, '../../fixtures/realhost');

interface Row {
  type: string;
  field: string;
  tag: string;
}

function rows(): Row[] {
  return readFileSync(TSV, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [path, , tag = ''] = line.split('\t') as [string, string, string?];
      const parts = path.split('.');
      const field = parts.pop()!;
      return { type: parts.pop()!, field, tag };
    });
}

/** A Go struct as the decoder yields it. */
function goStruct(type: string, fields: Record<string, unknown>): Record<string, unknown> {
  Object.defineProperty(fields, GO_TYPE, { value: type });
  Object.defineProperty(fields, GO_FIELD_TYPES, { value: {} });
  return fields;
}

// Types whose whole value has a JSON form of its own (covered in go-to-kube.test.ts):
// IntOrString → number or string, Quantity → absent (gob sends no amount), metav1.Time and
// time.Time → RFC 3339, FieldsV1 → the JSON its Raw bytes hold.
const WHOLE_VALUE_TYPES = new Set(['IntOrString', 'Quantity', 'Time', 'FieldsV1']);

describe('go-to-kube: every field of the controller\'s real types (../shared/realhost/rollout-fields.tsv)', function () {
  before(function () {
    requireTool(this, existsSync(TSV), `${TSV} is missing (the shared realhost folder beside the repository)`);
  });

  it('puts each of the 821 fields under its json tag\'s key, inlines ",inline" structs and leaves out json:"-"', () => {
    const all = rows();
    expect(all).to.have.length(821);
    const wrong: string[] = [];
    let checked = 0;
    for (const { type, field, tag } of all) {
      if (WHOLE_VALUE_TYPES.has(type) || !/^[A-Z]/.test(field)) continue; // unexported fields never travel
      const [name = '', ...opts] = (/(?:^|\s)json:"([^"]*)"/.exec(tag)?.[1] ?? '').split(',');
      const marker = `value of ${type}.${field}`;
      let input: unknown = marker;
      let want: Record<string, unknown>;
      if (name === '-' && opts.length === 0) want = {};
      else if (name === '' && opts.includes('inline')) {
        input = goStruct('Embedded', { InnerField: marker });
        want = { innerField: marker };
      } else want = { [name || field]: marker };
      const got = toKube(goStruct(type, { [field]: input }));
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${type}.${field} (${tag}): want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      checked++;
    }
    expect(wrong).to.deep.equal([]);
    // 821 less the 12 rows of IntOrString, Quantity, metav1.Time, time.Time and FieldsV1
    expect(checked).to.equal(809);
  });

  it('rebuilds the input JSON of a fully populated production Rollout sent by the real controller client', () => {
    // Given realhost's SetWeight of full-rollout.json (every volume kind, probes, security
    // contexts, host aliases, DNS config, ephemeral containers and metadata, analysis,
    // every traffic router, status with conditions and step plugin statuses), as captured
    // by wiretap between realhost and the Go stub plugin (capture.sh beside the fixture)
    const input: unknown = JSON.parse(readFileSync(join(FIXTURES, 'full-rollout.json'), 'utf8'));
    const calls = pluginCalls(new Uint8Array(readFileSync(join(FIXTURES, 'full-rollout.raw'))));
    expect(calls.map((c) => c.header.ServiceMethod)).to.deep.equal(['Plugin.InitPlugin', 'Plugin.SetWeight', 'Plugin.SetWeight']);
    // When we turn what the plugin received back into Kubernetes JSON
    const [first, again] = [calls[1]!, calls[2]!].map((c) => decodeTrafficRouterArgs('SetWeight', c.body));
    // Then it is the input, less only what gob loses (zero values, Quantity amounts)
    expect(first!.rollout).to.deep.equal(afterGob(input));
    expect(first!.desiredWeight).to.equal(10);
    // And a second call on the same connection (type definitions already sent) gives the same
    expect(again!.rollout).to.deep.equal(first!.rollout);
  });
});
