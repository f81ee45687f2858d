// 'zx-supervisor/cli': the terminal side of a task, for a team's own or ejected checklists: the task frame (flags,
// output, one SSH session, exit codes), the questions asked at a terminal, the reports and the progress line.
export * from './ask.ts'
export * from './control-task.ts'
export * from './deploy-report.ts'
export * from './flags.ts'
export * from './logs-report.ts'
export * from './output.ts'
export * from './program-answers.ts'
export * from './progress.ts'
export * from './prompt.ts'
export * from './run-task.ts'
export * from './status-report.ts'
export * from './sync-report.ts'
