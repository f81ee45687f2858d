#!/bin/sh
# activate.sh STAGE LOCK_WAIT LOCK_FILE STAGE_PREFIX LOGIN TOKEN DIR_RECORD PYTHON_SOURCE [pyopt OPTION]...
#             [audit ENTRY] [pattern GLOB]... [expect PATH SHA256|-]... [dir PATH OWNER GROUP MODE]...
#             [ourdir PATH OWNER GROUP MODE]... [keep PATH COPY OWNER GROUP MODE]...
#             [put STAGED DEST OWNER GROUP MODE]... [remove DEST]... [serverfile DEST OWNER GROUP MODE CONTENT]...
#             [prune PATH]...
#             [log PATH OWNER GROUP MODE]... [group NAME]...
# All-or-nothing activation on one server, under a server-wide lock: check that the config parses, back up what will
# be replaced, move the staged files in, let supervisor's own parser (reread) judge the result, and restore
# everything if it rejects it. The lock covers only that: it is released before the groups that changed are updated
# (supervisor.py apply, one group lock each), because an update waits for programs to stop, up to their
# stopwaitsecs. The plan was made from a read outside the lock, so first it checks (under the lock) that every
# marked file (TOKEN in its first two lines, found by the patterns) and every expected path is still what was read;
# if another sync changed one meanwhile it stops with STALE and the caller plans again. Paths, patterns and the
# marker come from lib/layout.ts; supervisor is asked through PYTHON_SOURCE (lib/supervisor/supervisor.py).
# The contract's own directories (ourdir) are created when missing and listed in DIR_RECORD; prune removes one only
# when it is listed there and empty. Both, and the record, are undone with the files when supervisor rejects.
# It runs detached from the SSH session (lib/remote/detached.sh): its output goes to a file the client follows, so
# a dropped connection or a torn-down login session cannot stop it half-way, and nothing it writes can block.
# With `audit ENTRY` (lib/audit.ts), an activation that changed something, or tried and rolled back, appends one line
# to the server's audit trail when it ends (supervisor.py audit-append); one that stops before any change writes none.
# The whole script is one function called on the last line: a script cut short cannot run half.
main() {
  set -u
  # Nothing may stop this half-way: it either finishes or rolls back.
  trap '' HUP PIPE
  stage=$1 lock_wait=$2 lock_file=$3 stage_prefix=$4 login=$5 token=$6 dir_record=$7 python_source=$8
  shift 8
  journal="$stage/.journal"
  backup="$stage/.backup"
  say() { printf '%s\n' "$*" 2>/dev/null || true; }
  pyopts=''
  while [ "${1:-}" = pyopt ]; do pyopts="$pyopts $2"; shift 2; done
  audit=''
  if [ "${1:-}" = audit ]; then audit=$2; shift 2; fi
  # shellcheck disable=SC2086
  supervisor() { LC_ALL=C python3 -I -c "$python_source" "$@" $pyopts 2>&1; }
  # The audit line of this activation: RESULT REASON. Never fails the activation.
  record() {
    [ -n "$audit" ] || return 0
    LC_ALL=C python3 -I -c "$python_source" audit-append --entry "$audit" --result "$1" --reason "$2" >/dev/null 2>&1 || true
  }

  case $stage in "$stage_prefix"*) ;; *) say "BAD-STAGE $stage"; exit 64 ;; esac
  # The uploader removes the directory when its session ends; it waits for this lock, so it cannot pull the files
  # away mid-activation. Checked after the lock: a directory already removed means the uploader is gone.
  exec 7>> "$stage/.active" 2>/dev/null || { say "BAD-STAGE $stage"; exit 64; }
  flock 7
  if [ -L "$stage" ] || [ ! -d "$stage" ]; then say "BAD-STAGE $stage"; exit 64; fi
  trap 'rm -rf -- "$stage"' EXIT

  exec 9>"$lock_file" || { say "LOCK-FAILED"; exit 75; }
  flock -w "$lock_wait" 9 || { say "LOCK-TIMEOUT $lock_wait"; exit 75; }

  # Staging dirs of this login whose uploader is gone (killed, lost connection) hold rendered files: remove them.
  for old in "$stage_prefix"*; do
    [ -d "$old" ] && [ "$old" != "$stage" ] && [ "$(stat -c %U -- "$old")" = "$login" ] || continue
    flock -n "$old/.lock" true 2>/dev/null && rm -rf -- "$old"
  done

  # Separate the expectations from the changes, then check them before touching anything.
  patterns=''
  expected=''
  while [ $# -gt 0 ]; do
    case $1 in
      pattern) patterns="$patterns $2"; shift 2 ;;
      expect)
        expected="$expected$2
"
        if [ -f "$2" ]; then actual=$(sha256sum < "$2" | cut -d' ' -f1); else actual=-; fi
        [ "$actual" = "$3" ] || { say "STALE $2"; exit 76; }
        shift 3 ;;
      *) break ;;
    esac
  done
  # Unquoted on purpose: each pattern is a glob.
  for f in $patterns; do
    [ -f "$f" ] || continue
    head -n 2 -- "$f" 2>/dev/null | grep -q -F -e "$token" || continue
    printf '%s' "$expected" | grep -q -F -x -e "$f" || { say "STALE $f"; exit 76; }
  done

  out=$(supervisor reread)
  rc=$?
  if [ $rc -eq 3 ]; then say "UNREACHABLE"; say "$out"; exit 69; fi
  if [ $rc -ne 0 ]; then say "PRECHECK-FAILED $rc"; say "$out"; exit 65; fi

  mkdir -m 0700 "$backup" && : > "$journal" || { say "WRITE-FAILED $backup"; exit 68; }

  restore() {
    # Undo in reverse order: put back what was there, delete what was not.
    tac "$journal" | while read -r op n target; do
      case $op in
        restore) mv -f -- "$backup/$n" "$target" ;;
        delete) rm -f -- "$target" ;;
        rmdir) rmdir -- "$target" ;;
        rmtree) rm -rf -- "$target" ;;
        mkdir)
          read -r owner mode < "$backup/$n"
          mkdir -- "$target" && chown "$owner" -- "$target" && chmod "$mode" -- "$target" ;;
      esac
    done
  }

  # The record of directories we created is backed up once, before its first change, so a rollback restores it.
  record_saved=''
  save_record() {
    [ -n "$record_saved" ] && return 0
    record_saved=1
    if [ -e "$dir_record" ]; then
      cp -p -- "$dir_record" "$backup/record" && printf 'restore record %s\n' "$dir_record" >> "$journal"
    else
      [ -d "${dir_record%/*}" ] || printf 'rmdir record-dir %s\n' "${dir_record%/*}" >> "$journal"
      printf 'delete record %s\n' "$dir_record" >> "$journal"
      (umask 077 && mkdir -p -- "${dir_record%/*}")
    fi
  }
  recorded() { [ -f "$dir_record" ] && grep -q -F -x -e "$1" -- "$dir_record"; }

  fail() { say "$1"; restore; record failed "$1; the previous files were restored"; exit "$2"; }

  n=0
  groups=''
  while [ $# -gt 0 ]; do
    n=$((n + 1))
    case $1 in
      dir)
        if [ ! -d "$2" ]; then
          printf 'rmdir %s %s\n' "$n" "$2" >> "$journal"
          install -d -o "$3" -g "$4" -m "$5" -- "$2" 2>&1 || fail "WRITE-FAILED $2" 68
        fi
        shift 5 ;;
      ourdir)
        if [ ! -d "$2" ]; then
          save_record || fail "WRITE-FAILED $dir_record" 68
          printf 'rmdir %s %s\n' "$n" "$2" >> "$journal"
          mkdir -- "$2" && chown "$3:$4" -- "$2" && chmod "$5" -- "$2" || fail "WRITE-FAILED $2" 68
          recorded "$2" || (umask 077 && printf '%s\n' "$2" >> "$dir_record") || fail "WRITE-FAILED $dir_record" 68
        fi
        shift 5 ;;
      prune)
        # Only a directory an activation created, once nothing is left in it (ours or anyone's: rmdir refuses then).
        if [ -d "$2" ] && [ ! -L "$2" ] && recorded "$2"; then
          save_record || fail "WRITE-FAILED $dir_record" 68
          stat -c '%U:%G %a' -- "$2" > "$backup/$n" || fail "WRITE-FAILED $2" 68
          if rmdir -- "$2" 2>/dev/null; then
            printf 'mkdir %s %s\n' "$n" "$2" >> "$journal"
            { grep -v -F -x -e "$2" -- "$dir_record" || true; } > "$dir_record.zxs-new" \
              && mv -f -- "$dir_record.zxs-new" "$dir_record" || fail "WRITE-FAILED $dir_record" 68
          fi
        fi
        shift 2 ;;
      keep)
        # An adopted file's original stays on the server (the migration can be undone); a rollback removes the copy.
        top=${3%/*}
        while [ -n "${top%/*}" ] && [ ! -d "${top%/*}" ]; do top=${top%/*}; done
        [ -d "$top" ] || printf 'rmtree %s %s\n' "$n" "$top" >> "$journal"
        (umask 077 && mkdir -p -- "${3%/*}" && cp -- "$2" "$3") && chown "$4:$5" -- "$3" && chmod "$6" -- "$3" || fail "WRITE-FAILED $3" 68
        shift 6 ;;
      put)
        if [ -e "$3" ]; then
          cp -p -- "$3" "$backup/$n" && printf 'restore %s %s\n' "$n" "$3" >> "$journal" || fail "WRITE-FAILED $3" 68
        else
          printf 'delete %s %s\n' "$n" "$3" >> "$journal"
        fi
        install -o "$4" -g "$5" -m "$6" -- "$stage/$2" "$3.zxs-new" 2>&1 && mv -f -- "$3.zxs-new" "$3" || { rm -f -- "$3.zxs-new"; fail "WRITE-FAILED $3" 68; }
        shift 6 ;;
      remove)
        if [ -e "$2" ]; then
          cp -p -- "$2" "$backup/$n" && printf 'restore %s %s\n' "$n" "$2" >> "$journal" || fail "WRITE-FAILED $2" 68
          rm -f -- "$2" || fail "WRITE-FAILED $2" 68
        fi
        shift 2 ;;
      serverfile)
        # A server-wide file (lib/layout.ts SERVER_FILES): written when missing, where its directory exists; never
        # rewritten once there (whoever edited it meant it). A rollback removes it with the rest.
        if [ ! -e "$2" ] && [ ! -L "$2" ] && [ -d "${2%/*}" ]; then
          printf 'delete %s %s\n' "$n" "$2" >> "$journal"
          (umask 077 && printf '%s' "$6" > "$2.zxs-new") && chown "$3:$4" -- "$2.zxs-new" && chmod "$5" -- "$2.zxs-new" \
            && mv -f -- "$2.zxs-new" "$2" || { rm -f -- "$2.zxs-new"; fail "WRITE-FAILED $2" 68; }
        fi
        shift 6 ;;
      log)
        # Program logs: root's and not world-readable before the program first writes (supervisor keeps the mode).
        if [ -e "$2" ]; then chown "$3:$4" -- "$2" && chmod "$5" -- "$2"; else install -o "$3" -g "$4" -m "$5" /dev/null "$2"; fi || fail "WRITE-FAILED $2" 68
        shift 5 ;;
      group) groups="$groups $2"; shift 2 ;;
      *) fail "BAD-ARGUMENT $1" 64 ;;
    esac
  done

  out=$(supervisor reread)
  rc=$?
  if [ $rc -ne 0 ]; then
    say "REJECTED $rc"; say "$out"; restore
    # supervisor's own message is left out of the trail: it can quote a value of the rejected file.
    record failed "supervisor rejected the new configuration; the previous files were restored"
    exit 66
  fi
  say "APPLIED"

  # The files are in place and supervisor accepts them: the lock is not held while programs stop and start.
  rm -rf -- "$stage"
  trap - EXIT
  exec 7>&- 9>&-
  if [ -z "$groups" ]; then record ok ''; exit 0; fi
  # shellcheck disable=SC2086
  env LC_ALL=C python3 -I -c "$python_source" apply --lock "$lock_file" --lock_wait "$lock_wait" $(for g in $groups; do printf ' --group %s' "$g"; done) $pyopts
  rc=$?
  if [ $rc -eq 0 ]; then record ok ''; else record failed "the new files are in place but updating supervisor failed (exit $rc)"; fi
  exit $rc
}

main "$@"
