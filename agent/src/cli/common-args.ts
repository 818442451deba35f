import type { ArgsDef } from 'citty';

export const configArg = {
  config: {
    type: 'string',
    description: 'agent config file (default: $DUCK_CONFIG, then /etc/duck/agent.yaml)',
    valueHint: 'path',
  },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: 'boolean', description: 'print one JSON document instead of text', default: false },
} as const satisfies ArgsDef;
