import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createPluginLogger, hclogTimestamp } from '../../../src/plugin/hclog.js';

// The shape go-plugin's host parses (go-plugin log_entry.go): one JSON object per line,
// string @message and @level, @timestamp as 2006-01-02T15:04:05.000000Z07:00.

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe('plugin logs in hclog JSON', () => {
  it('formats timestamps with six fractional digits in UTC', () => {
    expect(hclogTimestamp(Date.UTC(2025, 2, 2, 10, 15, 0, 123) * 1000 + 456)).to.equal('2025-03-02T10:15:00.123456Z');
    expect(hclogTimestamp()).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('writes string @message and hclog levels, other fields flat, secrets redacted', () => {
    const { lines, stream } = capture();
    const logger = createPluginLogger('trace', stream);
    logger.debug({ method: 'SetWeight', token: 's3cret' }, 'plugin call');
    logger.fatal('gone');
    expect(lines[0]).to.include({ '@level': 'debug', '@message': 'plugin call', method: 'SetWeight', token: '[redacted]' });
    expect(lines[0]!['@timestamp']).to.match(/\.\d{6}Z$/);
    expect(lines[1]).to.include({ '@level': 'error', '@message': 'gone' });
  });
});
