// npm run keys -- create --role write|read|admin --source <id> [--name <text>] | list | revoke <keyId>
import { parseArgs } from 'node:util';
import { apiKeysTable } from '../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey, Role } from '../lib/auth/apiKeys.js';
import { createDynamoDb } from '../lib/aws/clients.js';
import { runCli, targetConfig } from './target.js';

const USAGE = `usage:
  npm run keys -- create --role write --source web [--name "Web app"]
  npm run keys -- list
  npm run keys -- revoke <keyId>`;

runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { role: { type: 'string' }, source: { type: 'string' }, name: { type: 'string' } },
  });
  const config = await targetConfig();
  const store = apiKeysTable(createDynamoDb(config), config.tables.apiKeys);
  const [command, arg] = positionals;
  switch (command) {
    case 'create': {
      const role = Role.safeParse(values.role);
      if (!role.success || !values.source)
        throw new Error(`--role (write, read or admin) and --source are required\n${USAGE}`);
      const { key, record } = await createApiKey(
        {
          role: role.data,
          sourceId: values.source,
          name: values.name ?? `${role.data} key for ${values.source}`,
        },
        store,
      );
      console.log(`created ${record.keyId} (${record.role}, source ${record.sourceId})`);
      console.log(`key: ${key}`);
      console.log('The key is shown once; only its hash is stored.');
      return;
    }
    case 'list':
      for (const k of await store.list()) {
        console.log(
          [
            k.keyId,
            k.role.padEnd(5),
            k.sourceId,
            k.createdAt,
            k.revokedAt ? `revoked ${k.revokedAt}` : 'active',
            k.name,
          ].join('  '),
        );
      }
      return;
    case 'revoke':
      if (!arg) throw new Error(USAGE);
      if (!(await store.revoke(arg, new Date().toISOString()))) throw new Error(`no key ${arg}`);
      console.log(`revoked ${arg} (cached lookups expire within ${config.apiKeyCacheSeconds} s)`);
      return;
    default:
      throw new Error(USAGE);
  }
});
