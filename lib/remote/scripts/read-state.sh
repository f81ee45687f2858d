#!/bin/sh
# read-state.sh [domain D]... [path P]... [script S]... [status 1]
# Prints, in one round trip, what sync compares against: every file whose zx-supervisor marker names one of the
# domains, every listed path that exists (mode, owner, group, base64 content), the listed scripts that are missing,
# optionally `supervisorctl status`, and what `supervisorctl reread` would change (it also proves conf.d parses before anything is touched).
# The whole script is one function called on the last line: sh reads all of it before running any of it, so a
# connection lost while it is being sent cannot leave a half-read script running.
main() {
  set -u
  domains=' '
  nl='
'
  paths=''
  scripts=''
  with_status=0
  while [ $# -ge 2 ]; do
    case $1 in
      domain) domains="$domains$2 " ;;
      path) paths="$paths$2$nl" ;;
      script) scripts="$scripts$2$nl" ;;
      status) with_status=$2 ;;
      *) echo "read-state: unknown argument $1" >&2; exit 64 ;;
    esac
    shift 2
  done

  emit() {
    [ -f "$1" ] || return 0
    printf 'FILE\t%s\t%s\t%s\t%s\t%s\n' $(stat -c '%a %U %G' -- "$1") "$(sha256sum < "$1" | cut -d' ' -f1)" "$1"
    base64 -w0 -- "$1"
    printf '\n'
  }

  for f in /etc/supervisor/conf.d/*.conf /etc/logrotate.d/supervisor-*.conf; do
    [ -f "$f" ] || continue
    site=$(head -n 1 -- "$f" 2>/dev/null | sed -n 's/^[;#] zx-supervisor site=\([^ ]*\) program=.*/\1/p')
    case $domains in *" $site "*) [ -n "$site" ] && emit "$f" ;; esac
  done

  printf '%s' "$paths" | while IFS= read -r p; do emit "$p"; done
  printf '%s' "$scripts" | while IFS= read -r s; do [ -f "$s" ] || printf 'MISSING\t%s\n' "$s"; done

  if [ "$with_status" = 1 ]; then
    out=$(LC_ALL=C supervisorctl status 2>&1)
    printf 'STATUS\t%s\n%s\n' "$?" "$out"
  fi

  out=$(LC_ALL=C supervisorctl reread 2>&1)
  printf 'REREAD\t%s\n%s\n' "$?" "$out"
}

main "$@"
