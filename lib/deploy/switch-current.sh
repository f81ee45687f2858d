# switch-current.sh CURRENT TARGET|- [PYTHON_SOURCE AUDIT_ENTRY]
#   (run as `sh -c "$(cat switch-current.sh)" switch-current CURRENT TARGET ...`)
# Points the symlink CURRENT at TARGET with one rename (or removes it, for -), as one remote command: a client cut
# off meanwhile can neither stop it half-way (it ignores the hang-up) nor leave its temporary link CURRENT.zxs-next
# behind, and a leftover of an older run is removed first. Prints where CURRENT pointed before: "previous TARGET",
# or "previous-none" when it was no symlink. With PYTHON_SOURCE (lib/supervisor/supervisor.py) and AUDIT_ENTRY
# (lib/audit.ts), the switch appends its line to the audit trail right after it, as root (sudo -n for another login):
# the line is there even if the client is gone by then. A trail that cannot be written never fails the switch.
trap '' HUP PIPE
current=$1 target=$2 next="$1.zxs-next" python_source=${3:-} audit=${4:-}
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
if [ -n "$audit" ] && [ -n "$python_source" ]; then
  if [ "$status" -eq 0 ]; then result=ok reason=''; else result=failed reason="cannot point $current at $target"; fi
  if [ "$(id -u)" -eq 0 ]; then sudo=''; else sudo='sudo -n --'; fi
  # shellcheck disable=SC2086
  $sudo env LC_ALL=C python3 -I -c "$python_source" audit-append --entry "$audit" --result "$result" --reason "$reason" >/dev/null 2>&1 || true
fi
[ "$status" -eq 0 ] && printf '%s\n' "$previous"
exit "$status"
