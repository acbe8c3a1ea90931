import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { build } from 'esbuild';
import { BUNDLING, esbuildOptions } from '../../lib/constructs/bundling';
import { WebhookFunction } from '../../lib/constructs/webhook-function';
import { ROOT } from './helpers';

describe('bundling options shared by the stack, the bench and the bundle tests', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookgate-synth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('esbuildOptions builds byte for byte the bundle cdk synth stages for a WebhookFunction', async () => {
    const entry = join(ROOT, 'lambda', 'processor', 'index.ts');
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stack = new Stack(app, 'Bundling');
    new WebhookFunction(stack, 'Processor', { entry, logEncryptionKey: new kms.Key(stack, 'Key') });
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    const outfile = join(dir, 'esbuild', 'index.js');

    await build({ ...esbuildOptions(entry, outfile), logLevel: 'silent' });

    expect(assets).toHaveLength(1);
    const staged = join(assembly.directory, assets[0] ?? '');
    expect(readdirSync(staged).sort()).toEqual(['index.js']);
    expect(readFileSync(join(staged, 'index.js')).equals(readFileSync(outfile))).toBe(true);
  }, 120_000);

  it('refuses a bundling option it does not translate, rather than build something else', () => {
    expect(() => esbuildOptions('in.ts', 'out.js', { ...BUNDLING, define: { DEBUG: 'true' } })).toThrow('define');
  });
});
