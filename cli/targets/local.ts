import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localClients } from '../../local/emulators';
import type { QueuePair } from '../../lib/stack-outputs';
import { createFileAuditLog, localCaller } from '../audit';
import { CommandError } from '../errors';
import type { Target } from '../target';

/**
 * The `--local` target: a running `npm start`, found through the state file it writes on start
 * and removes on exit (`.hookgate/local-<port>.json` under the checkout).
 */

/** The folder of the local state files, relative to the working directory. */
export const LOCAL_STATE_DIR = '.hookgate';

/** What `npm start` writes for the command (version 1). */
export interface LocalState {
  readonly version: 1;
  /** The `npm start` process. */
  readonly pid: number;
  /** Its webhook port and base URL. */
  readonly port: number;
  readonly url: string;
  /** The emulators' endpoints. */
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly s3: string };
  readonly resources: {
    /** The delivery table, when a source has destinations. */
    readonly deliveryTable?: string;
    readonly payloadBucket: string;
    readonly archiveBucket?: string;
    /** Per source in config order: its work queue and DLQ, and its destinations'. */
    readonly sources: readonly (QueuePair & { readonly name: string; readonly destinations?: Readonly<Record<string, QueuePair>> })[];
  };
  /** The audit log file (JSON lines). */
  readonly auditFile: string;
}

/** The state file of the instance on `port`. */
export function localStatePath(port: number, cwd: string = process.cwd()): string {
  return resolve(cwd, join(LOCAL_STATE_DIR, `local-${port}.json`));
}

/** Reads the state file of the instance on `port`; a CommandError when none runs there. */
export async function readLocalState(port: number, cwd?: string): Promise<LocalState> {
  const path = localStatePath(port, cwd);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CommandError(`no local hookgate on port ${port} (${path} not found): run npm start, or pass --port`);
  }
  let state: LocalState;
  try {
    state = JSON.parse(text) as LocalState;
  } catch {
    throw new CommandError(`${path} is not valid JSON`);
  }
  if (state.version !== 1) throw new CommandError(`${path}: unknown state version ${String(state.version)}`);
  return state;
}

/** The target of a local state. */
export function localTarget(state: LocalState): Target {
  const config = localClients(state.endpoints);
  const clients = { dynamodb: new DynamoDBClient(config.dynamodb), sqs: new SQSClient(config.sqs), s3: new S3Client(config.s3) };
  const { resources } = state;
  return {
    kind: 'local',
    label: `local :${state.port}`,
    resources: {
      environment: 'local',
      payloadBucket: resources.payloadBucket,
      ...(resources.deliveryTable === undefined ? {} : { deliveryTable: resources.deliveryTable }),
      ...(resources.archiveBucket === undefined ? {} : { archiveBucket: resources.archiveBucket }),
      sources: resources.sources.map((s) => ({ source: s.name, queueUrl: s.queueUrl, dlqUrl: s.dlqUrl, destinations: s.destinations ?? {} })),
    },
    clients,
    clientConfig: (service) => {
      if (service === 'kms') throw new CommandError('local mode has no KMS endpoint: its envelopes open with the local keyring');
      return { ...config[service] };
    },
    audit: createFileAuditLog(state.auditFile),
    moveTasks: false,
    who: () => Promise.resolve(localCaller()),
    close: () => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      clients.s3.destroy();
    },
  };
}
