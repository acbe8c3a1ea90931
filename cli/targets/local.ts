import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { localClients } from '../../local/endpoints';
import { localKeyring } from '../../local/kms';
import { localKmsOf, type LocalState, LocalStateError, localStatePath as stateFileOf, readLocalState as readStateFile } from '../../local/state';
import { createFileAuditLog, localCaller } from '../audit';
import { CommandError } from '../errors';
import type { Target } from '../target';

/**
 * The `--local` target: a running `npm start`, found through the state file it writes on start
 * and removes on exit (`.hookgate/local-<port>.json` under the checkout).
 */

export type { LocalState } from '../../local/state';

/** The state file of the instance on `port`, under `cwd` (where `npm start` runs). */
export function localStatePath(port: number, cwd: string = process.cwd()): string {
  return resolve(cwd, stateFileOf(port));
}

/** Reads the state file of the instance on `port`; a CommandError when none runs there. */
export async function readLocalState(port: number, cwd: string = process.cwd()): Promise<LocalState & { readonly cwd: string }> {
  const path = localStatePath(port, cwd);
  try {
    await access(path);
  } catch {
    throw new CommandError(`no local hookgate on port ${port} (${path} not found): run npm start, or pass --port`);
  }
  try {
    return { ...readStateFile(path), cwd };
  } catch (err) {
    throw new CommandError(err instanceof LocalStateError ? err.message : `${path} is not a local state file`);
  }
}

/** The target of a local state. */
export function localTarget(state: LocalState & { readonly cwd?: string }): Target {
  const config = localClients(state.endpoints);
  const clients = { dynamodb: new DynamoDBClient(config.dynamodb), sqs: new SQSClient(config.sqs), s3: new S3Client(config.s3) };
  const { resources } = state;
  return {
    kind: 'local',
    label: `local :${state.port}`,
    resources: {
      environment: 'local',
      payloadBucket: resources.bucket,
      ...(resources.archiveBucket === undefined ? {} : { archiveBucket: resources.archiveBucket }),
      ...(resources.deliveryTable === undefined ? {} : { deliveryTable: resources.deliveryTable }),
      sources: Object.entries(resources.sources).map(([name, s]) => ({
        source: name,
        queueUrl: s.queueUrl,
        dlqUrl: s.dlqUrl,
        destinations: Object.fromEntries(Object.entries(s.destinations).map(([d, q]) => [d, { queueUrl: q.queueUrl, dlqUrl: q.dlqUrl, ...(q.events === undefined ? {} : { events: q.events }) }])),
      })),
    },
    clients,
    clientConfig: (service) => {
      if (service === 'kms') throw new CommandError('local mode has no KMS endpoint: its envelopes open with the local keyring');
      return { ...config[service] };
    },
    envelope: () => {
      try {
        return Promise.resolve(createEnvelope(localKeyring(localKmsOf(state, state.cwd ?? process.cwd()))));
      } catch (err) {
        return Promise.reject(err instanceof LocalStateError ? new CommandError(err.message) : err);
      }
    },
    audit: createFileAuditLog(resolve(state.cwd ?? process.cwd(), state.auditFile)),
    moveTasks: false,
    who: () => Promise.resolve(localCaller()),
    close: () => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      clients.s3.destroy();
    },
  };
}
