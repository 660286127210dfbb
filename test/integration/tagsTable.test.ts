// The tags table against the real emulator (dynalite): conditional definition versions; a customer's
// record and the sharded tag -> customers index kept in step by `replace` (a value changed, a tag dropped,
// a redelivery, an older evaluation losing to a newer one, a write refused over a record it did not read); listings page by
// page across shards, with a value filter, each customer exactly once; counts by value; removal.
import { afterAll, describe, expect, it } from 'vitest';
import { tagsTable } from '../../lib/adapters/dynamodb/tagsTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import type { CustomerTags, Tag } from '../../lib/tags/model.js';
import { newId } from '../support/archiveFixtures.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
afterAll(() => dynamo.destroy());
const table = tagsTable(dynamo, config.tables.tags);

const slug = () =>
  newId('t')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(-12);
const at = (minute: number) => new Date(Date.UTC(2026, 11, 8, 12, minute)).toISOString();
const record = (
  customerId: string,
  minute: number,
  tags: Record<string, string>,
  since = at(0),
): CustomerTags => ({
  customerId,
  evaluatedAt: at(minute),
  tags: Object.entries(tags).map(([tag, value]) => ({ tag, value, reasons: [`${tag} because`], since })),
});
const listed = async (tag: string, value?: string) =>
  (await table.customersWith(tag, { limit: 1000, ...(value === undefined ? {} : { value }) })).items;

describe('tag definitions', () => {
  it('are written version after version, on condition', async () => {
    const id = `def-${slug()}`;
    const v1: Tag = {
      id,
      name: 'x',
      kind: 'behavior',
      enabled: true,
      rule: { type: 'match', when: [{ kind: 'metric', metric: 'orders', op: 'gte', value: 1 }] },
      version: 1,
      updatedAt: at(0),
    };
    expect(await table.putDefinition(v1)).toBe(true);
    expect(await table.putDefinition({ ...v1, name: 'again' })).toBe(false);
    expect(await table.putDefinition({ ...v1, version: 3 })).toBe(false);
    expect(await table.putDefinition({ ...v1, name: 'y', version: 2 })).toBe(true);
    // A second writer that also read version 1 loses, and so does one that skips a version.
    expect(await table.putDefinition({ ...v1, name: 'z', version: 2 })).toBe(false);
    expect(await table.putDefinition({ ...v1, name: 'z', version: 4 })).toBe(false);
    expect(await table.getDefinition(id)).toMatchObject({ name: 'y', version: 2 });
    const other = `${id}-b`;
    expect(await table.putDefinition({ ...v1, id: other })).toBe(true);
    const ids = (await table.listDefinitions()).map((t) => t.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids.indexOf(other)).toBe(ids.indexOf(id) + 1);
    expect(await table.deleteDefinition(other)).toBe(true);
    expect(await table.deleteDefinition(id)).toBe(true);
    expect(await table.deleteDefinition(id)).toBe(false);
    expect(await table.getDefinition(id)).toBeUndefined();
  });
});

describe('customer tags and the index', () => {
  it('follow values changed and tags dropped; a redelivery changes nothing', async () => {
    const [band, owl, c] = [`band-${slug()}`, `owl-${slug()}`, `cus_${slug()}`];
    const first = record(c, 1, { [band]: 'mid', [owl]: 'true' });
    expect(await table.replace(undefined, first)).toBe('stored');
    expect(await table.tagsOf(c)).toEqual(first);
    expect(await listed(band)).toEqual([{ customerId: c, value: 'mid', since: at(0) }]);
    const second = record(c, 2, { [band]: 'premium' }, at(2));
    expect(await table.replace(first, second)).toBe('stored');
    // The same write delivered again (a consumer that died after it): refused, the state unchanged.
    expect(await table.replace(first, second)).toBe('changed');
    expect(await listed(band)).toEqual([{ customerId: c, value: 'premium', since: at(2) }]);
    expect(await listed(band, 'mid')).toEqual([]);
    expect(await listed(owl)).toEqual([]);
    expect(await table.tagsOf(c)).toEqual(second);
  });

  it('finishes the index of a writer that died before its record, on redelivery', async () => {
    const [band, c] = [`band-${slug()}`, `cus_${slug()}`];
    const first = record(c, 1, { [band]: 'mid' });
    await table.replace(undefined, first);
    // A writer whose index writes landed but whose record did not: the record is still `first`.
    const dying = tableWithFailingRecordPut();
    await expect(dying.replace(first, record(c, 2, {}))).rejects.toThrow('lost');
    expect(await listed(band)).toEqual([]);
    expect(await table.tagsOf(c)).toEqual(first);
    // The redelivery reads `first` again and completes the same change.
    expect(await table.replace(first, record(c, 2, {}))).toBe('stored');
    expect(await listed(band)).toEqual([]);
    expect((await table.tagsOf(c))?.tags).toEqual([]);
  });

  it('keeps a newer evaluation when an older one comes last, the index repaired to it', async () => {
    const [band, owl, keep, extra, c] = [
      `band-${slug()}`,
      `owl-${slug()}`,
      `keep-${slug()}`,
      `extra-${slug()}`,
      `cus_${slug()}`,
    ];
    const base = record(c, 1, { [band]: 'mid', [keep]: 'true' });
    await table.replace(undefined, base);
    // Both read `base`. The newer (minute 3) drops band, keeps keep and adds owl; the older (minute 2)
    // changes band to premium, drops keep and adds extra: every index entry it touches must be put back.
    const newer = record(c, 3, { [keep]: 'true', [owl]: 'true' });
    const older = record(c, 2, { [band]: 'premium', [extra]: 'x' }, at(2));
    expect(await table.replace(base, newer)).toBe('stored');
    expect(await table.replace(base, older)).toBe('newer');
    expect(await table.tagsOf(c)).toEqual(newer);
    expect(await listed(band)).toEqual([]);
    expect(await listed(extra)).toEqual([]);
    expect(await listed(keep)).toEqual([{ customerId: c, value: 'true', since: at(0) }]);
    expect(await listed(owl)).toEqual([{ customerId: c, value: 'true', since: at(0) }]);
  });

  it('refuses a write over a record it did not read, the index back to that record; on it, the write goes', async () => {
    const [band, owl, c] = [`band-${slug()}`, `owl-${slug()}`, `cus_${slug()}`];
    const base = record(c, 1, { [band]: 'mid' });
    await table.replace(undefined, base);
    // Both read `base`; the older (minute 2, older data) adds owl and is stored first; the newer (minute 3)
    // has no owl and keeps band: its own changes against `base` touch neither.
    const older = record(c, 2, { [band]: 'mid', [owl]: 'true' });
    const newer = record(c, 3, { [band]: 'mid' });
    expect(await table.replace(base, older)).toBe('stored');
    expect(await listed(owl)).toHaveLength(1);
    // The newer did not read the older's record: refused, and told to read it again (it is not later).
    expect(await table.replace(base, newer)).toBe('changed');
    expect(await table.tagsOf(c)).toEqual(older);
    expect(await listed(owl)).toHaveLength(1);
    expect(await table.replace(older, newer)).toBe('stored');
    expect(await table.tagsOf(c)).toEqual(newer);
    expect(await listed(owl)).toEqual([]);
    expect(await listed(band)).toEqual([{ customerId: c, value: 'mid', since: at(0) }]);
  });

  it('lists every customer of a tag once, page after page across shards, with or without a value', async () => {
    const band = `band-${slug()}`;
    const customers = Array.from({ length: 45 }, (_, i) => `cus_${slug()}${String(i).padStart(2, '0')}`);
    await Promise.all(
      customers.map((c, i) =>
        table.replace(undefined, record(c, 1, { [band]: i % 3 === 0 ? 'premium' : 'mid' })),
      ),
    );
    for (const [value, expected] of [
      [undefined, customers],
      ['premium', customers.filter((_, i) => i % 3 === 0)],
    ] as const) {
      const { seen, pages } = await walk(band, value);
      // Every customer once (a final empty page is allowed), and the same order on a second walk.
      expect(pages).toBeLessThanOrEqual(Math.ceil(expected.length / 10) + 1);
      expect(seen.length).toBe(expected.length);
      expect(new Set(seen)).toEqual(new Set(expected));
      expect((await walk(band, value)).seen).toEqual(seen);
    }
    expect(await table.count(band)).toEqual({ premium: 15, mid: 30 });
    const forged = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
    for (const garbage of [
      'not-a-cursor',
      '',
      forged({ s: 99, k: 'x' }),
      forged({ s: -1, k: 'x' }),
      forged({ s: 1.5, k: 'x' }),
      forged({ s: 3, k: '' }),
      forged({ s: 3 }),
      forged([3, 'x']),
    ])
      expect(table.isCursor(garbage), garbage).toBe(false);
    expect(table.isCursor(forged({ s: 15, k: 'cus_x' }))).toBe(true);
  });

  it('removes a customer’s record and index entries', async () => {
    const [band, c] = [`band-${slug()}`, `cus_${slug()}`];
    // A value is client data (a category may be called anything): counted as an own key.
    await table.replace(undefined, record(c, 1, { [band]: '__proto__' }));
    expect(Object.entries(await table.count(band))).toEqual([['__proto__', 1]]);
    await table.remove(c);
    await table.remove(c);
    expect(await table.tagsOf(c)).toBeUndefined();
    expect(await listed(band)).toEqual([]);
    expect(await table.count(band)).toEqual({});
  });
});

/** Every page of a tag's listing, 10 at a time, checking each page and cursor on the way (20 pages at most). */
async function walk(tag: string, value: string | undefined) {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await table.customersWith(tag, { limit: 10, value, cursor });
    expect(page.items.length).toBeLessThanOrEqual(10);
    expect(page.items.filter((x) => value !== undefined && x.value !== value)).toEqual([]);
    seen.push(...page.items.map((x) => x.customerId));
    cursor = page.nextCursor;
    expect(cursor === undefined || table.isCursor(cursor)).toBe(true);
    pages++;
  } while (cursor !== undefined && pages < 20);
  return { seen, pages };
}

/** The table, but the record's conditional put fails after the index writes (a consumer dying there). */
function tableWithFailingRecordPut() {
  const failing = {
    ...dynamo,
    send: (command: { input?: { ConditionExpression?: string } }) =>
      command.input?.ConditionExpression?.includes('evaluatedAt')
        ? Promise.reject(new Error('lost'))
        : dynamo.send(command as never),
  } as unknown as typeof dynamo;
  return tagsTable(failing, config.tables.tags);
}
