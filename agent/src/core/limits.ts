/** What a channel may cost a node unless its config says otherwise (agent.yaml `limits`). */
export const DEFAULT_LIMITS = { maxFileBytes: 16 * 1024 * 1024, maxFetchBytes: 512 * 1024 * 1024 } as const;
