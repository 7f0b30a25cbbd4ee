/**
 * @module serverfull
 * Public API: start a Lambda-compatible server from code.
 */
export { serve, type ServeOptions, type RunningServer } from './serve.js';
export { startLambda, type LambdaOptions, type RunningLambda } from './lambda/start-lambda.js';
export type { RuntimeLoopEnd } from './runtime-client/runtime-loop.js';
export type { FunctionConfig } from './config/manifest.js';
export type { Settings } from './config/settings.js';
export { ConfigError } from './config/config-error.js';
export type { LambdaHandler, IsolationKind, FunctionNetwork, FunctionDefinition } from './registry/function-definition.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export {
  lifecycleChannelNames, subscribeLifecycle,
  type LifecycleMessages, type InvocationStartMessage, type InvocationEndMessage, type InvocationEndOutcome, type ThrottleReason,
  type ColdStartMessage, type EnvironmentCreateMessage, type EnvironmentStopMessage, type EnvironmentStopReason, type EnvironmentKind,
  type FunctionVersionRef,
} from './runtime/lifecycle-events.js';
