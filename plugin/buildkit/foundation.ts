/**
 * The parts of the BuildKit client that load without gRPC or protobufjs: the
 * error type and builder-address parsing. Code that never talks to a daemon
 * (the Nx graph plugin, loaded by every Nx command that computes the project
 * graph) imports these from here; `index.ts` has them too, with the rest.
 */
export { BuildkitError, describeError, type BuildkitErrorCode } from './errors';
export { parseBuilderAddress, type BuilderAddress, type TlsFiles } from './transport/builder-address';
