// Segments table (pk, sk): the runs of segmentation and each customer's current assignment.
//   pk "run"            sk <runId>       one item per run (status, parameters, summary)
//   pk "runs"           sk <asOf>|<requestedAt>|<runId>
//                                        the same record again, in listing order: newest first is one
//                                        bounded Query (a table of years of runs is never read whole);
//                                        written after the run item on every update
//   pk "published"      sk "run"         the live run whose assignments profiles carry
//   pk <customerId>     sk "assignment"  the customer's segment, RFM and reasons from the published run
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Assignment, RunRecord } from '../../segmentation/model.js';
import type { RunStore } from '../../segmentation/ports.js';
import { batchWrite } from './batchWrite.js';
import { isConditionFailed } from './errors.js';

const RUN = 'run';
const RUNS = 'runs';
const PUBLISHED = 'published';
const ASSIGNMENT = 'assignment';
/** Parallel BatchWriteItem calls when writing a run's assignments. */
const WRITERS = 8;

/** ISO-8601 UTC times of one length compare in time order, so the sort key orders as-of, then request. */
const listingKey = (run: Pick<RunRecord, 'asOf' | 'requestedAt' | 'runId'>) =>
  `${run.asOf}|${run.requestedAt}|${run.runId}`;
const StoredAssignment = Assignment.extend({ runId: RunRecord.shape.runId, asOf: RunRecord.shape.asOf });

export function segmentsTable(client: DynamoDBDocumentClient, table: string): RunStore {
  return {
    async getRun(runId) {
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { pk: RUN, sk: runId }, ConsistentRead: true }),
      );
      return out.Item ? RunRecord.parse(out.Item) : undefined;
    },

    async putRun(run) {
      await client.send(new PutCommand({ TableName: table, Item: { ...run, pk: RUN, sk: run.runId } }));
      await client.send(
        new PutCommand({ TableName: table, Item: { ...run, pk: RUNS, sk: listingKey(run) } }),
      );
    },

    async listRuns({ limit, after, asOfBefore }) {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          // `<asOf>|…` sorts after `<asOf>` itself: `sk < :before` keeps exactly the earlier as-of times.
          KeyConditionExpression: asOfBefore === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :before',
          ExpressionAttributeValues: {
            ':pk': RUNS,
            ...(asOfBefore === undefined ? {} : { ':before': asOfBefore }),
          },
          ScanIndexForward: false,
          Limit: limit,
          ConsistentRead: true,
          ExclusiveStartKey: after === undefined ? undefined : { pk: RUNS, sk: after },
        }),
      );
      const runs = (out.Items ?? []).map((item) => RunRecord.parse(item));
      const last = out.LastEvaluatedKey?.sk;
      return typeof last === 'string' ? { runs, next: last } : { runs };
    },

    async publishedRun() {
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { pk: PUBLISHED, sk: RUN }, ConsistentRead: true }),
      );
      return typeof out.Item?.runId === 'string' ? out.Item.runId : undefined;
    },

    async claimPublished(runId, asOf, { replaceSameAsOf }) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { pk: PUBLISHED, sk: RUN, runId, asOf },
            // ISO-8601 UTC strings compare in time order.
            ConditionExpression: `attribute_not_exists(pk) OR asOf ${replaceSameAsOf ? '<=' : '<'} :asOf OR runId = :runId`,
            ExpressionAttributeValues: { ':asOf': asOf, ':runId': runId },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async putAssignments(runId, asOf, assignments) {
      const requests = assignments.map((a) => ({
        PutRequest: { Item: { ...a, runId, asOf, pk: a.customerId, sk: ASSIGNMENT } },
      }));
      const chunk = Math.ceil(requests.length / WRITERS);
      await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          batchWrite(client, table, requests.slice(i * chunk, (i + 1) * chunk)),
        ),
      );
    },

    async getAssignment(customerId) {
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { pk: customerId, sk: ASSIGNMENT } }),
      );
      return out.Item ? StoredAssignment.parse(out.Item) : undefined;
    },
  };
}
