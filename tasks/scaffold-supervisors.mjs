#!/usr/bin/env zx
// scaffold-supervisors: write example worker scripts into <destination>/.deployer/supervisors/ (no inventory, no server).
import path from 'node:path'
import { InputError, projectTemplatesDir, resolveDestination, scaffoldSupervisors } from 'zx-supervisor'
import { defineTask, promptAsk, runIfMain } from 'zx-supervisor/cli'

export const scaffoldSupervisorsTask = defineTask(
  {
    name: 'scaffold-supervisors',
    summary: 'write example supervisor scripts (Laravel, Symfony, Node, Python) into an app',
    usage: '[--destination PATH] [--json]',
    flags: [
      {
        name: 'destination',
        type: 'string',
        placeholder: 'PATH',
        description: "the app's root folder; ~ is your home (prompted on a terminal; default: the current directory)",
      },
    ],
    common: ['json', 'verbose', 'quiet'],
    examples: [
      'npx zx tasks/scaffold-supervisors.mjs',
      'npx zx tasks/scaffold-supervisors.mjs --destination ~/code/app',
      'npx zx tasks/scaffold-supervisors.mjs --destination ../app --json',
    ],
    notes: [
      'Existing files (or links) are never overwritten: they are skipped. The scripts are written executable (0755).',
    ],
  },
  async ({ flags, output, interactive }) => {
    const destination =
      flags.destination !== undefined || !interactive
        ? resolveDestination(flags.destination ?? process.cwd())
        : await promptAsk('Destination directory:', destinationVerdict, process.cwd())
    const { files } = await scaffoldSupervisors({
      destination,
      templatesDir: path.join(projectTemplatesDir(), 'scaffold'),
    })

    output.info(`Destination: ${destination}`)
    for (const file of files)
      output.info(
        `${file.status}  ${path.relative(destination, file.path)}${file.status === 'skipped' ? '  (exists, left unchanged)' : ''}`,
      )
    const example = files.find((f) => f.status === 'created') ?? files[0]
    output.info('Next: delete the scripts you do not need and adapt the others, commit and push them (git keeps the')
    output.info('executable bit runner.sh needs), then add each to a site:')
    if (example)
      output.info(
        `  npx zx tasks/supervisor-create.mjs --domain DOMAIN --program ${path.basename(example.name, path.extname(example.name))} --script ${example.name}`,
      )
    output.json({ ok: true, destination, files })
  },
)

/** A typed destination, asked again when it cannot be one. @param {string} answer @returns {import('zx-supervisor/cli').Verdict<string>} */
function destinationVerdict(answer) {
  try {
    return { ok: true, value: resolveDestination(answer) }
  } catch (error) {
    const problem = error instanceof InputError ? error.problems[0] : undefined
    if (!problem) throw error
    return { ok: false, allowed: problem.allowed, ...(problem.hint ? { hint: problem.hint } : {}) }
  }
}

await runIfMain(import.meta.url, scaffoldSupervisorsTask)
