#!/bin/sh
# Cron wrapper for reconcile: loads secrets from an environment file readable only by its owner,
# appends everything the job prints to a log file, and exits with the job's own status.
#
#   reconcile-cron.sh COMMAND JOB [ARGS...]
#
# Settings (environment, with defaults):
#   RECONCILE_HOME  the checkout, working directory of the job   (folder above this script)
#   RECONCILE_BIN   the reconcile executable                     ($RECONCILE_HOME/.build/release/reconcile)
#   RECONCILE_ENV   the secrets file: KEY=value lines, mode 600  ($RECONCILE_HOME/cron/reconcile.env)
#   RECONCILE_LOG   the log file the output is appended to       ($RECONCILE_HOME/var/log/reconcile.log)
set -u
here=$(cd "$(dirname "$0")" && pwd)
home=${RECONCILE_HOME:-$(dirname "$here")}
bin=${RECONCILE_BIN:-$home/.build/release/reconcile}
envfile=${RECONCILE_ENV:-$home/cron/reconcile.env}
log=${RECONCILE_LOG:-$home/var/log/reconcile.log}

mkdir -p "$(dirname "$log")" || exit 3
if [ ! -f "$envfile" ]; then
    echo "$(date -u +%FT%TZ) reconcile-cron: no environment file $envfile" >>"$log"
    exit 2
fi
# Refuse a secrets file that others can read or write: it holds API keys and signing secrets.
mode=$(stat -c %a "$envfile")
case "$mode" in
    ?00) ;;
    *)
        echo "$(date -u +%FT%TZ) reconcile-cron: $envfile has mode $mode; expected 600 (owner only)" >>"$log"
        exit 2
        ;;
esac
owner=$(stat -c %u "$envfile")
if [ "$owner" != "$(id -u)" ]; then
    echo "$(date -u +%FT%TZ) reconcile-cron: $envfile is not owned by the user running the job" >>"$log"
    exit 2
fi
set -a
# shellcheck disable=SC1090
. "$envfile"
set +a
cd "$home" || exit 3
echo "$(date -u +%FT%TZ) reconcile-cron: start $*" >>"$log"
"$bin" "$@" >>"$log" 2>&1
status=$?
echo "$(date -u +%FT%TZ) reconcile-cron: exit $status" >>"$log"
exit $status
