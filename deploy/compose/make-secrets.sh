#!/bin/sh
# Writes every credential compose.yaml mounts as a secret — the NATS users', the Postgres logins', the fetcher's
# Redis ACL user's — one random password each, into GL_SECRETS_DIR (default deploy/compose/secrets, whose
# checked-in values are for a laptop only). Existing files are kept; delete one and run again to rotate it (then
# restart what reads it: docs/deploying.md#credentials). Run it, with GL_SECRETS_DIR set to a directory of your
# own, before the first `docker compose up` of anything beyond a laptop.
# nats-server parses each password as a configuration value: letters and digits, starting with a letter.
set -eu
dir="${GL_SECRETS_DIR:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 0700 "$dir"
for name in nats-scheduler nats-fetcher nats-mapper nats-writer nats-operator nats-subscriber \
  pg-migrate pg-scheduler pg-writer pg-reader redis-fetcher; do
  f="$dir/$name-password"
  [ -s "$f" ] && continue
  # Readable by the containers' non-root user (the directory itself is private to you).
  (umask 022 && printf 'p%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-40)" >"$f")
  echo "wrote $f"
done
