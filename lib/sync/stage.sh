#!/bin/sh
# stage.sh STAGE_DIR — run as the login user, with the files on stdin: one `NAME BASE64` line each, then `END`.
# Writes them into a new private directory, prints STAGED, then holds the directory's lock until stdin closes (the
# sync is over, or the client died or was interrupted) and removes the directory. Activation takes `.active` while
# it works, so the removal waits for it; activation also sweeps staging dirs whose `.lock` nobody holds.
set -u
stage=$1
umask 077
mkdir -m 0700 -- "$stage" || exit 1
: > "$stage/.lock" && : > "$stage/.active" || exit 1
exec 8< "$stage/.lock"
flock -n 8 || exit 1
cleanup() { flock "$stage/.active" rm -rf -- "$stage"; exit 0; }
trap cleanup HUP INT TERM PIPE
while IFS=' ' read -r name data; do
  [ "$name" = END ] && break
  case $name in f[0-9]*) ;; *) echo "BAD-NAME $name"; cleanup ;; esac
  printf '%s' "$data" | base64 -d > "$stage/$name" || { echo "WRITE-FAILED $name"; cleanup; }
done
echo STAGED
cat > /dev/null
cleanup
