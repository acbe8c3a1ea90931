#!/usr/bin/env -S npx tsx
/**
 * `npm run schema`: writes config/schema.json, the JSON Schema of what a `config/<env>.json` may
 * say, generated from lambda/config/schema.ts. Every config file points at it with
 * `"$schema": "./schema.json"`, so editors complete and check fields; a test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchemaText, SCHEMA_FILE } from '../lib/config-file';

const file = join(__dirname, '..', 'config', SCHEMA_FILE);
writeFileSync(file, configJsonSchemaText());
process.stdout.write(`wrote ${file}\n`);
