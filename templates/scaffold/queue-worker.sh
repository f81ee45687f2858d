#!/bin/sh
# Laravel queue worker, run by supervisor.
#
# Use: keep this file in the app at .deployer/supervisors/queue-worker.sh, executable (git records the bit;
# runner.sh refuses a script without it), commit and push it, then add it to a site and sync:
#   npx zx tasks/supervisor-create.mjs --domain example.com --program queue-worker --script queue-worker.sh
#   npx zx tasks/supervisor-sync.mjs --domain example.com
# supervisor starts it through the site's runner.sh, which runs it from the current release's directory with
# the DEPLOYER_* variables exported (DEPLOYER_PHP: the php binary of the site's php_version).
set -eu

# Fail with a message rather than "exec: : not found" when the server has no php binary.
: "${DEPLOYER_PHP:?unset or empty: runner.sh sets it to php<php_version> or php, whichever the server has}"

# exec: php replaces this shell, so supervisor's SIGTERM reaches the worker itself. The worker then finishes the
# job in hand and exits (Laravel needs the pcntl extension for this); supervisor waits stopwaitsecs (default
# 3600) before SIGKILL, so keep every job (and --timeout, default 60) shorter than stopwaitsecs.
# --max-time=3600 matches that stopwaitsecs default: the worker exits after an hour (after its current job) and
# supervisor starts a fresh one, which frees leaked memory. That restart needs autorestart: true (the default),
# not "unexpected": the worker exits with 0.
# --tries=3: attempts per job before it counts as failed. --sleep=3: seconds to wait when the queue is empty.
exec "${DEPLOYER_PHP}" artisan queue:work --sleep=3 --tries=3 --max-time=3600
