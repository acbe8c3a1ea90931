import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addHookgateStacks, newHookgateApp, stackName } from '../../lib/app';
import { asObject, asString, type CfnResource, isObject, type JsonObject, type Synthesized } from './template';

/**
 * Synthesizes one environment of the reference app (config/<env>.json) into a fresh folder, the
 * way `cdk synth` does, bundles included. No compliance packs: they do not change what ships.
 */
export function synthesize(environment: string, configDir: string): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'hookgate-shipped-'));
  // The CLI sets this context for `cdk synth`; asset metadata is how a function names its bundle.
  const app = newHookgateApp({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  addHookgateStacks(app, { configDir, environment });
  const assembly = app.synth();
  const name = stackName(environment);
  const artifact = assembly.getStackByName(name);
  const template = JSON.parse(readFileSync(artifact.templateFullPath, 'utf8')) as JsonObject;
  const raw = asObject(template.Resources, 'Resources');
  const resources: Record<string, CfnResource> = {};
  for (const [id, value] of Object.entries(raw)) {
    const r = asObject(value, id);
    resources[id] = {
      Type: asString(r.Type, `${id}.Type`),
      Properties: isObject(r.Properties) ? r.Properties : {},
      Metadata: isObject(r.Metadata) ? r.Metadata : {},
    };
  }
  return { stackName: name, outdir: assembly.directory, resources };
}

