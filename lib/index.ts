/**
 * The hookgate package (`import { Hookgate } from 'hookgate'`): the construct, the reference
 * stack and app helpers, the config's types and loader, and the processor API. Code that runs
 * in a Lambda imports `hookgate/runtime` instead, which holds no CDK code.
 */
export { Hookgate, type HookgateProps, projectRootOf, type ResolvedConfig, resolveHookgateConfig } from './hookgate';
export { HookgateStack, type HookgateStackProps, HOOKGATE_ID } from './hookgate-stack';
export {
  addCompliancePacks,
  addHookgateStacks,
  deployableEnvironments,
  FEATURE_FLAGS,
  type HookgateAppOptions,
  newHookgateApp,
  stackName,
} from './app';
export { ConfigError, loadConfig, parseConfig } from './config-file';
export { HookgateStackError, MAX_SOURCES, validateStackInput } from './stack-props';
export type { SourceCell } from './constructs/source-cell';
export type {
  AlarmConfig,
  EnvironmentConfig,
  EnvironmentConfigInput,
  NamedSource,
  ProviderName,
  SourceConfig,
  SourceConfigInput,
} from '../lambda/config/schema';
export type {
  DestinationConfig,
  DestinationConfigInput,
  EventBridgeDestinationConfig,
  HttpDestinationConfig,
  LambdaDestinationConfig,
} from '../lambda/config/destinations';
export * from './runtime';
