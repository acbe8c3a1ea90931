import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NamedDestination } from '../lambda/config/destinations';
import type { Endpoints, LocalQueues } from './endpoints';
import { createLocalKms, type LocalKms } from './kms';

/**
 * The state file of a running `npm start`: everything another process (the `hookgate --local`
 * command) needs to reach that run's emulators and resources, and to open its envelopes. Written
 * when the run is ready as `.hookgate/local-<port>.json` (mode 0600), removed when it stops. The
 * run's local KMS key is in a file of its own next to it (mode 0600), named by `keyFile`.
 * Local development only: the key and the queues hold nothing but local test data.
 */

/** The folder of state files, relative to the working directory of `npm start`. */
export const LOCAL_STATE_DIR = '.hookgate';

/** A destination's queues in the state file. */
export interface LocalStateDestination extends LocalQueues {
  readonly type: NamedDestination['type'];
  /** Its event filter (`events` of the config); absent: every event. */
  readonly events?: readonly string[];
}

/** A source's queues in the state file. */
export interface LocalStateSource extends LocalQueues {
  /** Its destinations by name (empty: the source runs its handlers). */
  readonly destinations: Readonly<Record<string, LocalStateDestination>>;
}

/** The content of `.hookgate/local-<port>.json` (version 1). */
export interface LocalState {
  readonly version: 1;
  /** The `npm start` process. */
  readonly pid: number;
  readonly port: number;
  /** The local API's base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The config file the run loaded, when known. */
  readonly config?: string;
  /** Emulator endpoints (dynalite; fauxqs serves SQS and S3). */
  readonly endpoints: Endpoints;
  readonly region: string;
  readonly resources: {
    readonly dedupeTable: string;
    /** The delivery table (circuit state, delivery history); absent when no source has destinations. */
    readonly deliveryTable?: string;
    readonly bucket: string;
    /** The archive bucket (lambda/archive); absent in a state file of a run from before the archive. */
    readonly archiveBucket?: string;
    readonly sources: Readonly<Record<string, LocalStateSource>>;
  };
  /** Where the command appends its audit lines for this run (relative to the working directory). */
  readonly auditFile: string;
  /** The local KMS key file (relative to the working directory), when the run's key is shared. */
  readonly keyFile?: string;
}

/** The content of the key file: the local KMS key, base64, and its key id. */
export interface LocalKeyFile {
  readonly keyId: string;
  /** 32 bytes, base64. */
  readonly key: string;
}

/** The state file of the run on `port`: `<dir>/local-<port>.json`. */
export function localStatePath(port: number, dir: string = LOCAL_STATE_DIR): string {
  return join(dir, `local-${port}.json`);
}

/** The key file of the run on `port`: `<dir>/kms-<port>.json`. */
export function localKeyPath(port: number, dir: string = LOCAL_STATE_DIR): string {
  return join(dir, `kms-${port}.json`);
}

/** The audit file of the run on `port`: `<dir>/audit-<port>.jsonl`. */
export function localAuditPath(port: number, dir: string = LOCAL_STATE_DIR): string {
  return join(dir, `audit-${port}.jsonl`);
}

/** A fresh local KMS whose key can be written to a key file ({@link writeLocalKeyFile}). */
export function createSharedLocalKms(): { readonly kms: LocalKms; readonly keyFile: LocalKeyFile } {
  const key = randomBytes(32);
  const kms = createLocalKms({ key });
  return { kms, keyFile: { keyId: kms.keyId, key: key.toString('base64') } };
}

/** Writes a file readable by its owner only (0600), creating its folder (0700). */
function writePrivate(file: string, content: string): void {
  mkdirSync(resolve(file, '..'), { recursive: true, mode: 0o700 });
  // mode applies on creation; a leftover file of an earlier run is replaced, so remove it first.
  rmSync(file, { force: true });
  writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
}

/** Writes the key file (0600). */
export function writeLocalKeyFile(file: string, keyFile: LocalKeyFile): void {
  writePrivate(file, `${JSON.stringify(keyFile)}\n`);
}

/** Writes the state file (0600). */
export function writeLocalState(file: string, state: LocalState): void {
  writePrivate(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** Thrown when a state or key file is missing or not what this version writes. */
export class LocalStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStateError';
  }
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new LocalStateError(`no ${what} at ${file}: is npm start running (on that port, from this folder)?`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new LocalStateError(`${file} is not a ${what}`);
}

/** Reads a state file; throws LocalStateError when it is missing or of another version. */
export function readLocalState(file: string): LocalState {
  const state = readJson(file, 'local state file');
  if (state.version !== 1 || typeof state.port !== 'number' || typeof state.endpoints !== 'object' || typeof state.resources !== 'object') {
    throw new LocalStateError(`${file} is not a version 1 local state file`);
  }
  return state as unknown as LocalState;
}

/** The run's local KMS, from its key file; throws LocalStateError when the state names none or it is unreadable. */
export function localKmsOf(state: LocalState, cwd: string = process.cwd()): LocalKms {
  if (state.keyFile === undefined) throw new LocalStateError('this local run does not share its KMS key (no keyFile)');
  const { keyId, key } = readJson(resolve(cwd, state.keyFile), 'local KMS key file');
  const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.alloc(0);
  if (typeof keyId !== 'string' || bytes.length !== 32) throw new LocalStateError(`${state.keyFile} is not a local KMS key file`);
  return createLocalKms({ key: bytes, keyId });
}

/** Removes the state and key files (missing ones are fine). */
export function removeLocalState(files: readonly string[]): void {
  for (const file of files) rmSync(file, { force: true });
}
