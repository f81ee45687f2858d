#!/bin/sh
# read-state.sh TOKEN [pattern GLOB]... [path P]... [script S]... [status 1]
# Prints, in one round trip, what sync compares against: every file matching a discovery pattern whose first two
# lines hold TOKEN (the start of an ownership marker; the caller parses the marker), every listed path that exists
# (mode, owner, group, sha256, base64 content), the listed scripts that are missing, optionally
# `supervisorctl status`, and what `supervisorctl reread` would change (it also proves the config parses).
# Paths, patterns and the marker come from lib/layout.ts; nothing here names a file.
# The whole script is one function called on the last line: sh reads all of it before running any of it, so a
# connection lost while it is being sent cannot leave a half-read script running.
main() {
  set -u
  token=$1
  shift
  nl='
'
  patterns=''
  paths=''
  scripts=''
  with_status=0
  while [ $# -ge 2 ]; do
    case $1 in
      pattern) patterns="$patterns$2$nl" ;;
      path) paths="$paths$2$nl" ;;
      script) scripts="$scripts$2$nl" ;;
      status) with_status=$2 ;;
      *) echo "read-state: unknown argument $1" >&2; exit 64 ;;
    esac
    shift 2
  done

  # emit TAG FILE: TAG is the index of the pattern that found it, or - for a listed path.
  emit() {
    [ -f "$2" ] || return 0
    printf 'FILE\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" $(stat -c '%a %U %G' -- "$2") "$(sha256sum < "$2" | cut -d' ' -f1)" "$2"
    base64 -w0 -- "$2"
    printf '\n'
  }

  index=0
  printf '%s' "$patterns" | while IFS= read -r pattern; do
    # Unquoted on purpose: the pattern is a glob; the validated paths it expands to hold no spaces.
    for f in $pattern; do
      head -n 2 -- "$f" 2>/dev/null | grep -q -F -e "$token" && emit "$index" "$f"
    done
    index=$((index + 1))
  done

  printf '%s' "$paths" | while IFS= read -r p; do emit - "$p"; done
  printf '%s' "$scripts" | while IFS= read -r s; do [ -f "$s" ] || printf 'MISSING\t%s\n' "$s"; done

  if [ "$with_status" = 1 ]; then
    out=$(LC_ALL=C supervisorctl status 2>&1)
    printf 'STATUS\t%s\n%s\n' "$?" "$out"
  fi

  out=$(LC_ALL=C supervisorctl reread 2>&1)
  printf 'REREAD\t%s\n%s\n' "$?" "$out"
}

main "$@"
