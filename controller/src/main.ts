#!/usr/bin/env node
import { defineCommand, runMain } from 'citty';

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

await runMain(controller, { rawArgs: process.argv.length > 2 ? process.argv.slice(2) : ['--help'] });
