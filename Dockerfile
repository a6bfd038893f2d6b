# The orchestrator image: API and worker run from the same image with different commands.
# gitleaks is built from source at a pinned version (no binary downloads at runtime).
FROM golang:1.24-bookworm AS gitleaks
ARG GITLEAKS_VERSION=8.30.1
RUN GOBIN=/out go install -trimpath \
      -ldflags "-X github.com/zricethezav/gitleaks/v8/version.Version=v${GITLEAKS_VERSION}" \
      github.com/zricethezav/gitleaks/v8@v${GITLEAKS_VERSION}

FROM golang:1.24-bookworm AS osv-scanner
RUN GOBIN=/out go install -trimpath github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.2.4

FROM node:22-bookworm-slim AS build
# better-sqlite3 (the API's intake journal) is a native module, compiled here by node-gyp.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates tini bubblewrap \
 && rm -rf /var/lib/apt/lists/*
COPY --from=gitleaks /out/gitleaks /usr/local/bin/gitleaks
COPY --from=osv-scanner /out/osv-scanner /usr/local/bin/osv-scanner
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json projects.yaml .gitleaks.toml ./
COPY temporal-config ./temporal-config
# The data directory exists and belongs to the runtime user, so a named volume mounted on it
# (the worker's checkouts, the API's intake journal) is writable by that user.
RUN mkdir -p /app/data && chown node:node /app/data
# The revision the image was built from: part of the workers' build ID (ADR-0028).
ARG ORCH_REVISION=unknown
ENV ORCH_REVISION=${ORCH_REVISION}
ENV NODE_ENV=production ORCH_GITLEAKS_BIN=/usr/local/bin/gitleaks ORCH_OSV_SCANNER_BIN=/usr/local/bin/osv-scanner
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/worker/main.js"]
