// Specification of schemas/: every file kind validates its own example, every failure reads as one
// line "file:line:col: /field: message", and the schemas keep the conventions the project relies on
// (descriptions, closed objects, patterns in words). Golden cases live in test/fixtures/schemas/:
// <case>.<schema>.yaml beside <case>.<schema>.expected (the exact message, or "valid").
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DuckError } from '../../schemas/errors.js';
import type { ChannelFile, GroupFile, OverlayFile, ReleaseFile, SchemaName, SchemaProblem } from '../../schemas/index.js';
import { commonSchema, parseYaml, PATTERN_WORDS, SCHEMA_NAMES, SCHEMAS, validateValue } from '../../schemas/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'schemas');

function failure(run: () => unknown): DuckError {
  try {
    run();
  } catch (err) {
    if (err instanceof DuckError) return err;
    throw err;
  }
  throw new Error('expected a DuckError, but the value was accepted');
}

function problemsOf(err: DuckError): SchemaProblem[] {
  return err.data.problems as SchemaProblem[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every subschema of a schema, with its JSON pointer. */
function* subschemas(node: Json, pointer = ''): Generator<[string, Record<string, Json>]> {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* subschemas(item, `${pointer}/${i}`);
    return;
  }
  yield [pointer, node];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'examples' || key === 'default' || key === 'const' || key === 'enum') continue;
    if (key === 'properties' || key === '$defs') {
      for (const [name, sub] of Object.entries(value as Record<string, Json>)) yield* subschemas(sub, `${pointer}/${key}/${name}`);
    } else {
      yield* subschemas(value, `${pointer}/${key}`);
    }
  }
}

const ALL_SCHEMAS: [string, Json][] = [...Object.entries(SCHEMAS), ['common', commonSchema] as const].map(([n, s]) => [n, s as Json]);

// --- examples ----------------------------------------------------------------------------------

for (const name of SCHEMA_NAMES) {
  test(`the ${name} schema's example is a valid ${name} file`, () => {
    const examples = (SCHEMAS[name] as { examples?: unknown[] }).examples ?? [];
    assert.is(examples.length, 1);
    assert.equal(validateValue(name, examples[0], `${name} example`), examples[0]);
  });
}

function first<T>(values: readonly T[]): T {
  const [value] = values;
  if (value === undefined) throw new Error('no example');
  return value;
}

test('the examples in common.schema.json are valid where the files use them', () => {
  const d = commonSchema.$defs;
  validateValue('overlay', { windows: [first(d.window.examples)], compose: {} }, 'overlay example');
  validateValue('channel', { version: 1, signers: [{ name: 'bot', key: first(d.relativePath.examples) }], freshness: first(d.duration.examples) }, 'channel');
  const agent = { version: first(d.version.examples) };
  const artifact = { url: first(d.httpUrl.examples), sha256: first(d.sha256hex.examples), size: 1 };
  validateValue('agent-release', { version: first(d.version.examples), artifacts: { 'linux-x64': artifact } }, 'agent.yaml');
  const rollout = [{ percent: 5, at: first(d.dateTime.examples) }];
  const window = { days: [first(d.daySpec.examples)], start: '02:00', duration: '1h' };
  validateValue('group', { apps: { [first(d.appName.examples)]: first(d.version.examples) }, rollout, agent, windows: [window] }, 'group');
});

test('validated values are typed as their file kind', () => {
  const channel: ChannelFile = validateValue('channel', first((SCHEMAS.channel as { examples: unknown[] }).examples), 'c');
  const group: GroupFile = parseYaml('group', 'apps: { shop: "1.3.0" }\nwindows: [{ days: sat, start: "02:00", duration: 3h }]\n', 'g');
  const release: ReleaseFile = parseYaml('release', 'app: shop\nversion: 1.3.0\nfiles: {}\n', 'r');
  const overlay: OverlayFile = parseYaml('overlay', '', 'o');
  assert.is(channel.signers.length, 4);
  assert.equal(group.windows?.[0]?.days, 'sat');
  assert.equal(release.images, undefined, 'defaults are documented, never filled in');
  assert.equal(overlay, {});
});

// --- golden cases ------------------------------------------------------------------------------

const goldens = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();

test('the golden fixtures cover every schema', () => {
  const covered = new Set(goldens.map((f) => f.split('.').at(-2)));
  for (const name of SCHEMA_NAMES) assert.ok(covered.has(name), `no golden case for ${name}`);
});

for (const file of goldens) {
  const name = file.split('.').at(-2) as SchemaName;
  const expected = readFileSync(join(FIXTURES, file.replace(/\.yaml$/, '.expected')), 'utf8').trim();
  test(`golden ${file}: ${expected === 'valid' ? 'is valid' : 'gives the exact one-line message'}`, () => {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    if (expected === 'valid') {
      parseYaml(name, text, file);
      return;
    }
    const err = failure(() => parseYaml(name, text, file));
    assert.is(err.message, expected);
    assert.not.ok(err.message.includes('\n'), 'one line');
  });
}

// --- the error value ---------------------------------------------------------------------------

test('a schema error is a DuckError "invalid" with file, line, column, field and every problem', () => {
  const text = 'apps:\n  shop: 1.3.0\nwindows:\n  - { days: [sat], start: "2:00", duration: 3x }\n';
  const err = failure(() => parseYaml('group', text, 'groups/prod.yaml'));
  assert.is(err.code, 'invalid');
  assert.is(err.retry, 'stalled');
  assert.is(err.message, 'groups/prod.yaml:4:27: /windows/0/start: must match "HH:MM" (and 1 more)');
  assert.equal(err.data, {
    file: 'groups/prod.yaml',
    line: 4,
    column: 27,
    field: '/windows/0/start',
    problems: [
      { line: 4, column: 27, field: '/windows/0/start', message: 'must match "HH:MM"' },
      { line: 4, column: 45, field: '/windows/0/duration', message: 'must be a duration like 3h, 90m or 1h30m' },
    ],
  });
});

test('problems are ordered by their position in the file, not by schema order', () => {
  const text = 'files: {}\nversion: "1.0"\napp: Shop\nextra: 1\n';
  const lines = problemsOf(failure(() => parseYaml('release', text, 'release.yaml'))).map((p) => p.line);
  assert.equal(lines, [3, 4]);
});

test('a YAML syntax error has the position the yaml parser gives and an empty field', () => {
  const err = failure(() => parseYaml('channel', 'version: 1\nsigners: "keys\n', 'channel.yaml'));
  assert.is(err.data.field, '');
  assert.is(err.data.line, 3);
  assert.match(err.message, /^channel\.yaml:3:1: invalid YAML: /);
});

test('YAML 1.1 spellings stay strings: yes is not true, 02:00 is not a number', () => {
  const overlay = parseYaml('overlay', 'windows: [{ days: sat, start: 02:00, duration: 1h }]\nhold: { reason: yes }\n', 'o');
  assert.is(overlay.windows?.[0]?.start, '02:00');
  assert.is(overlay.hold?.reason, 'yes');
});

test('an unresolved tag is refused, not silently read as a string', () => {
  const err = failure(() => parseYaml('overlay', 'hold: { reason: !secret x }\n', 'overlay.yaml'));
  assert.is(err.message, 'overlay.yaml:1:17: invalid YAML: Unresolved tag: !secret');
});

test('a map used as a key is refused', () => {
  const err = failure(() => parseYaml('overlay', 'pin:\n  ? [shop]\n  : 1.0.0\n', 'overlay.yaml'));
  assert.is(err.message, 'overlay.yaml:2:5: /pin: a key must be a plain value, not a map or list');
});

test('more than one YAML document is refused', () => {
  const err = failure(() => parseYaml('overlay', 'pin: {}\n---\nhold: { reason: x }\n', 'overlay.yaml'));
  assert.match(err.message, /^overlay\.yaml:2:1: invalid YAML: /);
});

test('an alias expands to its anchor and is located there', () => {
  const text = 'windows:\n  - &night { days: sat, start: "2:00", duration: 1h }\n  - *night\n';
  const problems = problemsOf(failure(() => parseYaml('overlay', text, 'overlay.yaml')));
  assert.equal(problems.map((p) => `${p.line}:${p.column} ${p.field}`), ['2:32 /windows/0/start', '2:32 /windows/1/start']);
});

test('an empty value points at its key', () => {
  const err = failure(() => parseYaml('overlay', 'hold:\n  reason:\n', 'overlay.yaml'));
  assert.is(err.message, 'overlay.yaml:2:3: /hold/reason: must be a string, not empty');
});

test('validateValue reports fields without line numbers', () => {
  const err = failure(() => validateValue('channel', { version: 0, signers: [{ name: 'a', key: 'keys/a.asc', fpr: 'x' }] }, 'message'));
  assert.is(err.message, 'message: /version: must be >= 1 (and 1 more)');
  assert.equal(problemsOf(err), [
    { field: '/version', message: 'must be >= 1' },
    { field: '/signers/0', message: 'unknown key "fpr"' },
  ]);
  assert.is(err.data.line, undefined);
});

test('a single day and a list of days are both windows', () => {
  for (const days of ['sat', ['mon-fri', 'sun'], 'fri-mon']) {
    validateValue('overlay', { windows: [{ days, start: '23:00', duration: '1h30m', timezone: 'Europe/Berlin' }] }, 'o');
  }
  const err = failure(() => validateValue('overlay', { windows: [{ days: [], start: '23:00', duration: '1h' }] }, 'o'));
  assert.is(err.message, 'o: /windows/0/days: must not be empty');
});

test('an image id stands in for a digest, and a probe needs exactly one kind', () => {
  const base = { app: 'shop', version: '1.0.0', files: {} };
  validateValue('release', { ...base, images: [{ ref: 'shop:1', id: `sha256:${'a'.repeat(64)}` }] }, 'r');
  const err = failure(() => validateValue('release', { ...base, health: { probes: [{ timeout: '5s' }, { tcp: 'db:5432', status: 200 }] } }, 'r'));
  assert.equal(problemsOf(err).map((p) => p.message), ['needs one of the keys "http", "tcp" or "command"', 'key "status" needs key "http"']);
});

test('release.yaml does not list itself', () => {
  const err = failure(() => validateValue('release', { app: 'shop', version: '1.0.0', files: { 'release.yaml': 'a'.repeat(64) } }, 'r'));
  assert.is(err.message, 'r: /files: key "release.yaml" is not allowed here');
});

test('relative paths refuse every way out of their directory', () => {
  for (const path of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/', './a', 'a\\..\\b', 'a/.', '']) {
    const err = failure(() => validateValue('release', { app: 'a', version: '1', backup: { paths: [path] }, files: {} }, 'r'));
    assert.is(err.data.field, '/backup/paths/0', path);
  }
  validateValue('release', { app: 'a', version: '1', backup: { paths: ['data', 'db/dump.sql', '.env', 'a..b'] }, files: {} }, 'r');
});

test('the agent config accepts http and https channel URLs only (git smart HTTP)', () => {
  const config = (url: string) => ({ channel: { url }, group: 'production', trust: { keys: ['k.asc'] } });
  for (const url of ['https://git.example.com/r.git', 'http://127.0.0.1:8080/r.git']) validateValue('agent-config', config(url), 'a');
  for (const bad of ['git@github.com:ops/releases.git', 'file:///srv/releases']) {
    const err = failure(() => validateValue('agent-config', config(bad), 'a'));
    assert.is(err.message, 'a: /channel/url: must be an http:// or https:// URL (git smart HTTP)');
  }
});

// --- conventions the schemas keep --------------------------------------------------------------

test('every schema has $schema 2020-12, an $id under duck.dev, a title and a description', () => {
  for (const [name, schema] of ALL_SCHEMAS) {
    const s = schema as Record<string, Json>;
    assert.is(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.is(s.$id, `https://duck.dev/schemas/${name}.schema.json`);
    assert.type(s.title, 'string');
    assert.type(s.description, 'string');
  }
});

test('every property and definition has a description', () => {
  for (const [name, schema] of ALL_SCHEMAS) {
    for (const [pointer, sub] of subschemas(schema)) {
      if (/\/(properties|\$defs)\/[^/]+$/.test(pointer)) assert.type(sub.description, 'string', `${name}.schema.json#${pointer}`);
    }
  }
});

test('every object is closed: additionalProperties is false, or the value schema of a map', () => {
  for (const [name, schema] of ALL_SCHEMAS) {
    for (const [pointer, sub] of subschemas(schema)) {
      if (sub.type === 'object') assert.ok(sub.additionalProperties !== undefined, `${name}.schema.json#${pointer}`);
      if (sub.type === 'object' && sub.properties !== undefined) assert.is(sub.additionalProperties, false, `${name}.schema.json#${pointer}`);
    }
  }
});

test('every required key is a declared property (ajv strictRequired is off for oneOf/not idioms)', () => {
  for (const [name, schema] of ALL_SCHEMAS) {
    for (const [pointer, sub] of subschemas(schema)) {
      if (sub.properties === undefined) continue;
      const declared = Object.keys(sub.properties as object);
      const required = [sub.required, ...((sub.oneOf as Json[] | undefined) ?? []).map((b) => (b as { required?: Json }).required)];
      for (const key of required.flat()) if (key !== undefined) assert.ok(declared.includes(key as string), `${name}.schema.json#${pointer} requires "${String(key)}"`);
    }
  }
});

test('every pattern has words for operators', () => {
  for (const [name, schema] of ALL_SCHEMAS) {
    for (const [pointer, sub] of subschemas(schema)) {
      if (typeof sub.pattern === 'string') assert.type(PATTERN_WORDS[sub.pattern], 'string', `${name}.schema.json#${pointer}: ${sub.pattern}`);
    }
  }
});

test.run();
