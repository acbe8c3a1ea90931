import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { END_OF_INVOCATION, type ChildMessage, type ParentMessage } from './protocol';

/**
 * The suite's side of a function's execution environment: one child process per function
 * (fresh `process.env` and module cache, as in Lambda), invocations one at a time, logs cut per
 * invocation.
 */

/** A pause that does not keep the process alive on its own. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** The line parsed, when it is a JSON object (Powertools logs and EMF metrics are). */
  readonly json?: Readonly<Record<string, unknown>>;
}

export interface InvokeResult<R> {
  readonly result?: R;
  readonly error?: { readonly name: string; readonly message: string };
  readonly logs: readonly LogLine[];
}

/**
 * Builds the child runner (runtime/child.ts) into `dir` as plain JavaScript with the project's
 * esbuild, so the child runs on bare Node.js: no TypeScript loader is hooked into `require` when
 * the bundle is loaded.
 */
export function buildRunner(dir: string, esbuild: string): string {
  const outfile = join(dir, 'runner', 'child.js');
  // The esbuild CLI, not its JS API: the API refuses to run inside jest's module sandbox.
  execFileSync(esbuild, [join(__dirname, 'child.ts'), '--bundle', '--platform=node', '--target=node20', '--format=cjs', `--outfile=${outfile}`, '--log-level=error']);
  return outfile;
}

/**
 * A folder for NODE_PATH holding only `@aws-sdk`, like the Lambda Node.js runtime's modules: a
 * bundle that requires any other package at run time fails to load here as it would there. The
 * SDK's own dependencies resolve from its real location.
 */
export function runtimeModules(dir: string, nodeModules: string): string {
  const folder = join(dir, 'runtime-modules');
  mkdirSync(folder, { recursive: true });
  symlinkSync(join(nodeModules, '@aws-sdk'), join(folder, '@aws-sdk'), 'dir');
  return folder;
}

export class ExecutionEnvironment {
  private readonly child: ChildProcess;
  private readonly lines: LogLine[] = [];
  private readonly ended = new Map<string, Set<'stdout' | 'stderr'>>();
  private readonly waiting = new Map<string, () => void>();
  private readonly pending = new Map<string, (message: ChildMessage) => void>();
  private initMessage: Promise<ChildMessage>;
  /** Log lines of the init phase. */
  initLogs: readonly LogLine[] = [];

  constructor(
    readonly name: string,
    runner: string,
    cwd: string,
    env: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
  ) {
    this.child = spawn(process.execPath, [runner], { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.child[stream];
      if (source === null) continue;
      createInterface({ input: source }).on('line', (text) => this.onLine(stream, text));
    }
    let resolveInit: (m: ChildMessage) => void = () => undefined;
    this.initMessage = new Promise((resolve) => (resolveInit = resolve));
    this.child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready' || message.type === 'init-error') resolveInit(message);
      else this.pending.get(message.id)?.(message);
    });
    this.child.on('exit', (code) => {
      resolveInit({ type: 'init-error', error: { name: 'Runtime.ExitError', message: `exited with ${code}` } });
      for (const [id, settle] of this.pending) settle({ type: 'error', id, error: { name: 'Runtime.ExitError', message: `exited with ${code}` } });
    });
  }

  private onLine(stream: 'stdout' | 'stderr', text: string): void {
    if (text.startsWith(END_OF_INVOCATION)) {
      const id = text.slice(END_OF_INVOCATION.length);
      const seen = this.ended.get(id) ?? new Set();
      seen.add(stream);
      this.ended.set(id, seen);
      if (seen.size === 2) this.waiting.get(id)?.();
      return;
    }
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      // A plain text line.
    }
    this.lines.push(json === undefined ? { stream, text } : { stream, text, json });
  }

  /** Resolves once both streams have printed the end marker of `id`. */
  private outputEnded(id: string): Promise<void> {
    if (this.ended.get(id)?.size === 2) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  /** Waits for init (the bundle `require`d); throws with the init error's name and message. */
  async ready(): Promise<void> {
    const message = await this.initMessage;
    await this.outputEnded('init');
    this.initLogs = this.lines.splice(0);
    if (message.type === 'init-error') {
      throw new Error(`${this.name} failed to initialize: ${message.error.name}: ${message.error.message}\n${this.initLogs.map((l) => l.text).join('\n')}`);
    }
  }

  /** One invocation, as Lambda runs it: one at a time, bounded by the function's timeout. */
  async invoke<R>(event: unknown): Promise<InvokeResult<R>> {
    const id = randomUUID();
    this.lines.splice(0);
    const answer = new Promise<ChildMessage>((resolve) => {
      const timer = setTimeout(() => resolve({ type: 'error', id, error: { name: 'Sandbox.Timedout', message: 'Task timed out' } }), this.timeoutMs + 1000);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    const message: ParentMessage = { type: 'invoke', id, event, timeoutMs: this.timeoutMs };
    this.child.send(message);
    const settled = await answer;
    this.pending.delete(id);
    if (settled.type === 'result' || settled.type === 'error') await Promise.race([this.outputEnded(id), pause(2000)]);
    const logs = this.lines.splice(0);
    if (settled.type === 'result') return { result: settled.result as R, logs };
    if (settled.type === 'error') return { error: settled.error, logs };
    return { error: { name: 'Runtime.Unexpected', message: settled.type }, logs };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await Promise.race([exited, pause(3000)]);
  }
}
