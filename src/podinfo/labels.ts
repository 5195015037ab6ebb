import {
  EMPTY_KEY,
  KEY_WHITESPACE,
  MISSING_EQUALS,
  TRAILING_AFTER_VALUE,
  UNQUOTED_VALUE,
  UNTERMINATED_VALUE,
  badEscape,
  duplicateKey,
  malformedLabelLine,
} from './errors.js';

export type PodLabels = Record<string, string>;

/** Thrown by {@link parseDownwardApiLabels}; `line` is 1-based. */
export class LabelsSyntaxError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(malformedLabelLine(line, detail));
    this.name = 'LabelsSyntaxError';
  }
}

/**
 * Parses a downward-API `metadata.labels` (or `metadata.annotations`) file. The kubelet writes one
 * `key="value"` line per entry, sorted by key, the value quoted with Go's strconv.Quote, no trailing
 * newline. Blank lines (and a trailing `\r`) are tolerated so hand-written files work too.
 */
export function parseDownwardApiLabels(text: string): PodLabels {
  const entries: [string, string][] = [];
  const firstSeen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const eq = line.indexOf('=');
    if (eq < 0) throw new LabelsSyntaxError(lineNo, MISSING_EQUALS);
    const key = line.slice(0, eq);
    if (key === '') throw new LabelsSyntaxError(lineNo, EMPTY_KEY);
    if (/\s/.test(key)) throw new LabelsSyntaxError(lineNo, KEY_WHITESPACE);
    const previous = firstSeen.get(key);
    if (previous !== undefined) throw new LabelsSyntaxError(lineNo, duplicateKey(key, previous));
    firstSeen.set(key, lineNo);
    entries.push([key, unquoteGo(line.slice(eq + 1), lineNo)]);
  });
  return Object.fromEntries(entries);
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b, '\\': 0x5c, '"': 0x22,
};

// Go's strconv.Unquote for a double-quoted string. \x and octal escapes denote bytes, not
// characters, so the value is assembled as UTF-8 bytes and decoded once at the end.
function unquoteGo(quoted: string, lineNo: number): string {
  if (!quoted.startsWith('"')) throw new LabelsSyntaxError(lineNo, UNQUOTED_VALUE);
  const chunks: Buffer[] = [];
  const special = /["\\]/g;
  let i = 1;
  for (;;) {
    special.lastIndex = i;
    const next = special.exec(quoted)?.index;
    if (next === undefined) throw new LabelsSyntaxError(lineNo, UNTERMINATED_VALUE);
    if (next > i) chunks.push(Buffer.from(quoted.slice(i, next), 'utf8'));
    i = next;
    if (quoted[i] === '"') {
      if (i !== quoted.length - 1) throw new LabelsSyntaxError(lineNo, TRAILING_AFTER_VALUE);
      return Buffer.concat(chunks).toString('utf8');
    }
    const e = quoted[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      chunks.push(Buffer.of(simple));
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const digits = /^[0-9a-fA-F]*/.exec(quoted.slice(i + 2, i + 2 + width))![0];
      if (digits.length !== width) throw new LabelsSyntaxError(lineNo, badEscape(`\\${e}${digits}`));
      const value = parseInt(digits, 16);
      if (e === 'x') {
        chunks.push(Buffer.of(value));
      } else {
        if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
          throw new LabelsSyntaxError(lineNo, badEscape(quoted.slice(i, i + 2 + width)));
        }
        chunks.push(Buffer.from(String.fromCodePoint(value), 'utf8'));
      }
      i += 2 + width;
    } else if (/^[0-7]{3}$/.test(quoted.slice(i + 1, i + 4))) {
      const value = parseInt(quoted.slice(i + 1, i + 4), 8);
      if (value > 0xff) throw new LabelsSyntaxError(lineNo, badEscape(quoted.slice(i, i + 4)));
      chunks.push(Buffer.of(value));
      i += 4;
    } else {
      throw new LabelsSyntaxError(lineNo, badEscape(quoted.slice(i, i + 2)));
    }
  }
}

/** Same keys with the same values. */
export function sameLabels(a: PodLabels, b: PodLabels): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
