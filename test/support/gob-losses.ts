// What gob does to a Rollout on its way from the controller to a plugin, and nothing more
// (../shared/goplugin-host/README.md, "What your plugin receives"): the Kubernetes JSON a
// plugin rebuilds must equal its input after these documented losses.

/** Keys whose values are resource.Quantity maps (ResourceList): gob sends no amounts, so the map keeps no entries. */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead']);
/** Keys whose value is a single resource.Quantity: dropped entirely. */
const QUANTITIES = new Set(['sizeLimit', 'divisor']);

/**
 * The input Rollout after gob: zero values (0, false, "", empty lists and maps) absent,
 * Quantity amounts absent. Empty objects stay: they are structs (`pause: {}`), which gob
 * always sends. Only for inputs that spell empty maps as absent, as the fixtures do.
 */
export function afterGob(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((v) => afterGob(v) ?? null);
  if (value === null || typeof value !== 'object') return value === 0 || value === false || value === '' ? undefined : value;
  if (QUANTITY_MAPS.has(key) && Object.values(value).every((v) => typeof v === 'string')) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (QUANTITIES.has(k)) continue;
    const after = afterGob(v, k);
    if (after !== undefined) out[k] = after;
  }
  return out;
}
