#!/usr/bin/env bash
# Smoke test of the real Dockerfile and compose.yaml with podman + podman-compose (no Docker engine needed):
#
#   1. builds every image target from ./Dockerfile (--format docker keeps HEALTHCHECK),
#   2. brings up compose.yaml (nats, redis, postgres, migrate, aws-sim, scheduler, 2 fetchers, mapper, writer,
#      demo-sync) under its own project name and host ports,
#   3. waits for the one-shot demo sync (`grantline sync demo --wait`) to exit 0, then syncs `selftest` too,
#   4. checks that authentication is on: NATS refuses a client without credentials and a sync from the
#      fetcher's user, Redis a client without credentials and the fetcher's user outside its key prefix,
#      Postgres the read-only login's read of the external-id values and any write; then reads the first change
#      events from gl.events.> with the cli image (as the operator NATS user),
#   5. checks every grantline container: uid 10001, read-only root file system (a write outside /tmp fails),
#      tini as PID 1, its HEALTHCHECK passes, and SIGTERM stops it with exit code 0 within the grace period,
#   6. tears everything down (volumes too) — also on failure.
#
# Usage: deploy/test/compose-smoke.sh            (from anywhere; needs podman, podman-compose)
#   STANDINS=1        first build local stand-ins for the base images (machines without registry access;
#                     see /work/shared/design/CONTAINERS.md): needs ../shared/tools/podman-standins.sh
#   NPM_CA_FILE=path  extra CA certificate for npm inside the build (TLS-intercepting proxies); defaults to
#                     the host npm's `cafile` setting when that names a file
#   KEEP=1            leave the project running at the end
#   SKIP_BUILD=1      reuse already built grantline/*:dev images
#   MONITORING=1      also start Prometheus from the monitoring profile (prom/prometheus:v2.55.1 must exist
#                     locally; with STANDINS=1 a Debian stand-in is built) and check that it scrapes every
#                     service, loads the alert rules and that every dashboard query evaluates without error;
#                     and Grafana, when its image exists or can be pulled: the provisioned dashboard loads whole
#                     and provisioning logs no error
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
project=${PROJECT:-glsmoke}
t0=$(date +%s)
step() { printf '\n== [%4ss] %s\n' "$(($(date +%s) - t0))" "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

command -v podman >/dev/null || fail "podman is not installed"
if [ -z "${NPM_CA_FILE:-}" ] && command -v npm >/dev/null; then
  ca=$(npm config get cafile 2>/dev/null || true)
  [ -n "$ca" ] && [ -f "$ca" ] && export NPM_CA_FILE=$ca
fi
command -v podman-compose >/dev/null || fail "podman-compose is not installed"

# Host ports away from a developer's local NATS/Postgres.
export GL_NATS_PORT=${GL_NATS_PORT:-14222} GL_NATS_MONITOR_PORT=${GL_NATS_MONITOR_PORT:-18222}
export GL_POSTGRES_PORT=${GL_POSTGRES_PORT:-15432} GL_AWS_SIM_PORT=${GL_AWS_SIM_PORT:-14566}
export GL_SCHEDULER_PROBE_PORT=${GL_SCHEDULER_PROBE_PORT:-19464}
export GRANTLINE_TAG=${GRANTLINE_TAG:-dev}
services=(nats redis postgres migrate aws-sim scheduler fetcher mapper writer demo-sync)
[ "${MONITORING:-0}" = 1 ] && services+=(prometheus)
export GL_PROMETHEUS_PORT=${GL_PROMETHEUS_PORT:-19090} GL_GRAFANA_PORT=${GL_GRAFANA_PORT:-13000}
# Grafana joins when its image is there (or can be pulled): no Debian package or npm module carries a Grafana
# server, so a machine without registry access skips this check and says so.
grafana_image=$(sed -n 's/^ *image: *\(grafana\/grafana:.*\)$/\1/p' compose.yaml | head -1)
with_grafana=0
if [ "${MONITORING:-0}" = 1 ] && { command podman image exists "docker.io/$grafana_image" ||
  timeout 300 podman pull -q "docker.io/$grafana_image" >/dev/null 2>&1; }; then
  services+=(grafana)
  with_grafana=1
fi
compose() { podman-compose -p "$project" -f "$root/compose.yaml" "$@"; }
# podman without systemd cannot schedule healthcheck timers and says so on every run/stop: drop that line.
podman() { command podman "$@" 2> >(grep -v 'systemd' >&2); }

cleanup() {
  local rc=$?
  if [ "${KEEP:-0}" != 1 ]; then
    step "tearing down"
    compose down -v >/dev/null 2>&1 || true
    podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    command podman network rm -f "${project}_default" >/dev/null 2>&1 || true # podman-compose 1.0.x leaves it
  fi
  printf '\n%s after %ss\n' "$([ $rc = 0 ] && echo PASSED || echo FAILED)" "$(($(date +%s) - t0))"
}
trap cleanup EXIT

if [ "${STANDINS:-0}" = 1 ]; then
  step "building stand-in base images"
  "$root/../shared/tools/podman-standins.sh" node:22-bookworm-slim nats:2.10-alpine redis:7 postgres:16
  if [ "${MONITORING:-0}" = 1 ] && ! command podman image exists docker.io/prom/prometheus:v2.55.1; then
    ctx=$(mktemp -d)
    cat >"$ctx/Containerfile" <<'CF'
FROM localhost/debian-standin:bookworm
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CF
    command podman build -q --network host -t docker.io/prom/prometheus:v2.55.1 "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  build_args=(--format docker --network host)
  [ -n "${NPM_CA_FILE:-}" ] && build_args+=(--secret "id=npm_ca,src=$NPM_CA_FILE")
  for target in cli scheduler fetcher mapper writer aws-sim; do
    step "building grantline/$target:$GRANTLINE_TAG"
    podman build -q "${build_args[@]}" --build-arg REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
      --target "$target" -t "grantline/$target:$GRANTLINE_TAG" . >/dev/null
  done
fi

step "credentials (compose secrets: the checked-in local-only values, any missing one written)"
deploy/compose/make-secrets.sh

step "compose down (leftovers) and up"
compose down -v >/dev/null 2>&1 || true
compose up -d --no-build "${services[@]}" >/tmp/"$project"-up.log 2>&1 || { cat /tmp/"$project"-up.log; fail "compose up"; }
network=$(podman network ls --format '{{.Name}}' | grep -E "^${project}_default$" | head -1)
[ -n "$network" ] || fail "no ${project}_default network"
ctr() { echo "${project}_$1_${2:-1}"; }

wait_exit() { # container, timeout seconds: waits until it has exited with 0 (restarts on failure are allowed)
  local c=$1 deadline=$(($(date +%s) + $2)) state
  while :; do
    state=$(podman inspect "$c" --format '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' 2>/dev/null || echo "missing")
    case "$state" in "exited 0 "*) echo "$c: $state"; return 0 ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || { podman logs --tail 30 "$c" || true; fail "$c did not exit 0 in $2 s ($state)"; }
    sleep 2
  done
}

step "waiting for migrate"
wait_exit "$(ctr migrate)" 180
step "waiting for demo-sync (grantline sync demo --wait against aws-sim --org small)"
wait_exit "$(ctr demo-sync)" 600
podman logs "$(ctr demo-sync)" 2>&1 | tail -3

# As the operator NATS user (the server refuses anonymous clients).
cli() { podman run --rm --network "$network" --read-only --tmpfs /tmp --cap-drop ALL \
  -e NATS_URL=nats://nats:4222 -e "DATABASE_URL=postgres://postgres:${POSTGRES_PASSWORD:-grantline-local}@postgres:5432/grantline" \
  -e NATS_USER=operator -e "NATS_PASSWORD=$(cat deploy/compose/secrets/nats-operator-password)" \
  "grantline/cli:$GRANTLINE_TAG" "$@"; }
step "NATS refuses a sync from anyone but the operator, and anyone without credentials"
forged=$(podman run --rm --network "$network" --read-only --tmpfs /tmp --cap-drop ALL \
  -e NATS_URL=nats://nats:4222 -e NATS_USER=fetcher -e "NATS_PASSWORD=$(cat deploy/compose/secrets/nats-fetcher-password)" \
  "grantline/cli:$GRANTLINE_TAG" sync demo 2>&1 || true)
echo "$forged" | grep -q 'Permissions Violation' || fail "the fetcher's user could start a sync: $forged"
anonymous=$(podman run --rm --network "$network" --read-only --tmpfs /tmp --cap-drop ALL \
  -e NATS_URL=nats://nats:4222 "grantline/cli:$GRANTLINE_TAG" status 2>&1 || true)
echo "$anonymous" | grep -q 'Authorization Violation' || fail "NATS let a client without credentials in: $anonymous"
echo "NATS: the fetcher's user may not start a sync; a client without credentials is refused"
step "Redis and Postgres refuse what a credential does not hold"
noauth=$(podman exec "$(ctr redis)" redis-cli ping 2>&1 || true)
echo "$noauth" | grep -q NOAUTH || fail "Redis answered a client without credentials: $noauth"
foreign=$(podman exec "$(ctr redis)" redis-cli --user grantline-fetcher --no-auth-warning \
  --pass "$(cat deploy/compose/secrets/redis-fetcher-password)" get other:key 2>&1 || true)
echo "$foreign" | grep -q NOPERM || fail "the fetcher's Redis user read outside its key prefix: $foreign"
echo "Redis: no default user; the fetcher's user is confined to its key prefix"
psql_as() { podman exec "$(ctr postgres)" psql -Atc "$2" \
  "postgresql://$1:$(cat "deploy/compose/secrets/pg-${1#gl_}-password")@127.0.0.1:5432/grantline" 2>&1 || true; }
secret=$(psql_as gl_reader "SELECT count(*) FROM trust_external_ids")
echo "$secret" | grep -q 'permission denied' || fail "the read-only login read the external-id values: $secret"
write=$(psql_as gl_reader "UPDATE grants SET revoked_at = now()")
echo "$write" | grep -q 'permission denied' || fail "the read-only login could write: $write"
echo "Postgres: the read-only login reads no external-id values and writes nothing"
step "grantline sync selftest --wait"
cli sync selftest --wait | tail -2
step "first events on gl.events.>"
events=$(cli events tail --from-start --limit 5)
echo "$events"
[ "$(echo "$events" | grep -c .)" -ge 5 ] || fail "expected 5 events"
echo "$events" | grep -q "run.started" || fail "no run.started event"
cli status | head -5

# As the engine judges it: unhealthy after `retries` (3) failed checks in a row, not one slow one (a loaded
# machine can take longer than the 3 s timeout to start the check's node).
healthy() {
  local i
  for i in 1 2 3; do
    podman healthcheck run "$1" >/dev/null && return 0
    sleep 2
  done
  return 1
}
step "container hardening: uid, read-only root, tini as PID 1, healthcheck"
checked=()
for s in scheduler fetcher:1 fetcher:2 mapper writer aws-sim; do
  c=$(ctr "${s%%:*}" "$([ "${s#*:}" != "$s" ] && echo "${s#*:}" || echo 1)")
  uid=$(podman exec "$c" id -u)
  [ "$uid" = 10001 ] || fail "$c runs as uid $uid"
  ro=$(podman inspect "$c" --format '{{.HostConfig.ReadonlyRootfs}}')
  [ "$ro" = true ] || fail "$c root file system is not read-only"
  if podman exec "$c" sh -c 'echo x > /app/x' 2>/dev/null; then fail "$c could write to /app"; fi
  podman exec "$c" sh -c 'echo x > /tmp/x && rm /tmp/x' || fail "$c cannot write /tmp"
  pid1=$(podman exec "$c" cat /proc/1/comm)
  [ "$pid1" = tini ] || fail "$c PID 1 is $pid1"
  healthy "$c" || fail "$c healthcheck failed"
  echo "$c: uid $uid, read-only root, PID 1 $pid1, healthy"
  checked+=("$c")
done
for s in nats redis postgres; do
  healthy "$(ctr $s)" || fail "$(ctr $s) healthcheck failed"
  echo "$(ctr $s): healthy"
done

if [ "${MONITORING:-0}" = 1 ]; then
  step "Prometheus: targets, alert rules, dashboard queries"
  prom=http://127.0.0.1:$GL_PROMETHEUS_PORT
  deadline=$(($(date +%s) + 120))
  until [ "$(curl -sf "$prom/api/v1/query" --data-urlencode 'query=count(up{job=~"grantline-.*"} == 1)' |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.result[0].value[1])}catch{console.log(0)}})')" = 5 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "Prometheus does not see 5 healthy grantline targets"
    sleep 3
  done
  echo "5 grantline targets up (scheduler, 2 fetchers, mapper, writer)"
  curl -sf "$prom/api/v1/rules" | node -e '
    let s=""; process.stdin.on("data",d=>s+=d).on("end",()=>{
      const rules=JSON.parse(s).data.groups.flatMap(g=>g.rules);
      const bad=rules.filter(r=>r.health!=="ok" && r.health!=="unknown");
      console.log(`${rules.length} alert rules loaded, ${bad.length} unhealthy`); process.exit(rules.length&&!bad.length?0:1);})' ||
    fail "alert rules"
  node -e '
    const d=require(process.argv[1]); const prom=process.argv[2]; let bad=0, withData=0, n=0;
    (async()=>{ for (const p of d.panels) for (const t of p.targets) {
      const q=t.expr.replaceAll("$__rate_interval","1m").replaceAll("$source",".*"); n++;
      const r=await (await fetch(prom+"/api/v1/query?query="+encodeURIComponent(q))).json();
      if (r.status!=="success") { bad++; console.log("ERROR", p.title, r.error); } else if (r.data.result.length) withData++;
      else console.log("no data yet:", p.title, "|", q);
    } console.log(`${n} dashboard queries: ${n-bad} evaluate, ${withData} return data`); process.exit(bad?1:0); })();
  ' "$root/deploy/grafana/dashboards/grantline.json" "$prom" || fail "dashboard queries"

  if [ "$with_grafana" = 1 ]; then
    step "Grafana: provisioned datasource and dashboard load"
    graf=http://127.0.0.1:$GL_GRAFANA_PORT
    deadline=$(($(date +%s) + 120))
    until curl -sf "$graf/api/health" >/dev/null; do
      [ "$(date +%s)" -lt "$deadline" ] || fail "Grafana did not become healthy"
      sleep 3
    done
    # Anonymous viewers may read dashboards (compose.yaml): the provisioned one must be there, whole, with its
    # Prometheus datasource, and the provisioning must not have logged an error.
    node -e '
      const want=require(process.argv[1]); const graf=process.argv[2];
      (async()=>{
        const got=await (await fetch(`${graf}/api/dashboards/uid/${want.uid}`)).json();
        if (!got.dashboard) { console.log("dashboard not provisioned:", JSON.stringify(got)); process.exit(1); }
        const panels=got.dashboard.panels?.length ?? 0;
        const ds=await (await fetch(`${graf}/api/datasources/uid/prometheus`)).json().catch(()=>({}));
        console.log(`dashboard "${got.dashboard.title}" in folder "${got.meta.folderTitle}": ${panels} panels (file has ${want.panels.length}); datasource ${ds.type ?? "?"}`);
        process.exit(panels===want.panels.length ? 0 : 1);
      })().catch(e=>{console.log(e.message);process.exit(1)});
    ' "$root/deploy/grafana/dashboards/grantline.json" "$graf" || fail "Grafana did not load the dashboard"
    if podman logs "$(ctr grafana)" 2>&1 | grep -E 'logger=provisioning.*level=error|lvl=eror.*provisioning'; then
      fail "Grafana provisioning logged errors"
    fi
    echo "Grafana provisioning: no errors logged"
  else
    [ "${MONITORING:-0}" = 1 ] && echo "Grafana: image $grafana_image not available here (no registry access); skipped"
  fi
fi

step "graceful SIGTERM (podman stop -t 30): exit code 0 within the grace period"
for c in "${checked[@]}"; do
  s0=$(date +%s%N)
  podman stop -t 30 "$c" >/dev/null
  ms=$((($(date +%s%N) - s0) / 1000000))
  code=$(podman inspect "$c" --format '{{.State.ExitCode}}')
  # "ms" is the process's own shutdown (signal to exit); the rest of the wall time is podman's.
  echo "$c: exit $code after ${ms} ms $(podman logs --tail 5 "$c" 2>&1 | grep -o '"ms":[0-9]*,"steps":{[^}]*}' || true)"
  # Exit code 0 is the graceful path; past -t 30 podman would have SIGKILLed it (exit 137).
  [ "$code" = 0 ] || { podman logs --tail 20 "$c"; fail "$c exited $code on SIGTERM"; }
  [ "$ms" -lt 30000 ] || { podman logs --tail 20 "$c"; fail "$c took ${ms} ms to stop"; }
done
