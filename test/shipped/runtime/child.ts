import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { lambdaContext } from '../../../local/apigateway';
import { END_OF_INVOCATION, type ChildMessage, type ParentMessage } from './protocol';

/**
 * One Lambda execution environment, in its own process: the environment comes from the parent
 * (the function's variables from the template plus what the Lambda runtime sets), the code is the
 * shipped bundle loaded the way the Node.js runtime loads it (`_HANDLER` = `<module>.<export>`,
 * resolved in `LAMBDA_TASK_ROOT`, `require`d at init, once), and each invocation gets a Lambda
 * `Context` counting down from the function's timeout.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Marks the end of an invocation's output on both streams (the parent cuts the logs there). */
function endOfOutput(id: string): void {
  process.stdout.write(`${END_OF_INVOCATION}${id}\n`);
  process.stderr.write(`${END_OF_INVOCATION}${id}\n`);
}

function describe(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: typeof err, message: String(err) };
}

function load(): Handler | { name: string; message: string } {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? '';
  const spec = process.env._HANDLER ?? '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) return { name: 'Runtime.MalformedHandlerName', message: `bad handler ${spec}` };
  const modulePath = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  try {
    const requireFromTask = createRequire(join(taskRoot, 'package.json'));
    const loaded: unknown = requireFromTask(join(taskRoot, modulePath));
    const fn = typeof loaded === 'object' && loaded !== null ? (loaded as Record<string, unknown>)[exportName] : undefined;
    if (typeof fn !== 'function') return { name: 'Runtime.HandlerNotFound', message: `${spec} is undefined or not exported` };
    return fn as Handler;
  } catch (err) {
    return describe(err);
  }
}

const loaded = load();
endOfOutput('init');
if (typeof loaded === 'function') send({ type: 'ready' });
else send({ type: 'init-error', error: loaded });

process.on('message', (message: ParentMessage) => {
  if (message.type !== 'invoke' || typeof loaded !== 'function') return;
  const context = lambdaContext(process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function', message.timeoutMs);
  process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${context.awsRequestId.replace(/-/g, '').slice(0, 24)};Sampled=0`;
  void (async () => {
    try {
      const result = await loaded(message.event, context);
      endOfOutput(message.id);
      send({ type: 'result', id: message.id, result: result ?? null });
    } catch (err) {
      endOfOutput(message.id);
      send({ type: 'error', id: message.id, error: describe(err) });
    }
  })();
});
