#!/bin/sh
# Container entrypoint of the walstream image (deploy/Dockerfile).
#
#   walstream-entrypoint                  -> walstream run (settings from WALSTREAM_* variables)
#   walstream-entrypoint run --slot x     -> walstream run --slot x
#   walstream-entrypoint --version        -> walstream --version
#   walstream-entrypoint healthcheck      -> exit 0 if http://127.0.0.1:$WALSTREAM_METRICS_PORT/healthz
#                                            answers 200 within 5 s, else 1 (ECS / Docker health check)
#   walstream-entrypoint sh               -> any other program on PATH runs as is (debugging)
#
# exec keeps walstream as the process that receives SIGTERM from ECS, Docker or systemd, so a stop
# flushes, stores and acknowledges before exiting.
set -eu

if [ "$#" -eq 0 ]; then
  set -- run
fi

if [ "$1" = "healthcheck" ]; then
  exec python3 - "${WALSTREAM_METRICS_PORT:-9187}" <<'PY'
import sys
import urllib.error
import urllib.request

url = f"http://127.0.0.1:{int(sys.argv[1])}/healthz"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        status = response.status
except urllib.error.HTTPError as exc:
    status = exc.code
except OSError as exc:
    print(f"event=healthcheck_failed url={url} error={exc}", file=sys.stderr)
    sys.exit(1)
if status != 200:
    print(f"event=healthcheck_failed url={url} status={status}", file=sys.stderr)
    sys.exit(1)
PY
fi

case "$1" in
  walstream) ;;
  -*) set -- walstream "$@" ;;
  *)
    if ! command -v "$1" >/dev/null 2>&1; then
      set -- walstream "$@"
    fi
    ;;
esac

exec "$@"
