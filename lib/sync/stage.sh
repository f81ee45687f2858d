#!/bin/sh
# stage.sh STAGE_DIR — run as the login user, with the files on stdin: one `NAME BASE64` line each, then `END`.
# Writes them into a new private directory, prints STAGED, then holds the directory's lock until stdin closes (the
# sync is over, or the client died or was interrupted) and removes the directory. Activation takes `.active` while
# it works, so the removal waits for it; activation also sweeps staging dirs whose `.lock` nobody holds.
# A write that fails prints `WRITE-FAILED PATH FREE_KIB REASON` (free space where the files go, POSIX df), so the
# client can say the disk is full and how much was needed.
set -u
stage=$1
umask 077
failed() { printf 'WRITE-FAILED %s %s %s\n' "$1" "$(df -Pk -- "${stage%/*}" 2>/dev/null | awk 'NR == 2 { print $4 }' | grep . || echo -)" "$(printf '%s' "$2" | head -n 1)"; }
err=$(mkdir -m 0700 -- "$stage" 2>&1) || { failed "$stage" "$err"; exit 1; }
: > "$stage/.lock" && : > "$stage/.active" || exit 1
exec 8< "$stage/.lock"
flock -n 8 || exit 1
cleanup() { flock "$stage/.active" rm -rf -- "$stage"; exit 0; }
trap cleanup HUP INT TERM PIPE
while IFS=' ' read -r name data; do
  [ "$name" = END ] && break
  case $name in f[0-9]*) ;; *) echo "BAD-NAME $name"; cleanup ;; esac
  err=$(printf '%s' "$data" | base64 -d 2>&1 > "$stage/$name") || { failed "$stage/$name" "$err"; cleanup; }
done
echo STAGED
cat > /dev/null
cleanup
