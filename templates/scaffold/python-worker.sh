#!/bin/sh
# Python worker, run by supervisor: replace worker.py with your worker's entry file.
#
# Use: keep this file in the app at .deployer/supervisors/python-worker.sh, executable (git records the bit;
# runner.sh refuses a script without it), commit and push it, then add it to a site and sync:
#   npx zx tasks/supervisor-create.mjs --domain example.com --program python-worker --script python-worker.sh
#   npx zx tasks/supervisor-sync.mjs --domain example.com
# supervisor starts it through the site's runner.sh, which runs it from the current release's directory with
# the DEPLOYER_* variables exported. With a virtualenv, run its interpreter instead: exec .venv/bin/python -u ...
set -eu

# exec: python replaces this shell, so supervisor's SIGTERM reaches python itself. Without a handler python
# exits at once on SIGTERM (no finally blocks, no atexit); to finish the job in hand, in worker.py:
#   signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())   # the job loop checks stopping
# supervisor waits stopwaitsecs (default 3600) before SIGKILL, so keep every job shorter than stopwaitsecs.
# -u: unbuffered output, so each log line reaches the supervisor log when it is printed (python block-buffers
# output that does not go to a terminal).
exec python3 -u worker.py
