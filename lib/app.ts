import { join } from 'node:path';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { environmentsIn, loadConfig } from './config-file';
import { projectRootOf } from './hookgate';
import { HookgateStack } from './hookgate-stack';
import { LOCAL_ONLY_ENVIRONMENTS } from './stack-props';

/**
 * Feature flags hookgate relies on, set on the app itself so tests and `cdk synth` build the
 * same templates. Server access logs are granted by bucket policy, not the deprecated ACL.
 */
export const FEATURE_FLAGS: Readonly<Record<string, boolean>> = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

/** A CDK app with hookgate's feature flags. */
export function newHookgateApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
}

/** Options of {@link addHookgateStacks}. */
export interface HookgateAppOptions {
  /** Folder of `<env>.json` files. */
  readonly configDir: string;
  /** Only this environment (`-c env=<name>`). @default every deployable config in configDir */
  readonly environment?: string;
  /** Verifier entry point. @default lambda/verifier/index.ts */
  readonly verifierEntry?: string;
  /** The processors' handlers module (a module exporting `handlers`). @default lambda/processor/routes.ts */
  readonly processorEntry?: string;
}

/** The deployable environments in a config folder: every `<env>.json` except local-only ones and the JSON Schema. */
export function deployableEnvironments(configDir: string): string[] {
  return environmentsIn(configDir).filter((env) => !LOCAL_ONLY_ENVIRONMENTS.includes(env));
}

/** Stack name of an environment. */
export function stackName(environment: string): string {
  return `hookgate-${environment}`;
}

/** Adds one stack per environment to the app. */
export function addHookgateStacks(app: App, options: HookgateAppOptions): HookgateStack[] {
  const environments = options.environment !== undefined ? [options.environment] : deployableEnvironments(options.configDir);
  return environments.map((environment) => {
    const file = join(options.configDir, `${environment}.json`);
    const config = loadConfig(file, environment);
    return new HookgateStack(app, stackName(environment), {
      environmentName: environment,
      config,
      configBaseDir: projectRootOf(file),
      env: {
        account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
        region: config.region ?? process.env.CDK_DEFAULT_REGION,
      },
      verifierEntry: options.verifierEntry,
      processorEntry: options.processorEntry,
    });
  });
}

/**
 * Runs the AWS Solutions and HIPAA Security packs on every synth. cdk-nag 3 is a CDK validation
 * plugin: any unacknowledged finding makes synthesis fail.
 */
export function addCompliancePacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new HIPAASecurityChecks(app, { verbose: true }));
}
