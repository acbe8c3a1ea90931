#!/usr/bin/env node
import { join } from 'node:path';
import { addCompliancePacks, addHookgateStacks, newHookgateApp } from '../lib';

// One stack per config/<env>.json (local excluded), or just `-c env=<name>`.
const app = newHookgateApp();
const environment: unknown = app.node.tryGetContext('env');
addHookgateStacks(app, {
  configDir: join(__dirname, '..', 'config'),
  environment: typeof environment === 'string' ? environment : undefined,
});
addCompliancePacks(app);
app.synth();
