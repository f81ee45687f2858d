#!/usr/bin/env zx
import { defineControlTask } from '../lib/cli/control-task.ts'
// supervisor-restart: restart supervisord itself (--server), or a site's programs (--domain [--program]).
// The checklist is shared by start, stop and restart: lib/cli/control-task.ts.
import { runIfMain } from '../lib/cli/run-task.ts'

export const supervisorRestart = defineControlTask('restart')

await runIfMain(import.meta.url, supervisorRestart)
