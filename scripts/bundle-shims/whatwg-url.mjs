// node-fetch 2 (under @kubernetes/client-node) takes `whatwgUrl.URL` only when node:url has
// no URL class; node always has one. The real package brings 280 KB of Unicode tables
// (tr46) that the plugin would compile at every start for nothing.
export default { URL: globalThis.URL };
