#!/usr/bin/env node
import { addCompliancePacks, newHookgateApp } from 'hookgate';
import { ClinicStack } from '../lib/clinic-stack';

// hookgate's feature flags on the app, its compliance packs on every synth.
const app = newHookgateApp();
new ClinicStack(app, 'clinic-webhooks', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addCompliancePacks(app);
app.synth();
