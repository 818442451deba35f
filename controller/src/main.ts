#!/usr/bin/env node
import { defineCommand, runMain } from 'citty';

// The controller lands with its own issue; until then the bin exists and says what it will be.
const controller = defineCommand({
  meta: {
    name: 'duck-controller',
    version: '0.1.0',
    description: 'Duck controller: collects agent telemetry and diagnostics and shows the fleet (not built yet: only --help works)',
  },
  subCommands: {
    serve: defineCommand({
      meta: { name: 'serve', description: 'Serve the controller API and dashboard (coming with the controller issue)' },
      run() {
        process.stderr.write('duck-controller serve is not built yet; see the controller issue\n');
        process.exitCode = 1;
      },
    }),
  },
});

await runMain(controller, { rawArgs: process.argv.length > 2 ? process.argv.slice(2) : ['--help'] });
