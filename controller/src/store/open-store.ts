// Which store a controller opens: the embedded store under --data unless --store (or DUCK_STORE_URL)
// names a PostgreSQL database. The PostgreSQL store and its driver load only when one is named.
import type { FleetStore } from './fleet-store.js';
import { EmbeddedFleetStore } from './embedded-fleet-store.js';

/** A --store value, checked; throws naming the option when it is not a postgres:// URL. */
export function checkStoreUrl(spec: string, option = '--store'): string {
  if (!/^postgres(ql)?:\/\//.test(spec)) throw new Error(`${option}: expected a postgres://user:password@host:port/database URL, got "${spec.replace(/:[^:@/]*@/, ':***@')}"`);
  return spec;
}

export async function openFleetStore(dataDir: string, storeUrl?: string, warn?: (message: string) => void): Promise<FleetStore> {
  if (storeUrl === undefined) return EmbeddedFleetStore.open(dataDir, { warn });
  const { PgFleetStore } = await import('./pg-fleet-store.js');
  return PgFleetStore.open(checkStoreUrl(storeUrl));
}
