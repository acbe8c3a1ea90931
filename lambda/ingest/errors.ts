/**
 * Errors of the ingest domain (dedupe, envelope, queue, payload store, secrets, message format).
 *
 * One base class so the HTTP mapping and the processor can tell "ours, known" from anything else.
 * Messages are fixed strings written here: they never carry payload bytes, secrets or the text of
 * the underlying error (an SDK error message may echo request content). The underlying error
 * travels in `cause` for debugging in a process, and is never logged as a whole by hookgate.
 */
export class IngestError extends Error {
  /** Short, stable code, safe to log and to put in a metric or a response. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The dedupe table could not be read or written (DynamoDB unavailable, throttled, denied). */
export class DedupeStoreError extends IngestError {
  constructor(options?: { cause?: unknown }) {
    super('dedupe_store', 'the dedupe table could not be used', options);
  }
}

/** The body could not be sealed or opened because KMS (or the local key) failed. */
export class EncryptionError extends IngestError {
  constructor(options?: { cause?: unknown }) {
    super('encryption', 'envelope encryption failed', options);
  }
}

/**
 * A sealed message does not belong where it was found: its encryption context or its bound
 * source / dedupe key differ from what the message claims or the reader expects. Never retryable.
 */
export class EnvelopeMismatchError extends IngestError {
  constructor(what: 'context' | 'source' | 'dedupe_key' | 'frame') {
    super('envelope_mismatch', `sealed message does not match its ${what}`);
  }
}

/** SQS refused or did not answer the SendMessage. */
export class QueueError extends IngestError {
  constructor(options?: { cause?: unknown }) {
    super('queue', 'the work queue did not accept the message', options);
  }
}

/** S3 refused or did not answer (large bodies are stored there, the queue holds a pointer). */
export class PayloadStoreError extends IngestError {
  constructor(options?: { cause?: unknown }) {
    super('payload_store', 'the payload bucket could not be used', options);
  }
}

/** The source's secrets could not be read or parsed (Secrets Manager unavailable or bad value). */
export class SecretsError extends IngestError {
  constructor(options?: { cause?: unknown }) {
    super('secrets', 'the source secrets could not be read', options);
  }
}

/** An SQS record is not a hookgate message (missing attribute, bad pointer). Never retryable. */
export class MessageFormatError extends IngestError {
  constructor(detail: string) {
    super('message_format', `not a hookgate message: ${detail}`);
  }
}

/**
 * True for the errors of a record that can never open however often it is retried (not a
 * hookgate message, a forged pointer, a ciphertext bound elsewhere): the processor moves such a
 * record to the DLQ at once instead of spending `maxReceiveCount` receives on it.
 */
export function neverOpens(err: unknown): err is MessageFormatError | EnvelopeMismatchError {
  return err instanceof MessageFormatError || err instanceof EnvelopeMismatchError;
}
