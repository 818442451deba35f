// The overlay's `pin` map holds the apps' pins and, under the reserved name `agent`, the pin of
// the agent's own version (DESIGN §4.7): `duck release lint` refuses an app of that name, and every
// reader of app pins goes through appPins so the agent's pin is never taken for an app.
import type { OverlayFile } from '../../../schemas/index.js';

export const AGENT_PIN = 'agent';

/** The overlay's pins of apps: every pin but the agent's. */
export function appPins(overlay: OverlayFile): Record<string, string> {
  const { [AGENT_PIN]: _agent, ...apps } = overlay.pin ?? {};
  return apps;
}

/** The agent version pinned on this node, or null. */
export function agentPinOf(overlay: OverlayFile): string | null {
  return overlay.pin?.[AGENT_PIN] ?? null;
}
