// Issue 13: an upgrade creates the new version's containers while the old one still serves
// (`compose up --no-start`), then starts them through the engine in `depends_on` order, so the
// stopped window holds no compose process start. This is the pure half: which containers to start,
// in which order, or why only compose's own `up` starts this project as compose would.
import { parseAllDocuments } from 'yaml';
import type { ComposeFlavor, ServiceStatus } from './compose-model.js';

/** `compose up --no-start`: the new version's containers replace the old ones, created, not started. */
export const CREATE_ARGS: readonly string[] = ['up', '--no-start', '--force-recreate', '--remove-orphans'];

/** What of one service decides how it may be started: merged across the target's compose files. */
export interface StartService {
  readonly name: string;
  /** depends_on: service name to its condition (`service_started` for the short form). */
  readonly dependsOn: Readonly<Record<string, string>>;
  /** How many networks the service joins (0: the project's default one). */
  readonly networks: number;
  /** `links` or `external_links`: compose wires them when it starts the container (v1). */
  readonly links: boolean;
  readonly networkMode: string | null;
}

/** Either the container ids to `docker start`, in order, or why compose's `up` must start them. */
export type StartPlan = { readonly ids: string[] } | { readonly composeUp: string };

/**
 * The services `compose up` would start (those without `profiles`), merged across the compose
 * files' texts in order. Null when a text is not a compose mapping: compose reports that itself.
 */
export function startServices(texts: readonly string[]): StartService[] | null {
  const merged = new Map<string, { dependsOn: Record<string, string>; networks: Set<string>; links: boolean; networkMode: string | null; profiles: boolean }>();
  for (const text of texts) {
    const docs = parseAllDocuments(text);
    if (docs.length !== 1 || docs[0]!.errors.length > 0) return null;
    const doc = docs[0]!.toJS() as { services?: Record<string, Record<string, unknown> | null> } | null;
    if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) return null;
    for (const [name, raw] of Object.entries(doc?.services ?? {})) {
      const service = raw ?? {};
      const m = merged.get(name) ?? { dependsOn: {}, networks: new Set<string>(), links: false, networkMode: null, profiles: false };
      Object.assign(m.dependsOn, dependsOnOf(service.depends_on));
      for (const n of namesOf(service.networks)) m.networks.add(n);
      m.links ||= namesOf(service.links).length > 0 || namesOf(service.external_links).length > 0;
      if (typeof service.network_mode === 'string') m.networkMode = service.network_mode;
      m.profiles ||= service.profiles !== undefined;
      merged.set(name, m);
    }
  }
  return [...merged.entries()]
    .filter(([, m]) => !m.profiles)
    .map(([name, m]) => ({ name, dependsOn: m.dependsOn, networks: m.networks.size, links: m.links, networkMode: m.networkMode }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * How to start the containers `compose up --no-start` made for the project in `workingDir`: their
 * ids in `depends_on` order, or, when an engine start would not be compose's start, the reason.
 * Compose v1 attaches a container to its second and later networks, and wires links, only when it
 * starts it; either flavour waits for a `service_healthy` dependency itself. A project whose
 * containers are not exactly the created set (one missing, one of another directory or service,
 * as after a crash) goes to compose too, which converges whatever it finds.
 */
export function planStart(services: readonly StartService[] | null, containers: readonly ServiceStatus[], opts: { flavor: ComposeFlavor; workingDir: string }): StartPlan {
  if (services === null || services.length === 0) return { composeUp: 'the compose files name no service to start' };
  for (const s of services) {
    const waits = Object.entries(s.dependsOn).find(([, condition]) => condition !== 'service_started');
    if (waits) return { composeUp: `${s.name} waits for ${waits[0]} (${waits[1]})` };
    const other = Object.keys(s.dependsOn).find((d) => !services.some((t) => t.name === d));
    if (other !== undefined) return { composeUp: `${s.name} depends on ${other}, a service compose starts only on demand` };
    if (s.links) return { composeUp: `${s.name} has links` };
    if (s.networkMode !== null && /^(service|container):/.test(s.networkMode)) return { composeUp: `${s.name} shares the network of ${s.networkMode}` };
    if (opts.flavor === 'v1' && s.networks > 1) return { composeUp: `${s.name} joins ${s.networks} networks (compose v1 attaches all but the first at start)` };
  }
  const order = dependencyOrder(services);
  if (order === null) return { composeUp: 'depends_on has a cycle' };
  const byService = new Map<string, ServiceStatus[]>();
  for (const c of containers) {
    if (c.labels[WORKING_DIR_LABEL] !== opts.workingDir || !services.some((s) => s.name === c.service)) {
      return { composeUp: `container ${c.container} is not one the create made` };
    }
    if (!STARTABLE.has(c.state)) return { composeUp: `container ${c.container} is ${c.state}` };
    byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  }
  const ids: string[] = [];
  for (const name of order) {
    const own = byService.get(name);
    if (!own) return { composeUp: `service ${name} has no container` };
    ids.push(...own.sort((a, b) => a.container.localeCompare(b.container)).map((c) => c.containerId));
  }
  return { ids };
}

/** The `docker` argv that starts the planned containers, one after the other in the order given. */
export function startArgs(ids: readonly string[]): string[] {
  return ['start', ...ids];
}

const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';
/** A running one was started already (a second run after a kill); `docker start` leaves it be. */
const STARTABLE = new Set(['created', 'exited', 'running']);

/** Dependencies before dependants, ties by name; null on a cycle. */
function dependencyOrder(services: readonly StartService[]): string[] | null {
  const names = new Set(services.map((s) => s.name));
  const done: string[] = [];
  const pending = new Set(names);
  while (pending.size > 0) {
    const ready = [...pending].filter((n) => Object.keys(services.find((s) => s.name === n)!.dependsOn).every((d) => done.includes(d)));
    if (ready.length === 0) return null;
    for (const n of ready.sort()) {
      done.push(n);
      pending.delete(n);
    }
  }
  return done;
}

function dependsOnOf(value: unknown): Record<string, string> {
  if (Array.isArray(value)) return Object.fromEntries(value.filter((v): v is string => typeof v === 'string').map((v) => [v, 'service_started']));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, { condition?: unknown } | null>).map(([k, v]) => [k, typeof v?.condition === 'string' ? v.condition : 'service_started']),
    );
  }
  return {};
}

/** Names from a list or a mapping (networks, links). */
function namesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (value && typeof value === 'object') return Object.keys(value);
  return [];
}
