/** An error a person can act on: the CLI prints its message as one line and exits non-zero, with no stack. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Node's fs errors carry a code; turn the common ones into one readable line. */
export function describeFsError(err: unknown, path: string): UserError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new UserError(`${path}: no such file or directory`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${path}: permission denied`);
  if (code === 'EISDIR') return new UserError(`${path}: is a directory, expected a file`);
  if (code === 'ENOTDIR') return new UserError(`${path}: not a directory`);
  if (code === 'ENOSPC') return new UserError(`${path}: no space left on device`);
  return undefined;
}
