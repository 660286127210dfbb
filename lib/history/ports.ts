// What history SQL needs from an engine (lib/adapters/duckdb locally; Athena on AWS).
import type { HistoryDialect } from './sql.js';

/** A result row as the engine returns it: numbers as number or bigint (or text), lists as arrays. */
export type HistoryRow = Record<string, unknown>;

export interface HistoryEngine {
  /** How the SQL names the tables and reads lists on this engine. */
  readonly dialect: HistoryDialect;
  /** Runs a query of sql.ts and yields its rows a page at a time, in the query's order. */
  query(sql: string): AsyncIterable<HistoryRow[]>;
  /** Replaces the node -> customer table with these pairs. */
  putNodeCustomers(pairs: Iterable<readonly [node: string, customerId: string]>): Promise<void>;
}
