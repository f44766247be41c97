#!/bin/sh
# Runs redis-server in the foreground with protected mode off: without a config file Debian's
# build refuses connections from anywhere but loopback when no password is set, and the Dapr
# sidecars of other pods must reach it (the NetworkPolicies decide who may). A config file
# given as the first argument stays first, as redis-server requires; later arguments win, so
# `--protected-mode yes` still turns it back on.
set -eu

# Options alone (docker run IMAGE --save "") are options of redis-server.
case "${1:-}" in -*) set -- redis-server "$@" ;; esac

if [ "${1:-}" = redis-server ]; then
  shift
  case "${1:-}" in
    '' | -*) set -- redis-server --protected-mode no "$@" ;;
    *) conf=$1; shift; set -- redis-server "$conf" --protected-mode no "$@" ;;
  esac
fi
exec "$@"
