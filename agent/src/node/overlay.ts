import type { Document } from 'yaml';
import type { OverlayFile } from '../../../schemas/index.js';
import { editOverlay, loadOverlay } from '../adapters/overlay-file.js';

/**
 * The operator's overlay (DESIGN §4.1): pin, hold, schedule and friends edit it with comments and
 * key order kept; the daemon's watcher picks the edit up. It is the operator's file, not the
 * state directory, so no writer session is needed to change it.
 */
export function editOverlayFile(file: string, edit: (doc: Document) => void): Promise<OverlayFile> {
  return editOverlay(file, edit);
}

export function readOverlayFile(file: string): Promise<OverlayFile> {
  return loadOverlay(file);
}
