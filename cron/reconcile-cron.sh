#!/bin/sh
# Cron wrapper for reconcile: loads secrets from an environment file readable only by its owner,
# appends everything the job prints to a log file, and exits with the job's own status.
#
#   reconcile-cron.sh COMMAND JOB [ARGS...]
#
# Settings (environment, with defaults):
#   RECONCILE_HOME  the checkout, working directory of the job   (folder above this script)
#                   relative paths in the settings below are taken from it
#   RECONCILE_BIN   the reconcile executable                     ($RECONCILE_HOME/.build/release/reconcile)
#   RECONCILE_ENV   the secrets file: KEY=value lines, mode 600  ($RECONCILE_HOME/cron/reconcile.env)
#   RECONCILE_LOG   the log file the output is appended to       ($RECONCILE_HOME/var/log/reconcile.log)
#
# The environment file is read, never run: each line is blank, a # comment, or KEY=value with KEY
# in capitals, digits and _ (optionally `export KEY=value`); the value is taken literally, one pair
# of surrounding quotes removed. Shell code in it (`set -x`, `$(...)`) is refused, so nothing in it
# can print a secret, and it cannot change the wrapper's own (lower-case) variables.
#
# Exit status: the job's own (0-4, see the README), or 128+N if it was killed by signal N; 2 when
# the wrapper refuses to start it (home or log unusable; environment file missing, unsafe or not
# KEY=value lines; no executable). Its own lines go to the log, UTC-stamped and tagged with its
# pid; a refusal or a run that ends non-zero also prints one line to stderr, which cron mails to
# MAILTO.
# Needs GNU stat (Linux).
set -u
umask 027           # the log, store and reports carry payment data: no access for others
exec </dev/null     # no terminal, even when started by hand

here=$(cd "$(dirname "$0")" && pwd)
home=${RECONCILE_HOME:-$(dirname "$here")}
if ! cd "$home" 2>/dev/null; then
    printf 'reconcile-cron: cannot enter %s; not starting\n' "$home" >&2
    exit 2
fi
home=$(pwd)
bin=${RECONCILE_BIN:-$home/.build/release/reconcile}
envfile=${RECONCILE_ENV:-$home/cron/reconcile.env}
log=${RECONCILE_LOG:-$home/var/log/reconcile.log}
case $bin in /*) ;; *) bin=$home/$bin ;; esac
case $envfile in /*) ;; *) envfile=$home/$envfile ;; esac
case $log in /*) ;; *) log=$home/$log ;; esac

stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
say() { printf '%s reconcile-cron[%s]: %s\n' "$(stamp)" "$$" "$*" >>"$log"; }
refuse() {
    say "$*; not starting"
    printf 'reconcile-cron: %s; not starting (log: %s)\n' "$*" "$log" >&2
    exit 2
}

if ! { mkdir -p "$(dirname "$log")" && : >>"$log"; } 2>/dev/null; then
    printf 'reconcile-cron: cannot write the log %s; not starting\n' "$log" >&2
    exit 2
fi

[ -f "$envfile" ] || refuse "no environment file $envfile"
[ -r "$envfile" ] || refuse "cannot read the environment file $envfile"
# Refuse a secrets file that others can read or write: it holds API keys and signing secrets.
mode=$(stat -L -c %a "$envfile")
case "$mode" in
    [0-7]00) ;;
    *) refuse "$envfile has mode $mode; expected 600 (owner only)" ;;
esac
[ "$(stat -L -c %u "$envfile")" = "$(id -u)" ] ||
    refuse "$envfile is not owned by the user running the job ($(id -un))"

# Read KEY=value lines; never print a line or a value, only its number.
cr=$(printf '\r')
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line=${line%"$cr"}
    line=${line#"${line%%[! 	]*}"}
    case $line in
        '' | '#'*) continue ;;
        'export '*) line=${line#export }; line=${line#"${line%%[! ]*}"} ;;
    esac
    key=${line%%=*}
    value=${line#*=}
    case $key in
        "$line" | '' | [0-9]* | *[!A-Z0-9_]*) refuse "$envfile line $lineno is not KEY=value" ;;
    esac
    case $value in
        \"*\") value=${value#\"}; value=${value%\"} ;;
        \'*\') value=${value#\'}; value=${value%\'} ;;
    esac
    export "$key=$value"
done <"$envfile"
unset line key value

[ -x "$bin" ] || refuse "no executable $bin (build it with make release)"

say "start $* (in $home)"
# The job's output goes to the log as it comes; a copy of its "run ID: …; reports in FOLDER" line
# (only `run` and `backfill` print one) says which report this call wrote.
tmp=$(mktemp "${TMPDIR:-/tmp}/reconcile-cron.XXXXXX") || refuse "cannot make a temporary file"
trap 'rm -f "$tmp" "$tmp.status"' EXIT
{
    "$bin" "$@" 2>&1
    echo "$?" >"$tmp.status"
} | tee -a "$log" | sed -n 's/^run [0-9TZ]*-[0-9a-f]*: .*; reports in //p' >"$tmp"
status=$(cat "$tmp.status" 2>/dev/null)
case $status in '' | *[!0-9]*) status=3 ;; esac
say "exit $status $*"
if [ "$status" -ne 0 ]; then
    printf '%s reconcile-cron: %s exited %s; see %s\n' "$(stamp)" "$*" "$status" "$log" >&2
    # A run or backfill that found something or could not finish mails its report's summary:
    # counts, what needs a person, money, where the report is.
    folder=$(tail -n 1 "$tmp")
    if [ -n "$folder" ] && [ -f "$folder/summary.txt" ]; then
        cat "$folder/summary.txt" >&2
    fi
fi
exit "$status"
