// The JSON Schema of each file kind, as data: what the validators are generated from
// (compile-validators.ts) and what tests and tools read.
import agentConfigSchema from './agent-config.schema.json' with { type: 'json' };
import agentReleaseSchema from './agent-release.schema.json' with { type: 'json' };
import announcementsSchema from './announcements.schema.json' with { type: 'json' };
import channelSchema from './channel.schema.json' with { type: 'json' };
import commonSchema from './common.schema.json' with { type: 'json' };
import groupSchema from './group.schema.json' with { type: 'json' };
import overlaySchema from './overlay.schema.json' with { type: 'json' };
import registerSchema from './register.schema.json' with { type: 'json' };
import releaseSchema from './release.schema.json' with { type: 'json' };
import reportSchema from './report.schema.json' with { type: 'json' };
import type { SchemaName } from './types.js';

export { agentConfigSchema, agentReleaseSchema, announcementsSchema, channelSchema, commonSchema, groupSchema, overlaySchema, registerSchema, releaseSchema, reportSchema };

/** The raw JSON Schema of each file kind (common.schema.json is referenced by them). */
export const SCHEMAS: { readonly [N in SchemaName]: object } = {
  channel: channelSchema,
  group: groupSchema,
  release: releaseSchema,
  'agent-release': agentReleaseSchema,
  announcements: announcementsSchema,
  overlay: overlaySchema,
  'agent-config': agentConfigSchema,
  report: reportSchema,
  register: registerSchema,
};
