// User-facing messages of the downward-API labels reader.

export const malformedLabelLine = (line: number, detail: string): string =>
  `downward-API labels, line ${line}: ${detail}`;

export const MISSING_EQUALS = 'expected key="value", found no "="';
export const EMPTY_KEY = 'the key before "=" is empty';
export const KEY_WHITESPACE = 'the key contains whitespace';
export const UNQUOTED_VALUE =
  'the value must be a double-quoted string (the kubelet writes key="value"), found no opening quote';
export const UNTERMINATED_VALUE = 'the quoted value has no closing quote';
export const TRAILING_AFTER_VALUE = 'unexpected text after the closing quote';
export const duplicateKey = (key: string, firstLine: number): string =>
  `key "${key}" already appeared on line ${firstLine}`;
export const badEscape = (escape: string): string => `invalid escape sequence "${escape}" in the value`;

export const invalidPollMs = (value: number): string =>
  `pollMs must be between 1 and 2147483647 milliseconds, got ${value}`;

export const readFailed = (path: string): string => `could not read pod labels from ${path}`;
export const parseFailed = (path: string): string => `could not parse pod labels in ${path}`;
export const watchFailed = (dir: string): string =>
  `could not watch ${dir} for label changes; polling only`;
export const onChangeFailed = (path: string): string => `the onChange callback for ${path} threw`;
