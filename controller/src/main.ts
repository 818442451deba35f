#!/usr/bin/env node
import { defineCommand, runMain } from 'citty';
import { asksForVersion, buildInfo, versionLine } from '../../schemas/build-info.js';

const controller = defineCommand({
  meta: {
    name: 'duck-controller',
    version: '0.1.0',
    description: 'Duck controller: collects agent telemetry and diagnostics and shows the fleet',
  },
  // Loaded on use, so --help does not load Koa, lowdb, pg or prom-client.
  subCommands: {
    serve: () => import('./serve-command.js').then((m) => m.default),
    migrate: () => import('./migrate-command.js').then((m) => m.default),
    'migrate-store': () => import('./migrate-store-command.js').then((m) => m.default),
  },
});

if (asksForVersion(process.argv.slice(2))) {
  // The version and the commit the build was made from (the artifact's package.json holds both).
  process.stdout.write(`${versionLine('duck-controller', buildInfo(import.meta.url))}\n`);
} else await runMain(controller, { rawArgs: process.argv.length > 2 ? process.argv.slice(2) : ['--help'] });
