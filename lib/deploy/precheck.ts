import type { Connection } from '../remote/connection.ts'
import type { DesiredState } from '../sync/desired.ts'
import { syncServer } from '../sync/sync-server.ts'

// A deploy syncs the programs only after the switch, where a refusal means a rollback. A program supervisor-import
// brought in (imported_from) is the one refusal known to be likely: its original may still be on the server, which
// the sync refuses without --adopt. Such a server is planned first (a dry run: one read, nothing changed), so it is
// refused before the upload, naming the file and the --adopt that takes it over.

export async function refuseBeforeUpload(
  connection: Connection,
  desired: DesiredState,
  options: { adopt: boolean; lockWaitSeconds: number },
): Promise<void> {
  if (!desired.programs.some((p) => p.importedFrom)) return
  await syncServer(connection, desired, { ...options, dryRun: true })
}
