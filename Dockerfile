# syntax=docker/dockerfile:1
# One image for every assetflow role; the command picks the role:
#   node dist/scripts/api.js      HTTP API (the default)
#   node dist/scripts/worker.js   Temporal worker
#   node dist/scripts/migrate.js  applies pending knex migrations, then exits

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: install everything, compile, bundle the workflows, drop dev dependencies ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# No install-time telemetry from dependencies that phone home (@scarf/scarf).
ENV SCARF_ANALYTICS=false \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

COPY package.json package-lock.json ./
RUN npm ci

COPY . .
# The worker loads a prebuilt workflow bundle (dist/workflow-bundle.js) so it starts without webpack;
# build it here unless `npm run build` already did.
RUN npm run build \
 && { [ -f dist/workflow-bundle.js ] || node dist/scripts/bundle-workflows.js; } \
 && npm prune --omit=dev \
 && npm cache clean --force

# --- runtime: compiled code and production dependencies only, run as the unprivileged `node` user ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# Code and dependencies stay owned by root (read-only to the app); only the data folder is writable.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3000
CMD ["node", "dist/scripts/api.js"]
