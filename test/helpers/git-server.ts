// The git smart-HTTP server the tests use is the demo's own (one piece of code serves both).
export { startGitServer } from '../../examples/demo/git-http-server.js';
export type { GitServer, GitServerOptions, GitServerRequest } from '../../examples/demo/git-http-server.js';
