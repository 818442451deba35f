// The one validator of every Duck file: parse YAML strictly, validate against the JSON Schema,
// and turn every failure into a DuckError('invalid') that names file, line, column and field.
import type { ErrorObject } from 'ajv/dist/2020.js';
import { DuckError, formatLocation } from './errors.js';
import type { SourceLocator } from './problems.js';
import { NO_SOURCE, toProblems } from './problems.js';
import { agentConfigSchema, agentReleaseSchema, announcementsSchema, channelSchema, commonSchema, groupSchema, overlaySchema, registerSchema, releaseSchema, reportSchema, SCHEMAS } from './schema-files.js';
import type * as T from './types.js';
import type { SchemaName, SchemaProblem, SchemaTypes } from './types.js';
// Compiled ahead of time (compile-validators.ts): ajv itself is not loaded at run time.
import * as generated from './validators.generated.js';
import { readYamlSource } from './yaml-source.js';

export * from './types.js';
export { PATTERN_WORDS } from './problems.js';
export { agentConfigSchema, agentReleaseSchema, announcementsSchema, channelSchema, commonSchema, groupSchema, overlaySchema, registerSchema, releaseSchema, reportSchema };
export { SCHEMAS } from './schema-files.js';

/** A generated validator: ajv's ValidateFunction without the compiler's own fields. */
interface Validator<V> {
  (value: unknown): value is V;
  errors?: ErrorObject[] | null;
}

// The generated functions return a boolean; what they check is the schema of their name.
const validator = <V>(fn: (value: unknown) => boolean): Validator<V> => fn as Validator<V>;

const VALIDATORS: { readonly [N in SchemaName]: Validator<SchemaTypes[N]> } = {
  channel: validator(generated.channel),
  group: validator(generated.group),
  release: validator(generated.release),
  'agent-release': validator(generated.agentRelease),
  announcements: validator(generated.announcements),
  overlay: validator(generated.overlay),
  'agent-config': validator(generated.agentConfig),
  report: validator(generated.report),
  register: validator(generated.register),
};

/** "file:line:col: /field: message (and N more)" for the first problem. */
export function formatSchemaError(file: string, problems: readonly SchemaProblem[]): string {
  const first = problems[0];
  if (!first) return `${file}: invalid`;
  const where = formatLocation({ file, line: first.line, column: first.column, field: first.field });
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${where ? `${where}: ` : ''}${first.message}${more}`;
}

function invalid(file: string, problems: SchemaProblem[]): DuckError {
  const first = problems[0];
  const data = {
    file,
    ...(first?.line !== undefined ? { line: first.line, column: first.column } : {}),
    field: first?.field ?? '',
    problems,
  };
  return new DuckError('invalid', formatSchemaError(file, problems), data);
}

function check<N extends SchemaName>(name: N, value: unknown, file: string, locator: SourceLocator): SchemaTypes[N] {
  const validate = VALIDATORS[name];
  if (validate(value)) return value;
  throw invalid(file, toProblems(validate.errors ?? [], locator));
}

/**
 * Parses YAML text (1.2 core schema, duplicate keys refused) and validates it against the named
 * schema. An empty document is an empty map: valid for an overlay, missing keys for the rest.
 * @throws DuckError code 'invalid', data {file, line, column, field, problems}
 */
export function parseYaml<N extends SchemaName>(name: N, text: string, file: string): SchemaTypes[N] {
  const source = readYamlSource(text);
  if (!source.ok) throw invalid(file, source.problems);
  return check(name, source.value ?? emptyValueOf(name), file, source.locator);
}

/** What an empty file (or one of comments only) holds: an empty list where the schema's root is one. */
function emptyValueOf(name: SchemaName): unknown {
  return (SCHEMAS[name] as { type?: string }).type === 'array' ? [] : {};
}

/**
 * Validates a value that did not come from YAML text (a JSON message, a built object): the
 * problems carry fields but no line numbers.
 * @throws DuckError code 'invalid', data {file, field, problems}
 */
export function validateValue<N extends SchemaName>(name: N, value: unknown, file: string): SchemaTypes[N] {
  return check(name, value, file, NO_SOURCE);
}

// Compile-time ties between the schemas and the types: each schema object's property names must
// be exactly the keys of its type, so adding a key to one without the other fails the build.
type Keys<S> = S extends { properties: infer P } ? keyof P : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type AllKeys<U> = U extends unknown ? keyof U : never;
type Assert<T extends true> = T;
type _SchemasMatchTypes = [
  Assert<Same<Keys<typeof channelSchema>, keyof T.ChannelFile>>,
  Assert<Same<Keys<typeof channelSchema.$defs.signer>, keyof T.ChannelSigner>>,
  Assert<Same<Keys<typeof channelSchema.$defs.threshold>, keyof T.ChannelThreshold>>,
  Assert<Same<Keys<typeof commonSchema.$defs.window>, keyof T.Window>>,
  Assert<Same<Keys<typeof groupSchema>, keyof T.GroupFile>>,
  Assert<Same<Keys<typeof groupSchema.$defs.rolloutStep>, keyof T.RolloutStep>>,
  Assert<Same<Keys<typeof groupSchema.$defs.agentPin>, keyof T.AgentPin>>,
  Assert<Same<Keys<typeof agentReleaseSchema>, keyof T.AgentReleaseFile>>,
  Assert<Same<Keys<typeof agentReleaseSchema.$defs.artifact>, keyof T.AgentArtifactSpec>>,
  Assert<Same<Keys<typeof announcementsSchema.$defs.announcement>, keyof T.Announcement>>,
  Assert<Same<Keys<typeof announcementsSchema.$defs.target>, keyof T.AnnouncementTarget>>,
  Assert<Same<Keys<typeof releaseSchema>, keyof T.ReleaseFile>>,
  Assert<Same<Keys<typeof releaseSchema.$defs.image>, keyof T.ImageSpec>>,
  Assert<Same<Keys<typeof releaseSchema.$defs.archive>, keyof T.ImageArchive>>,
  Assert<Same<Keys<typeof releaseSchema.$defs.health>, keyof T.HealthSpec>>,
  Assert<Same<Keys<typeof releaseSchema.$defs.probe>, AllKeys<T.Probe>>>,
  Assert<Same<Keys<typeof releaseSchema.$defs.backup>, keyof T.BackupSpec>>,
  Assert<Same<Keys<typeof overlaySchema>, keyof T.OverlayFile>>,
  Assert<Same<Keys<typeof overlaySchema.$defs.hold>, keyof T.Hold>>,
  Assert<Same<Keys<typeof overlaySchema.$defs.scheduleEntry>, keyof T.ScheduleEntry>>,
  Assert<Same<Keys<typeof overlaySchema.$defs.composeOverride>, keyof T.ComposeOverride>>,
  Assert<Same<Keys<typeof agentConfigSchema>, keyof T.AgentConfigFile>>,
  Assert<Same<Keys<typeof agentConfigSchema.$defs.channelSource>, keyof T.ChannelSource>>,
  Assert<Same<Keys<typeof agentConfigSchema.$defs.trust>, keyof T.TrustConfig>>,
  Assert<Same<Keys<typeof agentConfigSchema.$defs.limits>, keyof T.Limits>>,
  Assert<Same<Keys<typeof agentConfigSchema.$defs.controller>, keyof T.ControllerConfig>>,
  Assert<Same<Keys<typeof agentConfigSchema.$defs.selfUpdate>, keyof T.SelfUpdateSettings>>,
  Assert<Same<Keys<typeof reportSchema>, keyof T.ReportMessage>>,
  Assert<Same<Keys<typeof reportSchema.$defs.facts>, keyof T.NodeFacts>>,
  Assert<Same<Keys<typeof reportSchema.$defs.status>, keyof T.AgentStatus>>,
  Assert<Same<Keys<typeof reportSchema.$defs.announcementSeen>, keyof T.AnnouncementSeen>>,
  Assert<Same<Keys<typeof reportSchema.$defs.channelStatus>, keyof T.ChannelStatus>>,
  Assert<Same<Keys<typeof reportSchema.$defs.refusal>, keyof T.ChannelRefusalStatus>>,
  Assert<Same<Keys<typeof reportSchema.$defs.appStatus>, keyof T.AppStatus>>,
  Assert<Same<Keys<typeof reportSchema.$defs.event>, keyof T.ReportEvent>>,
  Assert<Same<Keys<typeof registerSchema>, keyof T.RegisterMessage>>,
];
