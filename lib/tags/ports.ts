// The storage ports of tags (lib/adapters/dynamodb/tagsTable.ts implements both on one table; tests use
// the emulator through it). Definitions are few (a catalogue); customer tags are one record per customer
// plus a tag -> customers index that the store keeps in step with it.
import type { CustomerTag, CustomerTags, Tag, TagId } from './model.js';

export interface TagDefinitions {
  /**
   * Writes `tag` (its `version` is the one being written) unless the stored version is not
   * `tag.version - 1` (none, for version 1): false then, and nothing is written.
   */
  putDefinition(tag: Tag): Promise<boolean>;
  getDefinition(id: TagId): Promise<Tag | undefined>;
  /** Every definition, by id (a catalogue of at most MAX_TAGS). */
  listDefinitions(): Promise<Tag[]>;
  /** Removes the definition; false when there was none. */
  deleteDefinition(id: TagId): Promise<boolean>;
}

/** A customer in a tag's index. */
export interface TaggedCustomer {
  readonly customerId: string;
  readonly value: string;
  readonly since: string;
}

export interface TaggedPage {
  readonly items: readonly TaggedCustomer[];
  /** Opaque: pass back as `cursor` for the next page; absent on the last one. */
  readonly nextCursor?: string;
}

export type ReplaceOutcome = 'stored' | 'newer' | 'changed';

export interface CustomerTagStore {
  /** The customer's stored tags, or undefined before their first evaluation. */
  tagsOf(customerId: string): Promise<CustomerTags | undefined>;
  /**
   * Stores `next` as the customer's tags if the stored record is still `previous` (the one this
   * evaluation read; none for undefined): `stored`. Else nothing is stored and the answer says whether the
   * record now stored is a later evaluation (`newer`: this one stops) or not (`changed`: read again and
   * evaluate on top of it, keeping its `since`). The index is updated first (puts of new or changed tags,
   * deletes of dropped ones, against `previous`), then the record: a writer that dies between the two
   * leaves the record as it was, so the redelivery computes the same changes and finishes them; a writer
   * refused puts the index of the tags it touched back to the stored record's.
   */
  replace(previous: CustomerTags | undefined, next: CustomerTags): Promise<ReplaceOutcome>;
  /**
   * Removes the customer's tags and index entries (a customer merged into another, or erased); false when
   * none were stored.
   */
  remove(customerId: string): Promise<boolean>;
  /** A page of the customers carrying `tag` (with this value, when given), in a stable order. */
  customersWith(
    tag: TagId,
    page: { readonly value?: string; readonly limit: number; readonly cursor?: string },
  ): Promise<TaggedPage>;
  /** Whether a cursor is one `customersWith` could have returned (a forged one is the client's 400). */
  isCursor(cursor: string): boolean;
  /** How many customers carry `tag`, by value (reads the whole index of the tag: for the API, not loops). */
  count(tag: TagId): Promise<Record<string, number>>;
}

export type { CustomerTag };
