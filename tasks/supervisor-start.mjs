#!/usr/bin/env zx
// supervisor-start: start supervisord itself (--server), or a site's programs (--domain [--program]).
// The checklist is shared by start, stop and restart: lib/cli/control-task.ts.
import { defineControlTask, runIfMain } from 'zx-supervisor/cli'

export const supervisorStart = defineControlTask('start')

await runIfMain(import.meta.url, supervisorStart)
