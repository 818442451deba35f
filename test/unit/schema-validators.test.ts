// The validators are generated ahead of time (schemas/compile-validators.ts), so ajv is not loaded
// when a command starts: the checked-in module must be what the schemas compile to today.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GENERATED_FILE, validatorModuleSource } from '../../schemas/compile-validators.js';

test('schemas/validators.generated.ts is what the schemas compile to (npm run schemas rewrites it)', () => {
  assert.ok(readFileSync(GENERATED_FILE, 'utf8') === validatorModuleSource(), 'out of date: run npm run schemas');
});

test.run();
