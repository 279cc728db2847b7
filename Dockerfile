# syntax=docker/dockerfile:1.7
#
# One image per component, all from one shared runtime base:
#
#   docker build --target scheduler -t grantline/scheduler .     (also: fetcher, mapper, writer, cli, aws-sim)
#
# The build stage bundles each entry point with esbuild (scripts/bundle.mjs) into one self-contained ES module —
# workspace libs and npm dependencies included — so the runtime images carry no node_modules, no npm and no
# sources: Node.js, tini, CA certificates and a few MB of JavaScript. They run as uid 10001, write nothing outside
# /tmp (read-only root file system friendly) and have tini as PID 1 so SIGTERM reaches the service's graceful
# shutdown. With podman, build with `--format docker` so HEALTHCHECK is kept (OCI images drop it).
#
# Behind a TLS-intercepting proxy, give npm the proxy's CA as a build secret:
#   docker build --secret id=npm_ca,src=/path/to/ca.crt ...

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- manifests: only the package.json files and the lockfile, so `npm ci` is cached until they change ----
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json -o -name .npmrc \) -print \
    | xargs -I{} cp --parents {} /manifests/

# ---- build: npm ci (dev dependencies included: esbuild) and bundle ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV HUSKY=0 npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=manifests /manifests/ ./
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --no-audit --no-fund
COPY . .
RUN node scripts/bundle.mjs /out

# ---- runtime: shared base of every image ----
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 grantline \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin grantline
LABEL org.opencontainers.image.vendor="grantline" \
      org.opencontainers.image.source="https://github.com/grantline/grantline" \
      org.opencontainers.image.documentation="https://github.com/grantline/grantline/blob/main/docs/deploying.md" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:22-bookworm-slim"
# HOME=/tmp: nothing may write elsewhere (readOnlyRootFilesystem). Source maps give TypeScript stack traces.
# The old-space cap is GC pacing, not a limit on what a service keeps: uncapped, V8 sizes the heap from the
# machine's memory and lets garbage pile up to ~250 MB RSS on a large org; capped, the same run peaks at
# ~155 MB at +2-8 % CPU (docs/benchmarks.md). Raise it through NODE_OPTIONS if a service logs heap OOM.
# The semi-space cap keeps the young generation at 2 × 4 MB: by default it grows to 2 × 16 MB during a large
# message and V8 keeps it committed afterwards, so the writer stayed ~60 MB above its baseline after a
# 100,000-row page; capped, it returns to baseline (docs/operating.md "Memory after large messages").
# --experimental-async-context-frame: AsyncLocalStorage (OpenTelemetry's context: trace ids in logs and NATS
# headers) on V8's continuation frames instead of a promise hook on every promise: 1-4 % less CPU per AWS call
# on a quiet machine, 15 % on a busy one (docs/benchmarks.md "Node 22 and the async context"). Node 24's
# default; from 22.16 the same code.
# `npm run bench` reads this line so it measures what the images run.
ENV NODE_ENV=production HOME=/tmp NODE_OPTIONS="--enable-source-maps --max-old-space-size=192 --max-semi-space-size=4 --experimental-async-context-frame"
# glibc's resolver waits 5 s × 2 attempts per unanswered query, and process.exit() waits for lookups in flight
# (Node joins its thread pool): with a stalled DNS (seen under podman-compose) a service that had finished its
# graceful shutdown sat 30 s in exit and was SIGKILLed. Bounded lookups fail fast; clients retry them anyway.
ENV RES_OPTIONS="timeout:2 attempts:2"
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--"]
# PROBE_PORT is set per target; /healthz answers while the event loop runs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PROBE_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

FROM runtime AS scheduler
LABEL org.opencontainers.image.title="grantline-scheduler" \
      org.opencontainers.image.description="grantline scheduler: runs, schedules, outbox, control requests"
COPY --from=build /out/scheduler.mjs /out/scheduler.mjs.map /app/
ENV PROBE_PORT=9464
EXPOSE 9464
CMD ["node", "/app/scheduler.mjs"]

FROM runtime AS fetcher
LABEL org.opencontainers.image.title="grantline-fetcher" \
      org.opencontainers.image.description="grantline fetcher: AWS API pages within rate-limit budgets"
COPY --from=build /out/fetcher.mjs /out/fetcher.mjs.map /app/
ENV PROBE_PORT=9465
EXPOSE 9465
CMD ["node", "/app/fetcher.mjs"]

FROM runtime AS mapper
LABEL org.opencontainers.image.title="grantline-mapper" \
      org.opencontainers.image.description="grantline mapper: AWS pages to resources, entitlements and grants"
COPY --from=build /out/mapper.mjs /out/mapper.mjs.map /app/
ENV PROBE_PORT=9466
EXPOSE 9466
CMD ["node", "/app/mapper.mjs"]

FROM runtime AS writer
LABEL org.opencontainers.image.title="grantline-writer" \
      org.opencontainers.image.description="grantline writer: Postgres upserts, change events through the outbox"
COPY --from=build /out/writer.mjs /out/writer.mjs.map /app/
ENV PROBE_PORT=9467
EXPOSE 9467
CMD ["node", "/app/writer.mjs"]

# The CLI: `docker run grantline/cli migrate`, `... sync <source> --wait`, `... events tail`. Also on PATH as
# `grantline` for `docker exec`.
FROM runtime AS cli
LABEL org.opencontainers.image.title="grantline-cli" \
      org.opencontainers.image.description="grantline command line: migrate, sync, status, events, access"
COPY --from=build /out/grantline.mjs /out/grantline.mjs.map /app/
COPY --chmod=0755 deploy/docker/grantline.sh /usr/local/bin/grantline
HEALTHCHECK NONE
ENTRYPOINT ["/usr/bin/tini", "--", "grantline"]
CMD ["--help"]

# The AWS emulator (test fixture and demo only; never in production).
FROM runtime AS aws-sim
LABEL org.opencontainers.image.title="grantline-aws-sim" \
      org.opencontainers.image.description="AWS Organizations/IAM/Identity Center emulator for demos and tests"
COPY --from=build /out/aws-sim.mjs /out/aws-sim.mjs.map /app/
# The emulator holds a whole organization (~430 MB for the large preset): no grantline heap cap.
ENV NODE_OPTIONS=--enable-source-maps
EXPOSE 4566
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4566/_sim/info').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/aws-sim.mjs", "--host", "0.0.0.0", "--port", "4566"]
CMD ["--org", "small"]
