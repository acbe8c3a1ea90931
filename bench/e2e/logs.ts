/** Bytes written to stdout (what CloudWatch Logs would ingest) by kind of line. */
export interface LogBytes {
  verifierLog: number;
  verifierLines: number;
  verifierEmf: number;
  verifierEmfLines: number;
  processorLog: number;
  processorLines: number;
  other: number;
  otherLines: number;
}

function emptyLog(): LogBytes {
  return { verifierLog: 0, verifierLines: 0, verifierEmf: 0, verifierEmfLines: 0, processorLog: 0, processorLines: 0, other: 0, otherLines: 0 };
}

/**
 * Captures stdout (Powertools Logger and EMF write there, as they do on Lambda) and classifies
 * each line, without printing it: thousands of log lines would drown the bench's own output.
 */
export class LogCapture {
  bytes = emptyLog();
  verifierMs: number[] = [];
  private readonly original = process.stdout.write.bind(process.stdout);
  private pending = '';

  start(): void {
    const capture = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      this.pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let newline = this.pending.indexOf('\n');
      while (newline >= 0) {
        this.classify(this.pending.slice(0, newline + 1));
        this.pending = this.pending.slice(newline + 1);
        newline = this.pending.indexOf('\n');
      }
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
  }

  stop(): void {
    process.stdout.write = this.original;
  }

  /** What was captured since the last take, and a fresh start. */
  take(): { bytes: LogBytes; verifierMs: number[] } {
    const out = { bytes: this.bytes, verifierMs: this.verifierMs };
    this.bytes = emptyLog();
    this.verifierMs = [];
    return out;
  }

  private classify(line: string): void {
    const size = Buffer.byteLength(line);
    let parsed: { _aws?: unknown; message?: string; durationMs?: number } = {};
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      // Not JSON: counted as other.
    }
    if (parsed._aws !== undefined) {
      this.bytes.verifierEmf += size;
      this.bytes.verifierEmfLines += 1;
    } else if (parsed.message === 'webhook accepted') {
      this.bytes.verifierLog += size;
      this.bytes.verifierLines += 1;
      if (typeof parsed.durationMs === 'number') this.verifierMs.push(parsed.durationMs);
    } else if (parsed.message === 'webhook processed') {
      this.bytes.processorLog += size;
      this.bytes.processorLines += 1;
    } else {
      this.bytes.other += size;
      this.bytes.otherLines += 1;
    }
  }
}
