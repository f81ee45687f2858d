#!/bin/bash
# PID 1 of one sandbox host, run by lib/sandbox/launch.ts inside `unshare --mount --uts --pid --fork`.
# Mounts the host's private directories, sets its hostname, starts supervisord and sshd, then reaps orphans.
# Usage: host-init.sh HOST_DIR HOST_NAME PRIVATE_DIR...
#   HOST_DIR/fs is the private tree (HOST_DIR/fs/etc/ssh is mounted over /etc/ssh, and so on);
#   HOST_DIR/status receives "ready" or "failed: <why>"; stdout and stderr go to HOST_DIR/init.log.
set -euo pipefail

fail() {
  echo "failed: $*" >&3
  echo "host-init: $*" >&2
  exit 1
}

# The tree is reached through fd 4 (/proc/1/fd/4): a mount over /tmp or /root may hide HOST_DIR's own path.
mount_private() {
  mount --bind "/proc/1/fd/4$1" "$1" || fail "cannot bind-mount $1"
}

# sshd daemonizes before it binds; it writes its PidFile once the listen socket is bound.
wait_for_sshd() {
  local tries=500
  until [[ -s /run/sshd.pid ]]; do
    ((tries-- > 0)) || fail "sshd wrote no /run/sshd.pid within 5 s (see /var/log/sshd.log)"
    sleep 0.01
  done
}

# As PID 1, bash adopts orphans (e.g. `nohup cmd &` from a session) and reaps them while it waits.
reap_forever() {
  while true; do
    sleep 3600 &
    wait $! || true
  done
}

main() {
  local host_dir=$1 name=$2
  shift 2
  exec 3>>"$host_dir/status"
  [[ $$ -eq 1 ]] || fail "must run as PID 1 of a new PID namespace, got PID $$"
  exec 4<"$host_dir/fs"
  mount_private /run
  local dir
  for dir in "$@"; do mount_private "$dir"; done
  mount_private /etc/hosts
  mount_private /etc/hostname
  echo "$name" >/proc/sys/kernel/hostname
  exec 4<&-
  cd /

  # supervisord binds its socket before it daemonizes: it is ready when this returns.
  /usr/bin/supervisord -c /etc/supervisor/supervisord.conf || fail "supervisord did not start"
  [[ -S /run/supervisor.sock ]] || fail "supervisord made no /run/supervisor.sock"
  /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log || fail "sshd did not start (see /var/log/sshd.log)"
  wait_for_sshd

  echo ready >&3
  exec 3>&-
  echo "host-init: $name ready"
  reap_forever
}

# Everything runs from main, so bash has read the whole file before any mount changes what it could read.
main "$@"
