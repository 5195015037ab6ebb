# The companion image (serve): node on distroless, non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
COPY scripts ./scripts
# serve runs from one minified bundle: no node_modules tree to load (idle RSS ~71 MB vs ~93 MB
# unbundled; bench/serve-rss.ts). dist/ and node_modules stay for the other verbs.
RUN npm run build && node scripts/bundle.mjs --companion --minify --outdir /src/bundle && npm prune --omit=dev

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/package.json ./
COPY proto ./proto
COPY --from=build /src/bundle ./bundle
COPY bin ./bin
COPY examples ./examples
# A 1 MB young generation and a 96 MB old-space limit keep serve near 70-90 MB RSS (the
# Deployment's limit is 256 Mi). One V8 worker thread instead of four: what the collector frees
# on them stays in one glibc arena, not four (-2 to -15 MB, bench/README.md), and relabels are no
# slower. bench/serve-rss.ts and canary-relabel.ts read these flags from this line.
ENTRYPOINT ["/nodejs/bin/node", "--v8-pool-size=1", "--max-semi-space-size=1", "--max-old-space-size=96", "/app/bundle/rollouts-companion.mjs"]
CMD ["serve"]
