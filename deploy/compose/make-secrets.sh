#!/bin/sh
# Writes the NATS passwords compose.yaml mounts as secrets, one random password per user, into
# deploy/compose/secrets/ (ignored by git). Existing files are kept; delete one and run again to rotate it
# (then restart nats and the service that uses it: docs/deploying.md#rotating-credentials).
# nats-server parses each password as a configuration value: letters and digits, starting with a letter.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
chmod 0700 "$dir"
for role in scheduler fetcher mapper writer operator subscriber; do
  f="$dir/nats-$role-password"
  [ -s "$f" ] && continue
  # Readable by the containers' non-root user (the directory itself is private to you).
  (umask 022 && printf 'p%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-40)" >"$f")
  echo "wrote $f"
done
