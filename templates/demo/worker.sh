#!/bin/sh
# The demo's worker: what a queue worker does, in miniature. supervisor runs it through runner.sh, which
# exports the DEPLOYER_* variables and execs this script, so supervisor's SIGTERM reaches it directly.
trap 'echo "[$SUPERVISOR_PROCESS_NAME] SIGTERM received, finishing the current job and exiting"; exit 0' TERM
echo "[$SUPERVISOR_PROCESS_NAME] started in $DEPLOYER_RELEASE_PATH (site $DEPLOYER_DOMAIN, user $(id -un))"
job=0
while :; do
  job=$((job + 1))
  echo "[$SUPERVISOR_PROCESS_NAME] processed job $job"
  sleep 2
done
