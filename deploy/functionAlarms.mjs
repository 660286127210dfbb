// A local osls plugin: an alarm on the Errors metric (exceptions and timeouts) of every function of the
// service, notifying the alerts topic. Generated from the function list when the stack is packaged, so a
// function added to serverless.yml cannot be left without one (test/deploy checks each has it).
// Queue consumers that report per-record failures do not count as errors; their DLQs have alarms.
export default class FunctionErrorAlarms {
  /** @param {{ service: any, getProvider: (name: string) => any }} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.addAlarms() };
  }

  addAlarms() {
    const { service } = this.serverless;
    const naming = this.serverless.getProvider('aws').naming;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    for (const name of service.getAllFunctions()) {
      resources[`${naming.getNormalizedFunctionName(name)}ErrorsAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `Function ${name} failed (an exception or a timeout); see its logs and docs/operations.md`,
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: naming.getLambdaLogicalId(name) } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlertsTopic' }],
        },
      };
    }
  }
}
