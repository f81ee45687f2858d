#!/bin/sh
# Symfony Messenger consumer, run by supervisor.
#
# Use: keep this file in the app at .deployer/supervisors/messenger.sh, executable (git records the bit;
# runner.sh refuses a script without it), commit and push it, then add it to a site and sync:
#   npx zx tasks/supervisor-create.mjs --domain example.com --program messenger --script messenger.sh
#   npx zx tasks/supervisor-sync.mjs --domain example.com
# supervisor starts it through the site's runner.sh, which runs it from the current release's directory with
# the DEPLOYER_* variables exported (DEPLOYER_PHP: the php binary of the site's php_version).
# "async" is the transport to consume: name yours (several are allowed: async high low).
set -eu

# Fail with a message rather than "exec: : not found" when the server has no php binary.
: "${DEPLOYER_PHP:?unset or empty: runner.sh sets it to php<php_version> or php, whichever the server has}"

# exec: php replaces this shell, so supervisor's SIGTERM reaches the worker itself. The worker then finishes the
# message in hand and exits (Symfony needs the pcntl extension for this); supervisor waits stopwaitsecs (default
# 3600) before SIGKILL, so keep every message handler shorter than stopwaitsecs.
# --time-limit=3600 matches that stopwaitsecs default: the worker exits after an hour (after its current message)
# and supervisor starts a fresh one, which frees leaked memory. That restart needs autorestart: true (the
# default), not "unexpected": the worker exits with 0.
exec "${DEPLOYER_PHP}" bin/console messenger:consume async --time-limit=3600
