// The hostile git server ships with the conformance suite (conformance/server/); the tests use the same one.
export * from '../../conformance/server/hostile-git-server.js';
