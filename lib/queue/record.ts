// A queue message as consumers see it, independent of the Lambda event shape.
export interface QueueRecord {
  readonly id: string;
  readonly body: string;
}
