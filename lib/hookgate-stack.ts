import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Hookgate, type HookgateProps, resolveHookgateConfig } from './hookgate';

/** Props of {@link HookgateStack}: a stack's, and the {@link Hookgate} it holds. */
export interface HookgateStackProps extends StackProps, HookgateProps {}

/**
 * The id of the stack's one {@link Hookgate}. CDK leaves a construct named `Default` out of the
 * logical ids below it (and out of their hashes), so every resource keeps the logical id it had
 * when the stack built them itself: a deployed stack updates in place, nothing stateful is
 * replaced. Only the construct paths in the template's metadata gain `/Default`.
 */
export const HOOKGATE_ID = 'Default';

/**
 * One deployable hookgate environment: a stack holding one {@link Hookgate} (the reference app,
 * bin/hookgate.ts). A team that has its own stacks puts a Hookgate in one of them instead.
 */
export class HookgateStack extends Stack {
  /** The construct this stack holds; the fields below are its. */
  public readonly hookgate: Hookgate;
  public readonly key: Hookgate['key'];
  public readonly onCall: Hookgate['onCall'];
  public readonly network?: Hookgate['network'];
  public readonly dedupe: Hookgate['dedupe'];
  public readonly deliveries?: Hookgate['deliveries'];
  public readonly payloads: Hookgate['payloads'];
  public readonly cells: Hookgate['cells'];
  public readonly ingress: Hookgate['ingress'];
  public readonly firewall: Hookgate['firewall'];
  public readonly edgeAlarms: Hookgate['edgeAlarms'];
  public readonly dashboard: Hookgate['dashboard'];

  constructor(scope: Construct, id: string, props: HookgateStackProps) {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the input config and base folder are replaced by the resolved ones below
    const { environmentName, config: _input, configBaseDir: _baseDir, verifierEntry, processorEntry, processorEntries, vpc, vpcSubnets, deliveryEntry, ...stackProps } = props;
    // Validated before the stack exists: an invalid config leaves nothing half-built in the app.
    const { config, baseDir } = resolveHookgateConfig(props);
    super(scope, id, { description: `hookgate ${environmentName}: webhook ingestion`, ...stackProps });
    this.hookgate = new Hookgate(this, HOOKGATE_ID, { environmentName, config, configBaseDir: baseDir, verifierEntry, processorEntry, processorEntries, vpc, vpcSubnets, deliveryEntry });
    ({
      key: this.key,
      onCall: this.onCall,
      network: this.network,
      dedupe: this.dedupe,
      deliveries: this.deliveries,
      payloads: this.payloads,
      cells: this.cells,
      ingress: this.ingress,
      firewall: this.firewall,
      edgeAlarms: this.edgeAlarms,
      dashboard: this.dashboard,
    } = this.hookgate);
  }
}
