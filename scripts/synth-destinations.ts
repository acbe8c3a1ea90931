/**
 * Synthesizes stacks with every destination type (the example app's config: http, lambda entry,
 * eventbridge), once without a VPC and once with hookgate's VPC and NAT egress, into the folder
 * given as the only argument, for cfn-lint (scripts/lint-cfn.sh). The reference configs have no
 * destinations, so without this the destination resources would never meet cfn-lint. Functions
 * are not bundled: cfn-lint reads templates only.
 */
import { join } from 'node:path';
import { addCompliancePacks, newHookgateApp } from '../lib/app';
import { loadConfig } from '../lib/config-file';
import { HookgateStack } from '../lib/hookgate-stack';

const outdir = process.argv[2];
if (outdir === undefined) {
  console.error('usage: tsx scripts/synth-destinations.ts <output folder>');
  process.exit(2);
}
const example = join(__dirname, '..', 'examples', 'clinic');
const config = loadConfig(join(example, 'config', 'prod.json'), 'prod');
const app = newHookgateApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
new HookgateStack(app, 'hookgate-destinations', { environmentName: 'destinations', config, configBaseDir: example });
new HookgateStack(app, 'hookgate-destinations-nat', { environmentName: 'destinations-nat', config: { ...config, vpc: true, network: { egress: 'nat' } }, configBaseDir: example });
addCompliancePacks(app);
app.synth();
