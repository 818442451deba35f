// The TypeScript shapes of the files the schemas validate. They mirror the JSON Schemas key for
// key; index.ts holds compile-time checks that the property names cannot drift from the schemas.

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];
/** A day or an inclusive range of days ("mon-fri"; "fri-mon" wraps over the weekend). */
export type DaySpec = Day | `${Day}-${Day}`;

/** A maintenance window: when automatic changes may start. */
export interface Window {
  /** One day spec or a non-empty list of them. */
  days: DaySpec | DaySpec[];
  /** "HH:MM", 24-hour clock. */
  start: string;
  /** "3h", "90m", "1h30m". */
  duration: string;
  /** IANA zone name; the node's local zone when absent. Checked in code, not by the schema. */
  timezone?: string;
}

// channel.yaml

export interface ChannelSigner {
  name: string;
  /** Path of a public key file inside the channel repository: armored OpenPGP or one OpenSSH key line. Exactly one of key and ssh. */
  key?: string;
  /** An inline OpenSSH public key line (`ssh-ed25519 AAAA… comment`), as in git's allowed_signers. */
  ssh?: string;
  /** `promote`: may only move groups among versions already published (default `all`). */
  scope?: SignerScope;
}

export type SignerScope = 'all' | 'promote';

export interface ChannelFile {
  /** Grows with every change of the trust policy. */
  version: number;
  signers: ChannelSigner[];
  /** A duration ("7d"): older accepted commits make the channel stale. */
  freshness?: string;
  /** What promotion-only signers may not go below. */
  promotion?: { floor?: Record<string, string> };
  description?: string;
  /** k-of-n rules: changes to these paths need `count` distinct signers (DESIGN §3). */
  thresholds?: ChannelThreshold[];
}

export interface ChannelThreshold {
  /** Files, or directory prefixes ending in '/'; `channel.yaml` means the trust policy. */
  paths: string[];
  count: number;
  /** Signer names; every channel.yaml signer when absent. */
  signers?: string[];
}

// groups/<group>.yaml

export interface RolloutStep {
  percent: number;
  /** RFC 3339 date-time. */
  at: string;
}

export interface AgentPin {
  /** agents/<version>/agent.yaml binds its artifacts. */
  version: string;
}

export interface GroupFile {
  /** app -> version */
  apps: Record<string, string>;
  windows?: Window[];
  rollout?: RolloutStep[];
  urgent?: boolean;
  agent?: AgentPin;
  description?: string;
}

// agents/<version>/agent.yaml

export interface AgentArtifactSpec {
  url: string;
  sha256: string;
  size: number;
}

export interface AgentReleaseFile {
  version: string;
  notes?: string;
  /** linux-x64, linux-arm64 -> the tarball for it. */
  artifacts: Record<string, AgentArtifactSpec>;
}

// announcements.yaml (the channel root)

export type AnnouncementSeverity = 'info' | 'warning' | 'critical';

/** Which nodes see a notice; every key given must match. */
export interface AnnouncementTarget {
  groups?: string[];
  /** App -> version range (">=1.2.0 <2.0.0"). */
  apps?: Record<string, string>;
  /** A version range for the agent's own version. */
  agent?: string;
}

export interface Announcement {
  id: string;
  title: string;
  /** Markdown. */
  body: string;
  severity: AnnouncementSeverity;
  /** RFC 3339. */
  expires: string;
  target?: AnnouncementTarget;
}

export type AnnouncementsFile = Announcement[];

// releases/<app>/<version>/release.yaml

export interface ImageArchive {
  /** An http(s) URL or a path relative to the release directory. */
  url: string;
  sha256: string;
  size: number;
}

export interface ImageSpec {
  /** The reference the compose file uses; pinned by digest unless `id` is given. */
  ref: string;
  /** "sha256:<64 hex>", checked after docker load. */
  id?: string;
  archive?: ImageArchive;
}

export interface HttpProbe {
  http: string;
  /** Expected HTTP status, 200 when absent. */
  status?: number;
  timeout?: string;
}

export interface TcpProbe {
  /** "host:port" */
  tcp: string;
  timeout?: string;
}

export interface CommandProbe {
  command: string[];
  /** The compose service the command runs in. */
  service: string;
  timeout?: string;
}

/** Exactly one of http, tcp or command. */
export type Probe = HttpProbe | TcpProbe | CommandProbe;

export interface HealthSpec {
  timeout?: string;
  probes?: Probe[];
}

export interface BackupSpec {
  /** Relative to the app's data directory. */
  paths?: string[];
  volumes?: string[];
}

export type Migrations = 'reversible' | 'irreversible';

export interface ReleaseFile {
  app: string;
  version: string;
  notes?: string;
  /** Empty when absent. */
  images?: ImageSpec[];
  health?: HealthSpec;
  backup?: BackupSpec;
  /** "reversible" when absent. */
  migrations?: Migrations;
  retries?: number;
  /** relative path -> sha256 hex, every file of the release except release.yaml. */
  files: Record<string, string>;
}

// the node-local overlay

export interface Hold {
  reason: string;
  /** A date ("2026-12-31") or an RFC 3339 date-time. */
  until?: string;
}

export interface ScheduleEntry {
  at: string;
}

export interface ComposeOverride {
  files?: string[];
  env?: Record<string, string>;
}

export type Approval = 'manual' | 'auto';

export interface OverlayFile {
  hold?: Hold;
  /** app -> version */
  pin?: Record<string, string>;
  approval?: Approval;
  /** Replaces the group's windows. */
  windows?: Window[];
  schedule?: Record<string, ScheduleEntry>;
  compose?: Record<string, ComposeOverride>;
}

// /etc/duck/agent.yaml

export interface ChannelSource {
  /** http://, https:// or file:// */
  url: string;
  /** "main" when absent. */
  branch?: string;
  /** A duration, "60s" when absent. */
  interval?: string;
  token?: string;
  tokenFile?: string;
  /** The tip pointer's URL (DESIGN §4.5). */
  pointer?: string;
  /** Mirrors tried in order after url: a URL (no token) or one with its own token file. */
  mirrors?: (string | ChannelMirror)[];
}

export interface ChannelMirror {
  url: string;
  tokenFile?: string;
}

export interface TrustConfig {
  /** Paths of armored public keys, relative to the config file or absolute. */
  keys: string[];
}

export interface Limits {
  maxFileBytes?: number;
  maxFetchBytes?: number;
  maxReleaseFiles?: number;
  /** A duration, "5m" when absent. */
  fetchTimeout?: string;
  /** A duration, "60s" when absent. */
  fetchIdleTimeout?: string;
}

export interface ControllerConfig {
  url: string;
  enrollToken?: string;
  enrollTokenFile?: string;
  /** A duration, "1m" when absent. */
  interval?: string;
  /** 10000 when absent. */
  outboxLimit?: number;
}

export interface AgentConfigFile {
  channel: ChannelSource;
  group: string;
  trust: TrustConfig;
  /** "/var/lib/duck" when absent. */
  stateDir?: string;
  /** "/etc/duck/overlay.yaml" when absent. */
  overlay?: string;
  limits?: Limits;
  controller?: ControllerConfig;
  /** The console `duck run` serves on 127.0.0.1 (DESIGN §4.9). */
  console?: { port: number };
  agentId?: string;
  apply?: ApplySettings;
  /** "5m" when absent: the window a fleet that boots together spreads its first fetch and report over. */
  startSpread?: string;
  selfUpdate?: SelfUpdateSettings;
}

export interface SelfUpdateSettings {
  /** "auto" when absent: systemd when /run/systemd/system exists, else detached. */
  serviceManager?: 'auto' | 'systemd' | 'detached';
  /** "/usr/lib/duck" when absent. */
  buildsDir?: string;
  /** "5m" when absent. */
  healthTimeout?: string;
}

export interface ApplySettings {
  appsDir?: string;
  backupsDir?: string;
  keepBackups?: number;
  keepReleases?: number;
  maxLockDefer?: string;
  minFreeBytes?: number;
  engineWait?: string;
}

// ── Messages between agent and controller (JSON, not YAML) ──────────────────────────────────────

export interface NodeFacts {
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  docker?: string | null;
  compose?: string | null;
  group: string;
}

export interface ChannelRefusalStatus {
  reason: string;
  message: string;
  tip?: string;
  at: string;
}

export interface ChannelStatus {
  commit: string | null;
  committedAt: string | null;
  acceptedAt?: string | null;
  lastCheckAt?: string | null;
  stale: boolean;
  refusal: ChannelRefusalStatus | null;
  fetchFailure?: FetchFailureStatus | null;
}

export interface FetchFailureStatus {
  reason: string;
  message: string;
  since: string;
  at: string;
  failures: number;
  nextTryAt: string;
}

export interface BackoffStatus {
  cause: string;
  message?: string;
  failures: number;
  since?: string;
  nextTryAt: string;
}

export const WAIT_KINDS = ['window', 'rollout', 'hold', 'approval', 'schedule', 'stopped', 'failed', 'backoff', 'clock', 'release'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

export type AppDecision = 'apply' | 'wait' | 'none';
export type AppRunState = 'running' | 'stopped' | 'failed' | 'orphaned' | 'absent';

export interface AppStatus {
  app: string;
  current: string | null;
  desired: string | null;
  decision: AppDecision;
  reason: string;
  state?: AppRunState;
  failedVersion?: string;
  groupVersion?: string | null;
  pinned?: boolean;
  waitingFor?: WaitKind;
  until?: string | null;
  backoff?: BackoffStatus;
}

export interface AgentStatus {
  group: string;
  held?: boolean;
  channel: ChannelStatus;
  apps: AppStatus[];
  /** The agent's own build and its self-update decision; older agents omit it. */
  agent?: AgentUpdateStatus;
  /** The announcements in force on the node (an id alone from agents before acknowledgements); absent when none are (and from older agents). */
  announcements?: Array<string | AnnouncementSeen>;
  /** The ids of those the operator acknowledged; absent when none are. */
  acknowledged?: string[];
}

/** An announcement in force on a node, as its report names it. */
export interface AnnouncementSeen {
  id: string;
  title: string;
  severity: AnnouncementSeverity;
}

/** An agent version that failed on this node: refused before the switch, or switched back after it. */
export interface AgentUpdateFailure {
  version: string;
  at: string;
  reason: string;
  /** The updater's step: download, stage, self-test, switch, restart, health-wait. */
  step: string;
}

/** The agent's running version, the one its group or the overlay's pin asks for, and the decision. */
export interface AgentUpdateStatus {
  current: string;
  desired: string | null;
  decision: AppDecision;
  reason: string;
  /** Not tried again until their release changes or `duck self-update --retry`. */
  failed: AgentUpdateFailure[];
}

export const REPORT_EVENT_TYPES = [
  'install',
  'upgrade',
  'downgrade',
  'reconfigure',
  'restore',
  'backup',
  'retry',
  'stopped',
  'started',
  'orphaned',
  'purged',
  /** The agent's own build: from/to are agent versions, no app. */
  'agent-update',
  'channel-refused',
  'events-dropped',
] as const;
export type ReportEventType = (typeof REPORT_EVENT_TYPES)[number];
export type ChangeOutcome = 'applied' | 'rolled-back' | 'rollback-failed' | 'deferred' | 'failed' | 'interrupted';

export interface ReportEvent {
  id: string;
  at: string;
  type: ReportEventType;
  outcome?: ChangeOutcome;
  app?: string;
  from?: string | null;
  to?: string | null;
  reason?: string;
  commit?: string;
  ms?: number;
  count?: number;
  blame?: FailureBlame;
}

export type FailureBlame = 'release' | 'infrastructure';

export interface ReportMessage {
  agentId: string;
  sentAt: string;
  facts?: NodeFacts;
  status: AgentStatus;
  events: ReportEvent[];
}

export interface RegisterMessage {
  agentId: string;
  facts: NodeFacts;
}

export interface SchemaTypes {
  channel: ChannelFile;
  group: GroupFile;
  release: ReleaseFile;
  'agent-release': AgentReleaseFile;
  announcements: AnnouncementsFile;
  overlay: OverlayFile;
  'agent-config': AgentConfigFile;
  report: ReportMessage;
  register: RegisterMessage;
}

export type SchemaName = keyof SchemaTypes;
export const SCHEMA_NAMES: readonly SchemaName[] = ['channel', 'group', 'release', 'agent-release', 'announcements', 'overlay', 'agent-config', 'report', 'register'];

/** One schema or YAML problem; line and column are 1-based and absent when there is no source text. */
export interface SchemaProblem {
  line?: number;
  column?: number;
  /** JSON pointer of the value the problem is about ('' for the document or a YAML syntax error). */
  field: string;
  message: string;
}
