#!/usr/bin/env node
// duck-conformance: runs the channel conformance suite against a client (conformance/README.md).
// Exit 0 when every case passes, 1 when one fails (each named), 2 on a usage error.
import { parseArgs } from 'node:util';
import { CASES } from './cases.js';
import { runSuite, type CaseResult } from './runner.js';

const USAGE = `usage: duck-conformance --client <command> [--only <regex>] [--concurrency <n>] [--timeout <seconds>] [--json]
       duck-conformance --list`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        client: { type: 'string' },
        only: { type: 'string' },
        concurrency: { type: 'string', default: '3' },
        timeout: { type: 'string', default: '6' },
        json: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) return (process.stdout.write(`${USAGE}\n`), 0);
  if (values.list) {
    for (const c of CASES) process.stdout.write(`${c.name}\t${c.covers}\n`);
    return 0;
  }
  if (!values.client) return (process.stderr.write(`--client is required\n${USAGE}\n`), 2);
  const only = values.only ? new RegExp(values.only) : null;
  const cases = CASES.filter((c) => !only || only.test(c.name));
  const concurrency = Number(values.concurrency);
  const timeoutSeconds = Number(values.timeout);
  if (cases.length === 0) return (process.stderr.write(`--only ${values.only}: no case matches\n`), 2);
  if (!(concurrency >= 1) || !(timeoutSeconds > 0)) return (process.stderr.write(`--concurrency and --timeout take positive numbers\n${USAGE}\n`), 2);

  const print = (r: CaseResult): void => {
    if (!values.json) process.stdout.write(r.passed ? `ok    ${r.name}\n` : `FAIL  ${r.name}: ${r.problem}\n`);
  };
  const results = await runSuite({ client: values.client, cases, concurrency, timeoutSeconds, onResult: print });
  const failed = results.filter((r) => !r.passed);
  if (values.json) process.stdout.write(`${JSON.stringify({ passed: failed.length === 0, results }, null, 2)}\n`);
  else process.stdout.write(`\n${results.length - failed.length} of ${results.length} cases passed${failed.length ? `; failed: ${failed.map((r) => r.name).join(', ')}` : ''}\n`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
