// What `duck --help` prints for each command, apart from the commands themselves: the help lists
// every command without importing one (each pulls in git, OpenPGP, schemas or Docker code).
// Each command's `meta` is its entry here, so the two cannot drift.
export const COMMAND_META = {
  init: { name: 'init', description: 'Write a commented agent config to edit (refuses to overwrite one)' },
  verify: {
    name: 'verify',
    description: 'Fetch the release channel and verify it: print the accepted commit, or why it was refused (exit 3). With duck run running, it does the fetch.',
  },
  check: {
    name: 'check',
    description:
      'Fetch and verify the channel, merge the overlay, and show what this node would do and why: each app current/desired/decision/reason and the plan. Executes nothing.',
  },
  status: {
    name: 'status',
    description:
      'Show this node from its local state, without fetching: accepted commit and age, whether it is stale, a channel that cannot be fetched, per app current/desired/state/decision/reason, back-offs, windows, hold, pins, last result',
  },
  pin: {
    name: 'pin',
    description:
      'Pin an app (or, as `duck pin agent <version>`, the Duck agent itself) to a version on this node, whatever the group says. Edits the overlay (comments kept); the version must be in the last accepted channel commit (exit 3 if not).',
  },
  unpin: { name: 'unpin', description: 'Remove the pin of an app (or of the agent: duck unpin agent) from the overlay (comments kept): the node follows its group again' },
  hold: {
    name: 'hold',
    description: 'Hold this node: no version changes at all (urgent releases included) until the hold ends or `duck unhold`. Edits the overlay, comments kept.',
  },
  unhold: { name: 'unhold', description: 'Remove the hold from the overlay (comments kept): version changes resume' },
  schedule: {
    name: 'schedule',
    description:
      'Schedule a one-shot upgrade of an app at a given time, whatever the windows say (--at), or cancel it (--cancel). Edits the overlay, comments kept; the app must be in the last accepted channel commit (exit 3 if not).',
  },
  announcements: {
    name: 'announcements',
    description:
      "List the channel's announcements in force on this node, each marked unread or acknowledged (from the local state, no fetch); `duck announcements ack <id>` acknowledges one, and the next report tells the controller. With duck run running, it records the acknowledgement.",
  },
  console: {
    name: 'console',
    description:
      "Serve the node's console on 127.0.0.1 (or let the running duck run serve it, agent.yaml console.port); --open prints a one-time login link. Another address needs --listen with --tls-cert and --tls-key.",
  },
  run: {
    name: 'run',
    description:
      'Run the agent: poll the channel every interval, verify, merge the overlay and move the stacks inside their windows (backup first, health check after, automatic rollback). SIGTERM stops it between changes.',
  },
  upgrade: {
    name: 'upgrade',
    description:
      'Move now to the version the channel (or a pin) asks for, outside windows and manual approval: shows current and target versions and the release notes, asks, then applies with backup, health check and rollback. With duck run running, it does the change.',
  },
  start: { name: 'start', description: "Start an app the operator stopped (compose up -d with its current release); the agent manages it again" },
  stop: { name: 'stop', description: "Stop an app's containers (kept, with their data); the agent leaves it stopped, and makes no change to it, until duck start" },
  restart: { name: 'restart', description: "Stop and start an app's containers with its current release" },
  ps: { name: 'ps', description: "An app's containers: service, state, health, image" },
  logs: { name: 'logs', description: "Show the logs of an app's containers (docker logs, newest lines last)" },
  history: { name: 'history', description: 'What the agent did, newest last: upgrades, rollbacks, deferrals, backups, operator acts' },
  'self-update': {
    name: 'self-update',
    description:
      "Update this agent's own build: download (sha256-checked, resumable), stage beside the current one, run its self-test, switch, restart through the service manager and wait for its healthy cycle; otherwise switch back. Exit 1 when refused or rolled back.",
  },
  'self-test': {
    name: 'self-test',
    description: 'Check this build: it starts, reads the config and the state, and verifies the accepted commit from the local clone, offline. Exit 0 or 1 with the reason.',
  },
  retry: {
    name: 'retry',
    description: 'Try a version that failed on this node again: lifts its quarantine and reconciles the app now (inside its window and rollout, as any change)',
  },
  backup: {
    name: 'backup',
    description:
      "Back up an app now: its data paths and named volumes with its release directory, sha256 per file. The app stops for the copy (a consistent backup) and starts again.",
  },
  backups: {
    name: 'backups',
    description: 'List the backups on this node, newest first (alias list-backups); unreadable ones are listed as broken, and with --all the unfinished ones a killed agent left',
  },
  restore: {
    name: 'restore',
    description:
      "Put an app back as a backup holds it (alias rollback): checks the backup's sha256 manifest, backs up the data as it is now, restores, switches to the version that made the backup, waits for health (rolling back on failure) and pins that version. Asks you to type the app name (or --confirm <app>).",
  },
  purge: {
    name: 'purge',
    description:
      'Remove an orphaned app (no longer in the group) for good: its containers, named volumes, releases and data. Backups are kept. Asks you to type the app name (or --confirm <app>).',
  },
  diagnostics: {
    name: 'diagnostics',
    description:
      "Build a .tar.gz of this node's diagnostics (config and overlay with secrets redacted, state summary, history, versions, OS and Docker facts, compose and agent logs) and list every file in it. --upload sends it to the controller, only after you say yes.",
  },
  release: { name: 'release', description: 'Publish to a release channel: keygen, init, add, promote, lint, commit, sign, approve (the two-person rule), verify; gate a promotion on a rollout; agent add, set: the agent builds; announce: a notice for the nodes' },
} as const;
