#!/bin/sh
# Node.js worker, run by supervisor: replace worker.js with your worker's entry file.
#
# Use: keep this file in the app at .deployer/supervisors/node-worker.sh, executable (git records the bit;
# runner.sh refuses a script without it), commit and push it, then add it to a site and sync:
#   npx zx tasks/supervisor-create.mjs --domain example.com --program node-worker --script node-worker.sh
#   npx zx tasks/supervisor-sync.mjs --domain example.com
# supervisor starts it through the site's runner.sh, which runs it from the current release's directory with
# the DEPLOYER_* variables exported. node must be on supervisord's PATH; otherwise write its full path here
# (nvm and similar install it under a user's home).
set -eu

# exec: node replaces this shell, so supervisor's SIGTERM reaches node itself. Start node directly, not through
# `npm start`, which would stand between supervisor and node. Without a handler node exits at once on SIGTERM,
# in the middle of a job; to finish the job in hand, stop taking new ones and exit when done, in worker.js:
#   process.on('SIGTERM', () => { stopping = true })   // the job loop exits once the current job is done
# supervisor waits stopwaitsecs (default 3600) before SIGKILL, so keep every job shorter than stopwaitsecs.
exec node worker.js
