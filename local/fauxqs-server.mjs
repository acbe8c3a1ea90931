// Runs the fauxqs SQS/S3 emulator in its own process (fauxqs is ESM-only; jest and the CommonJS
// runtime load it this way). Listens on loopback only, never fauxqs's 0.0.0.0 default, and
// prints its port as one JSON line on stdout when ready. Exits when its parent goes away.
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false });
await app.listen({ host: '127.0.0.1', port: Number(process.env.FAUXQS_PORT ?? 0) });
const { port } = app.server.address();
process.stdout.write(`${JSON.stringify({ port })}\n`);
const stop = () => app.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
