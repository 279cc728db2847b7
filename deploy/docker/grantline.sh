#!/bin/sh
# `grantline` on the PATH of the cli image.
exec node /app/grantline.mjs "$@"
