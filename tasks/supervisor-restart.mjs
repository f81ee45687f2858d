#!/usr/bin/env zx
// supervisor-restart: restart supervisord itself (--server), or a site's programs (--domain [--program]).
// The checklist is shared by start, stop and restart: lib/cli/control-task.ts.
import { defineControlTask, runIfMain } from 'zx-supervisor/cli'

export const supervisorRestart = defineControlTask('restart')

await runIfMain(import.meta.url, supervisorRestart)
