// What history SQL needs from an engine (lib/adapters/duckdb locally; Athena on AWS).
import type { HistoryTables } from './sql.js';

/** A result row as the engine returns it: numbers as number or bigint (or text), lists as arrays. */
export type HistoryRow = Record<string, unknown>;

export interface HistoryEngine {
  /** The names the SQL uses for the facts and the node -> customer table. */
  readonly tables: HistoryTables;
  /** Runs a query of sql.ts and yields its rows a page at a time, in the query's order. */
  query(sql: string): AsyncIterable<HistoryRow[]>;
  /** Replaces the node -> customer table with these pairs. */
  putNodeCustomers(pairs: Iterable<readonly [node: string, customerId: string]>): Promise<void>;
}
