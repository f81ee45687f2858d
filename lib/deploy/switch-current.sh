# switch-current.sh CURRENT TARGET|-   (run as `sh -c "$(cat switch-current.sh)" switch-current CURRENT TARGET`)
# Points the symlink CURRENT at TARGET with one rename (or removes it, for -), as one remote command: a client cut
# off meanwhile can neither stop it half-way (it ignores the hang-up) nor leave its temporary link CURRENT.zxs-next
# behind, and a leftover of an older run is removed first. Prints where CURRENT pointed before: "previous TARGET",
# or "previous-none" when it was no symlink.
trap '' HUP PIPE
current=$1 target=$2 next="$1.zxs-next"
if [ -L "$current" ]; then previous="previous $(readlink -- "$current")"; else previous=previous-none; fi
rm -f -- "$next"
if [ "$target" = - ]; then
  rm -f -- "$current"
  status=$?
else
  ln -s -- "$target" "$next" && mv -T -- "$next" "$current"
  status=$?
  rm -f -- "$next"
fi
[ "$status" -eq 0 ] && printf '%s\n' "$previous"
exit "$status"
