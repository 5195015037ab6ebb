import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { GobDecoder, type GobDecoded } from '../../../src/plugin/gob/index.js';
import { knownTypesErrors, parseKnownTypes, serializeKnownTypes, type KnownGobTypes, type KnownType } from '../../../src/plugin/gob/known-types.js';
import { decodeTrafficRouterArgs } from '../../../src/plugin/go-to-kube.js';

// The plugin bundle records the controller's type definitions from a real first reconcile
// (Argo Rollouts v1.9.1's bytes, scripts/code-cache/calls.gob) and takes a definition from
// that record only when its bytes match; everything else is parsed.

const RECORDED = readFileSync(join(import.meta.dirname, '../../../scripts/code-cache/calls.gob'));

/** Decodes `bytes` in the 4 KiB pieces the controller's writes arrive in. */
function decodeInPieces(bytes: Uint8Array, known?: KnownGobTypes, record?: Map<string, KnownType>): GobDecoded[] {
  const decoder = new GobDecoder({ knownTypes: known, recordTypes: record });
  const out: GobDecoded[] = [];
  for (let at = 0; at < bytes.length; at += 4096) {
    decoder.feed(bytes.subarray(at, at + 4096));
    for (let v = decoder.next(); v; v = decoder.next()) out.push(v);
  }
  decoder.finish();
  return out;
}

/** Each call's method and its arguments as the router gets them. */
function calls(values: GobDecoded[]): { method: string; args: unknown }[] {
  const out = [];
  for (let i = 0; i < values.length; i += 2) {
    const method = (values[i]!.value as { ServiceMethod: string }).ServiceMethod;
    out.push({ method, args: values[i + 1]!.value === null ? null : decodeTrafficRouterArgs(method, values[i + 1]!.value) });
  }
  return out;
}

function recorded(): Map<string, KnownType> {
  const record = new Map<string, KnownType>();
  decodeInPieces(RECORDED, undefined, record);
  return record;
}

describe('gob: known type definitions', () => {
  it('Given the recorded definitions, When the same stream arrives, Then every definition is taken from the record and the calls decode as when parsed', () => {
    const record = recorded();
    let hits = 0;
    const counting: KnownGobTypes = {
      get: (key) => {
        const known = record.get(key);
        if (known) hits++;
        return known;
      },
    };
    const parsed = calls(decodeInPieces(RECORDED));
    const fromRecord = calls(decodeInPieces(RECORDED, counting));
    expect(record.size).to.be.greaterThan(200); // the Rollout's type tree
    expect(hits).to.be.at.least(record.size);
    expect(fromRecord.map((c) => c.method)).to.deep.equal(['Plugin.InitPlugin', 'Plugin.UpdateHash', 'Plugin.SetWeight', 'Plugin.VerifyWeight', 'Plugin.SetWeight']);
    expect(fromRecord).to.deep.equal(parsed);
  });

  it('Given a definition whose bytes differ from the record (another controller version), Then it is parsed from the stream, not taken from the record', () => {
    const record = recorded();
    // Same length, so the framing holds: UpdateHashArgs' field CanaryHash becomes CanaryHasX.
    const changed = Buffer.from(RECORDED);
    const at = changed.indexOf('CanaryHash');
    expect(at).to.be.greaterThan(0);
    changed.write('CanaryHasX', at, 'latin1');
    const values = decodeInPieces(changed, record);
    const updateHash = values[3]!.value as { value: Record<string, unknown> };
    expect(updateHash.value).to.have.property('CanaryHasX', '7c9d8f6b5');
    expect(updateHash.value).not.to.have.property('CanaryHash');
  });

  it('survives its file format and refuses anything else with a clear error', () => {
    const record = recorded();
    const again = parseKnownTypes(serializeKnownTypes(record));
    expect([...again.keys()]).to.deep.equal([...record.keys()]);
    expect([...again.values()]).to.deep.equal([...record.values()]);
    expect(() => parseKnownTypes('{}')).to.throw(knownTypesErrors.malformed('not a list'));
    expect(() => parseKnownTypes('[["AA==",3,{"kind":"slice","name":"x"}]]')).to.throw(/known gob types: malformed file: bad entry/);
    expect(() => parseKnownTypes('[["AA==",3,{"kind":"struct","name":"x","fields":[{"name":"A","id":0}]}]]')).to.throw(/bad entry/);
  });
});
