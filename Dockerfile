# The companion image (serve): node on distroless, non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
RUN npm run build && npm prune --omit=dev

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/package.json ./
COPY proto ./proto
COPY bin ./bin
COPY examples ./examples
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/rollouts-companion.js"]
CMD ["serve"]
