// Gateway API regular expressions are implementation-specific; like Envoy (RE2, full match) a
// value must match as a whole. A pattern JavaScript cannot compile matches nothing here.

const cache = new Map<string, RegExp | null>();
const CACHE_LIMIT = 1024;

export function fullMatch(pattern: string, value: string): boolean {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, 'u');
    } catch {
      re = null;
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, re);
  }
  return re !== null && re.test(value);
}
