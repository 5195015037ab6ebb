import type { LabelSelector } from './route-store.js';

/** Kubernetes label-selector semantics (metav1.LabelSelector); an empty selector matches everything. */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector): boolean {
  const l = labels ?? {};
  const has = (k: string): boolean => Object.hasOwn(l, k);
  if (!Object.entries(selector.matchLabels ?? {}).every(([k, v]) => has(k) && l[k] === v)) return false;
  return (selector.matchExpressions ?? []).every((e) => {
    switch (e.operator) {
      case 'In':
        return has(e.key) && (e.values ?? []).includes(l[e.key]!);
      case 'NotIn':
        return !has(e.key) || !(e.values ?? []).includes(l[e.key]!);
      case 'Exists':
        return has(e.key);
      case 'DoesNotExist':
        return !has(e.key);
    }
  });
}

/** metav1.LabelSelector → the form the API server takes in a query and kubectl prints. */
export function formatLabelSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.join(',');
}
