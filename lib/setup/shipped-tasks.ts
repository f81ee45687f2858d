// The task scripts the package ships (tasks/<name>.mjs) and the name each exports its task under.

export interface ShippedTask {
  name: string
  /** The export of tasks/<name>.mjs that holds the task. */
  exportName: string
  /** init writes a short script for it (the commands); the others (examples) are only ejected. */
  command: boolean
}

export const SHIPPED_TASKS: readonly ShippedTask[] = [
  { name: 'supervisor-create', exportName: 'supervisorCreate', command: true },
  { name: 'supervisor-sync', exportName: 'supervisorSync', command: true },
  { name: 'supervisor-status', exportName: 'supervisorStatus', command: true },
  { name: 'supervisor-start', exportName: 'supervisorStart', command: true },
  { name: 'supervisor-stop', exportName: 'supervisorStop', command: true },
  { name: 'supervisor-restart', exportName: 'supervisorRestart', command: true },
  { name: 'supervisor-delete', exportName: 'supervisorDelete', command: true },
  { name: 'supervisor-import', exportName: 'supervisorImport', command: true },
  { name: 'server-logs', exportName: 'serverLogs', command: true },
  { name: 'scaffold-supervisors', exportName: 'scaffoldSupervisorsTask', command: true },
  { name: 'supervisor-dashboard', exportName: 'supervisorDashboard', command: true },
  { name: 'deploy', exportName: 'deploy', command: true },
  { name: 'pipeline-example', exportName: 'pipelineExample', command: false },
]

/** The short script init writes for a command: it runs the package's task, so upgrades of the package reach it. */
export function shortTaskScript({ name, exportName }: ShippedTask): string {
  return [
    '#!/usr/bin/env zx',
    '// @ts-check',
    `// zx-supervisor's ${name} task, upgraded with the package. To change its steps: npx zx-supervisor eject ${name}`,
    "import { runIfMain } from 'zx-supervisor/cli'",
    `import { ${exportName} } from 'zx-supervisor/tasks/${name}'`,
    '',
    `await runIfMain(import.meta.url, ${exportName})`,
    '',
  ].join('\n')
}
