// 'zx-supervisor/tasks': every command as a task to run from a pipeline (`run(argv)`, or `call(options)` →
// `{ exitCode, result }`). One task alone loads faster from 'zx-supervisor/tasks/<name>'.
export { deploy } from './deploy.mjs'
export { pipelineExample } from './pipeline-example.mjs'
export { scaffoldSupervisorsTask } from './scaffold-supervisors.mjs'
export { serverLogs } from './server-logs.mjs'
export { supervisorCreate } from './supervisor-create.mjs'
export { supervisorDelete } from './supervisor-delete.mjs'
export { supervisorImport } from './supervisor-import.mjs'
export { supervisorRestart } from './supervisor-restart.mjs'
export { supervisorStart } from './supervisor-start.mjs'
export { supervisorStatus } from './supervisor-status.mjs'
export { supervisorStop } from './supervisor-stop.mjs'
export { supervisorSync } from './supervisor-sync.mjs'
