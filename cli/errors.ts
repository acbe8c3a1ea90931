import { UsageError } from '../local/args';

/**
 * How the command fails: one line on stderr, no stack trace, and an exit code: 2 for a mistake
 * in how it was called (a UsageError: unknown subcommand or flag, a bad time range, a missing
 * `--reason`), 1 for anything that went wrong while running, 0 otherwise.
 */

export { UsageError };

/** A failure while running, with a message fit for on-call as is (exit 1). */
export class CommandError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandError';
  }
}

/** Exit code of a usage error. */
export const USAGE_EXIT = 2;
/** Exit code of a runtime failure. */
export const FAILURE_EXIT = 1;

/** AWS error names that mean the caller's identity lacks a permission. */
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'UnrecognizedClientException', 'ExpiredTokenException', 'KMSAccessDeniedException']);

/** The error, or the first error in its `cause` chain, that says access was denied. */
function deniedIn(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (DENIED.has(e.name) || (status === 403 && '$metadata' in e)) return e;
  }
  return undefined;
}

/** True for the SDK's "no credentials found" failure. */
function noCredentials(err: unknown): boolean {
  return err instanceof Error && (err.name === 'CredentialsProviderError' || /Could not load credentials/.test(err.message));
}

/**
 * The one line and exit code a failure ends the command with. Never a stack; an AWS error's own
 * message is left out (it may quote a resource or request), only its name is shown.
 */
export function failureOf(err: unknown): { readonly code: number; readonly message: string } {
  if (err instanceof UsageError) return { code: USAGE_EXIT, message: firstLine(err.message) };
  const denied = deniedIn(err);
  if (err instanceof Error && err.name === 'AuditWriteError') {
    const cause = err.cause as { name?: string; code?: string } | undefined;
    const why = denied !== undefined ? `access denied: ${denied.name}` : (cause?.code ?? cause?.name ?? 'unknown');
    return { code: FAILURE_EXIT, message: `${firstLine(err.message)} (${why})` };
  }
  if (denied !== undefined) {
    return { code: FAILURE_EXIT, message: `access denied (${denied.name}): your AWS identity lacks a permission this command needs; attach the stack's hookgate viewer or operator policy (docs/deploy.md)` };
  }
  if (noCredentials(err)) return { code: FAILURE_EXIT, message: 'no AWS credentials found: set AWS_PROFILE or pass --profile (or use --local)' };
  if (err instanceof CommandError) return { code: FAILURE_EXIT, message: firstLine(err.message) };
  const name = err instanceof Error ? err.name : 'Error';
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.name})` : '';
  const message = err instanceof Error ? `${name}: ${firstLine(err.message)}${cause}` : name;
  return { code: FAILURE_EXIT, message };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
