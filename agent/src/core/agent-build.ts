// DESIGN §4.7: the agent's own builds as the channel publishes them and as this node keeps track of
// them. The channel side (agents/<version>/agent.yaml) and the updater both speak these types.

/** One platform's artifact: a tarball on any HTTPS server, bound by the signed commit's sha256. */
export interface AgentArtifact {
  readonly url: string;
  /** Lowercase hex sha256 of the whole tarball, checked while it streams. */
  readonly sha256: string;
  /** Its exact size in bytes: the download's cap. */
  readonly size: number;
}

/** `agents/<version>/agent.yaml` as read from an accepted commit. */
export interface AgentRelease {
  readonly version: string;
  /** Release notes (Markdown), shown before an update; empty when the file has none. */
  readonly notes: string;
  /** `linux-x64`, `linux-arm64` -> the artifact for it. */
  readonly artifacts: Readonly<Record<string, AgentArtifact>>;
  /** The sha256 of agent.yaml's bytes: a changed release makes a version that failed here eligible again. */
  readonly digest: string;
  /** The accepted commit it was read from. */
  readonly commit: string;
}

/** This machine's platform key in `artifacts` (Node's names: linux-x64, linux-arm64). */
export function platformKey(platform: string, arch: string): string {
  return `${platform}-${arch}`;
}

/** A build that failed on this node (refused before the switch, or reverted after it). */
export interface AgentBuildFailure {
  readonly version: string;
  readonly at: string;
  /** What went wrong, in words (sha256 mismatch, self-test exit 1, no healthy cycle in 5m). */
  readonly reason: string;
  /** The updater's step it failed at (download, stage, self-test, switch, restart, health-wait). */
  readonly step: string;
  /** The failed release's digest: the same version republished with another digest is tried again. */
  readonly releaseDigest: string;
  /**
   * A download that failed (the server, the network, bytes that did not match) says nothing about
   * the build: it is tried again from this time on. Absent for a build that failed to run.
   */
  readonly retryAt?: string;
}

/** The proof of health a self-update waits for: written by the daemon after each full cycle. */
export interface AgentHeartbeat {
  /** The running build's version (and its commit when it is an artifact). */
  readonly version: string;
  readonly buildCommit: string | null;
  readonly pid: number;
  /** When the cycle ended: after the poll, the verified channel and the Docker ping below. */
  readonly at: string;
  /** The accepted commit the cycle verified (null when the channel has none yet). */
  readonly channelCommit: string | null;
  readonly dockerPingAt: string;
}

export interface AgentBuildState {
  /** version -> the failure that keeps it off this node (until its release changes or `--retry`). */
  failed: Record<string, AgentBuildFailure>;
  heartbeat: AgentHeartbeat | null;
  /** The id of the last ended self-update queued as a report event (each is reported once). */
  reportedUpdate?: string;
}

export function emptyAgentBuildState(): AgentBuildState {
  return { failed: {}, heartbeat: null };
}
