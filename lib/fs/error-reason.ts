// File-system failures in words a user can act on, for messages that already name the path.

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'a parent directory does not exist',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'a parent path is not a directory',
  EEXIST: 'a file is in the way',
}

export function fsErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  return (code && REASONS[code]) || (error instanceof Error ? error.message : String(error))
}
