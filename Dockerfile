# The Traffic Processor image, the one docker-compose.yml runs and the Fargate task definition
# (terraform/modules/processor-service) deploys. Build from the repository root:
#
#   docker build -t traffic-processor .
#
# The base is pinned to the Node version the project pins (package.json devDependency `node`);
# bump both together. For production builds pin it by digest as well (node:24.21.0-...@sha256:...).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Stage 1: production dependencies only (no fauxqs, no inspector relay, no pino-pretty).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script; skipping them keeps the build reproducible.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the runtime. Node runs the TypeScript sources natively: there is no build step.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    LOG_JSON=1 \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY package.json ./
COPY machines ./machines
COPY src/agent ./src/agent
COPY src/contract ./src/contract
COPY src/platform ./src/platform
COPY src/processor ./src/processor
COPY src/queues.ts ./src/queues.ts
# Files stay root-owned and read-only to the process; it runs as the image's unprivileged user.
USER node
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "src/processor/runtime/healthcheck.ts"]
# Exec form: node is PID 1 and gets SIGTERM itself, so `docker stop` and ECS drain in-flight
# visits. The Node flags of `npm start` (package.json config.nodeFlags; a test keeps them equal).
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "src/processor/main.ts"]
