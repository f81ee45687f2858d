#!/bin/sh
# service.sh start|stop|restart TIMEOUT_SECONDS PID_FILE SERVICE CONFIG [PYTHON_SOURCE AUDIT_ENTRY]
# Drives the supervisord service and reports the state it verified, never the init system's word for it: systemd
# where a systemd runs, else Debian's init script, whose `restart` only stops and whose `stop` returns before the
# daemon is gone. Prints `MANAGER <systemd|init>`, `BEFORE <state>`, then `STATE <active|inactive>`; exit 0 when the state is the one
# asked for, 1 otherwise. With PYTHON_SOURCE (lib/supervisor/supervisor.py) and AUDIT_ENTRY (lib/audit.ts), a run that
# changed the daemon's state (a restart always does), or failed to, appends one line to the audit trail.
# The whole script is one function called on the last line: sh reads all of it before running any of it, so a
# connection lost while it is being sent cannot leave a half-read script running.
main() {
  set -u
  action=$1 timeout=$2 pidfile=$3 service=$4 config=$5 python_source=${6:-} audit=${7:-}

  if [ -d /run/systemd/system ]; then manager=systemd; else manager=init; fi
  echo "MANAGER $manager"

  is_active() {
    if [ "$manager" = systemd ]; then systemctl is-active --quiet "$service" && return 0; return 1; fi
    # The socket must answer, not just a pid file exist: a daemon still starting is not yet "active".
    LC_ALL=C supervisorctl -c "$config" pid >/dev/null 2>&1
  }

  is_gone() {
    if [ "$manager" = systemd ]; then systemctl is-active --quiet "$service" && return 1; return 0; fi
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && return 1
    # No pid file: make sure no supervisord is left in this machine's process table either.
    pgrep -x supervisord >/dev/null 2>&1 && return 1
    return 0
  }

  wait_for() {
    i=0
    while [ "$i" -lt "$((timeout * 10))" ]; do
      "$1" && return 0
      sleep 0.1
      i=$((i + 1))
    done
    "$1"
  }

  run_manager() {
    if [ "$manager" = systemd ]; then systemctl "$1" "$service" 2>&1; else "/etc/init.d/$service" "$1" 2>&1; fi
  }

  # The audit line: RESULT REASON. Never fails the action.
  record() {
    [ -n "$audit" ] && [ -n "$python_source" ] || return 0
    LC_ALL=C python3 -I -c "$python_source" audit-append --entry "$audit" --result "$1" --reason "$2" >/dev/null 2>&1 || true
  }

  if is_active; then before=active; else before=inactive; fi
  echo "BEFORE $before"

  case $action in
    start)
      is_active || run_manager start
      wait_for is_active ;;
    stop)
      is_gone || run_manager stop
      wait_for is_gone ;;
    restart)
      if [ "$manager" = systemd ]; then
        run_manager restart
      else
        run_manager stop
        wait_for is_gone || {
          echo "STATE active"; echo "supervisord did not stop within ${timeout}s"
          record failed "supervisord did not stop within ${timeout}s"
          exit 1
        }
        run_manager start
      fi
      wait_for is_active ;;
    *) echo "unknown action $action"; exit 64 ;;
  esac

  if is_active; then state=active; else state=inactive; fi
  echo "STATE $state"
  case $action:$state in
    start:active | restart:active | stop:inactive) rc=0 ;;
    *) rc=1 ;;
  esac
  if [ $rc -ne 0 ]; then
    record failed "supervisord is $state after $action"
  elif [ "$action" = restart ] || [ "$before" != "$state" ]; then
    record ok ''
  fi
  exit $rc
}

main "$@"
