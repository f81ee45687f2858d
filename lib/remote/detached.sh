#!/bin/sh
# detached.sh RUNS NAME SCRIPT [ARG]... — run as root, with this file on stdin (`sh -s`).
# Runs `sh -c SCRIPT NAME ARG...` detached from the SSH session: in a session of its own (setsid), stdin /dev/null,
# stdout and stderr into a private run directory under RUNS; then follows that output to stdout and exits with the
# script's exit code once it has ended. A dropped connection, or the login session torn down with everything in it,
# stops the following, never the script: it finishes on the server and leaves its output and exit code behind.
# The run directory holds `.lock` (held by the script while it works) and `.follow` (held by this follower); the
# next run sweeps directories where neither is held. Exit 70: the script ended without an exit code (killed);
# 71: no run directory could be made.
# The whole script is one function called on the last line: sh reads all of it before running any of it.
main() {
  set -u
  # Output that cannot be written any more (the client is gone) is dropped; the script goes on regardless.
  trap '' HUP PIPE
  runs=$1 name=$2 script=$3
  shift 3
  umask 077
  say() { printf '%s\n' "$*" 2>/dev/null || true; }

  # Sweeping and creating under one lock: a run directory is never seen before both its locks are held.
  mkdir -p -- "$runs" && exec 5>"$runs/.lock" && flock 5 || { say "DETACH-FAILED $runs"; exit 71; }
  for old in "$runs"/*; do
    [ -d "$old" ] || continue
    flock -n "$old/.lock" true 2>/dev/null && flock -n "$old/.follow" true 2>/dev/null && rm -rf -- "$old"
  done
  run=$(mktemp -d "$runs/$name.XXXXXXXX") && exec 4>"$run/.follow" 6>"$run/.lock" && flock -n 4 && flock -n 6 ||
    { say "DETACH-FAILED $runs"; exit 71; }
  exec 5>&-
  log=$run/log
  status=$run/status
  : > "$log"

  # The script inherits fd 6 and so keeps `.lock` held until it and the wrapper have ended; the exit code is written
  # last, atomically, so it is there exactly when the output is complete.
  # shellcheck disable=SC2016
  setsid sh -c '"$@"; code=$?; printf "%s\n" "$code" > "$0.new" && mv -f -- "$0.new" "$0"' "$status" \
    sh -c "$script" "$name" "$@" < /dev/null > "$log" 2>&1 &
  exec 6>&-

  # Copy the output as it grows, byte for byte, until the exit code is there or the script is gone without one.
  sent=0 idle=0
  while :; do
    if [ -e "$status" ] || flock -n "$run/.lock" true; then ended=1; else ended=0; fi
    size=$(stat -c %s -- "$log" 2>/dev/null) || size=$sent
    if [ "$size" -gt "$sent" ]; then
      tail -c +"$((sent + 1))" -- "$log" | head -c "$((size - sent))" 2>/dev/null
      sent=$size idle=0
    fi
    [ "$ended" = 1 ] && break
    # Quick for the usual sub-second activation; calmer while a program takes its stopwaitsecs to stop.
    idle=$((idle + 1))
    if [ "$idle" -gt 50 ]; then sleep 0.5; else sleep 0.1; fi
  done

  code=$(cat -- "$status" 2>/dev/null) || code=''
  rm -rf -- "$run"
  case $code in
    '' | *[!0-9]*) say "DETACHED-LOST the $name process on the server ended without an exit code (killed?)"; exit 70 ;;
  esac
  exit "$code"
}

main "$@"
