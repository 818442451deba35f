#!/usr/bin/env node
import { dropOutputOnceClosed } from './cli/closed-output.js';
import { runCli } from './cli/index.js';

dropOutputOnceClosed();
process.exitCode = await runCli(process.argv.slice(2));
