import { expect } from 'chai';
import fc from 'fast-check';
import { LabelsSyntaxError, parseDownwardApiLabels } from '../../../src/podinfo/index.js';

describe('parseDownwardApiLabels', () => {
  it('reads the labels of a canary pod as the kubelet writes them', () => {
    const text = [
      'app="queue-worker"',
      'app.kubernetes.io/part-of="orders"',
      'rabbitHost="rabbitmq"',
      'rabbitPort="5672"',
      'rabbitQueue="myCanaryQueue"',
      'role="canary"',
      'rollouts-pod-template-hash="6d4b8c9f7"',
    ].join('\n');
    expect(parseDownwardApiLabels(text)).to.deep.equal({
      app: 'queue-worker',
      'app.kubernetes.io/part-of': 'orders',
      rabbitHost: 'rabbitmq',
      rabbitPort: '5672',
      rabbitQueue: 'myCanaryQueue',
      role: 'canary',
      'rollouts-pod-template-hash': '6d4b8c9f7',
    });
  });

  it('reads an empty file as no labels, and tolerates blank lines and CRLF', () => {
    expect(parseDownwardApiLabels('')).to.deep.equal({});
    expect(parseDownwardApiLabels('role="stable"\r\n\r\nteam="a"\n')).to.deep.equal({ role: 'stable', team: 'a' });
  });

  it('keeps "=" and spaces inside the quoted value and allows an empty value', () => {
    expect(parseDownwardApiLabels('q="a=b c"\nempty=""')).to.deep.equal({ q: 'a=b c', empty: '' });
  });

  it('decodes Go escapes (annotations files use the same format)', () => {
    const text = String.raw`note="say \"hi\"\\ok\n\ttab"
bytes="\xe2\x82\xac \342\202\254"
runes="\u00e9\U0001F600"
ctl="\a\b\f\r\v"`;
    expect(parseDownwardApiLabels(text)).to.deep.equal({
      note: 'say "hi"\\ok\n\ttab',
      bytes: '€ €',
      runes: 'é😀',
      ctl: '\x07\b\f\r\v',
    });
  });

  it('passes raw UTF-8 through, as strconv.Quote leaves printable characters alone', () => {
    expect(parseDownwardApiLabels('owner="Zoë 😀"')).to.deep.equal({ owner: 'Zoë 😀' });
  });

  it('round-trips any value quoted the way Go quotes it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(parseDownwardApiLabels(`k=${JSON.stringify(value)}`)).to.deep.equal({ k: value });
      }),
    );
  });

  const malformed: [string, string, string][] = [
    [
      'an unquoted value (the format shown in the upstream docs)',
      'role="preview"\nrabbitHost=localhost',
      'downward-API labels, line 2: the value must be a double-quoted string (the kubelet writes key="value"), found no opening quote',
    ],
    ['a line without "="', 'role="canary"\n\njunk', 'downward-API labels, line 3: expected key="value", found no "="'],
    ['an empty key', '="x"', 'downward-API labels, line 1: the key before "=" is empty'],
    ['whitespace in the key', 'role ="x"', 'downward-API labels, line 1: the key contains whitespace'],
    ['a missing closing quote', 'role="canary', 'downward-API labels, line 1: the quoted value has no closing quote'],
    ['text after the closing quote', 'role="canary" # x', 'downward-API labels, line 1: unexpected text after the closing quote'],
    ['an unescaped quote inside the value', 'role="a"b"', 'downward-API labels, line 1: unexpected text after the closing quote'],
    ['an unknown escape', String.raw`role="\q"`, String.raw`downward-API labels, line 1: invalid escape sequence "\q" in the value`],
    ['a single-quote escape', String.raw`role="\'"`, String.raw`downward-API labels, line 1: invalid escape sequence "\'" in the value`],
    ['a short \\x escape', String.raw`role="\x4"`, String.raw`downward-API labels, line 1: invalid escape sequence "\x4" in the value`],
    ['a surrogate \\u escape', String.raw`role="\ud800"`, String.raw`downward-API labels, line 1: invalid escape sequence "\ud800" in the value`],
    ['an octal escape above 255', String.raw`role="\400"`, String.raw`downward-API labels, line 1: invalid escape sequence "\400" in the value`],
    ['a duplicate key', 'role="a"\nrole="b"', 'downward-API labels, line 2: key "role" already appeared on line 1'],
  ];
  for (const [what, text, message] of malformed) {
    it(`rejects ${what}, naming the line`, () => {
      expect(() => parseDownwardApiLabels(text))
        .to.throw(LabelsSyntaxError, message)
        .with.property('message', message);
    });
  }
});
