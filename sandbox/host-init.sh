#!/bin/bash
# PID 1 of one sandbox host, run by sandbox/launch.ts inside `unshare --mount --uts --pid --fork`.
# Mounts the host's private directories, sets its hostname, starts supervisord and sshd, then reaps orphans.
# Usage: host-init.sh HOST_DIR HOST_NAME ETC SUPERVISORD_CONFIG SUPERVISOR_SOCKET PRIVATE_DIR...
#   HOST_DIR/fs is the private tree (HOST_DIR/fs/etc/ssh is mounted over /etc/ssh, and so on);
#   ETC is `machine` (the machine's /etc, private dirs mounted over parts of it) or `overlay` (a private /etc: an
#   overlay over the machine's, upper dir HOST_DIR/fs/etc, work dir HOST_DIR/etc-work);
#   supervisord runs with `-c SUPERVISORD_CONFIG` and is ready once SUPERVISOR_SOCKET exists;
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

# First of all mounts: the private dirs under /etc then land on top of the overlay, not under it.
# Paths through fds 4 and 5: a comma in HOST_DIR would split the mount options.
mount_etc_overlay() {
  mkdir -p "$1/etc-work"
  exec 5<"$1/etc-work"
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=/proc/1/fd/4/etc,workdir=/proc/1/fd/5" /etc ||
    fail "cannot mount the private /etc overlay"
  exec 5<&-
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
  local host_dir=$1 name=$2 etc=$3 supervisord_config=$4 supervisor_socket=$5
  shift 5
  exec 3>>"$host_dir/status"
  [[ $$ -eq 1 ]] || fail "must run as PID 1 of a new PID namespace, got PID $$"
  exec 4<"$host_dir/fs"
  if [[ $etc == overlay ]]; then mount_etc_overlay "$host_dir"; fi
  mount_private /run
  local dir
  for dir in "$@"; do mount_private "$dir"; done
  mount_private /etc/hosts
  mount_private /etc/hostname
  echo "$name" >/proc/sys/kernel/hostname
  exec 4<&-
  cd /

  # supervisord binds its socket before it daemonizes: it is ready when this returns.
  /usr/bin/supervisord -c "$supervisord_config" || fail "supervisord did not start"
  [[ -S $supervisor_socket ]] || fail "supervisord made no $supervisor_socket"
  /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log || fail "sshd did not start (see /var/log/sshd.log)"
  wait_for_sshd

  echo ready >&3
  exec 3>&-
  echo "host-init: $name ready"
  reap_forever
}

# Everything runs from main, so bash has read the whole file before any mount changes what it could read.
main "$@"
