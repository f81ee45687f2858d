// The smallest zx script, for the task-start row of the bench: what `npx zx` costs before any task module loads.
console.log('empty')
