// node-redis, current major, default options: it speaks RESP3 (HELLO 3).
// Commands, a transaction (multi), a pipeline, automatic pipelining of
// concurrent commands, and a SCAN iteration, over TCP and a unix socket.
import { createClient } from 'redis';
import { createRequire } from 'node:module';
import { expect, endpoints, check, ok } from './common.mjs';

const version = createRequire(import.meta.url)('redis/package.json').version;

for (const ep of endpoints) {
  const socket = ep.path ? { path: ep.path } : { host: ep.host, port: ep.port };
  const client = createClient({ socket });
  client.on('error', (err) => { console.error(`node-redis ${ep.name}: ${err}`); process.exit(1); });
  await client.connect();

  check('PING', await client.ping(), 'PONG');
  // The connection is in RESP3: HELLO without a version says so.
  const hello = await client.sendCommand(['HELLO']);
  check('protocol', hello instanceof Map ? hello.get('proto') : hello.proto, 3);
  check('GET the', await client.get('the'), expect.the);
  check('GET absent', await client.get('nosuchwordzz'), null);
  check('MGET', await client.mGet(['you', 'nosuchwordzz']), [expect.you, null]);
  check('EXISTS', await client.exists(['the', 'nosuchwordzz']), 1);
  check('DBSIZE', await client.dbSize(), expect.dbsize);
  check('TYPE', await client.type('the'), 'string');
  check('STRLEN', await client.strLen('the'), expect.the.length);
  check('TTL', await client.ttl('the'), -1);
  check('FREQ', await client.sendCommand(['FREQ', 'the', 'nosuchwordzz']), [Number(expect.the), 0]);
  check('RANK', await client.sendCommand(['RANK', 'you']), 1);
  // A UTF-8 argument, and the contraction answered from its part.
  check("FREQ don’t DON'T", await client.sendCommand(['FREQ', 'don’t', "DON'T"]), [Number(expect.don), Number(expect.don)]);
  // RESP3: ZIPF is an array of doubles.
  const zipf = await client.sendCommand(['ZIPF', 'the', 'nosuchwordzz']);
  ok('ZIPF doubles', zipf.length === 2 && zipf.every((z) => typeof z === 'number') && zipf[0] > 7 && zipf[1].toFixed(2) === '1.30', zipf);
  // RESP3: TAG is a map of word to double.
  const tag = await client.sendCommand(['TAG', 'LIMIT', '2', 'the xylophone and the zymurgy']);
  const words = tag instanceof Map ? [...tag.keys()] : Object.keys(tag);
  const scores = tag instanceof Map ? [...tag.values()] : Object.values(tag);
  check('TAG words', words.map(String).sort(), ['xylophone', 'zymurgy']);
  ok('TAG scores are numbers', scores.every((s) => typeof s === 'number' && s > 10), tag);
  const info = await client.info('replication');
  ok('INFO replication', String(info).includes('role:master'), info);

  const tx = await client.multi().get('the').get('nosuchwordzz').sendCommand(['FREQ', 'you']).exec();
  check('MULTI/EXEC', tx, [expect.the, null, [Number(expect.you)]]);
  const pipe = await client.multi().get('the').get('you').execAsPipeline();
  check('pipeline', pipe, [expect.the, expect.you]);
  const concurrent = await Promise.all(Array.from({ length: 200 }, (_, i) => client.get(i % 2 ? 'the' : 'you')));
  ok('200 concurrent GETs', concurrent.every((v, i) => v === (i % 2 ? expect.the : expect.you)), concurrent.slice(0, 4));

  let scanned = 0;
  for await (const keys of client.scanIterator({ COUNT: 5000 })) scanned += keys.length;
  check('SCAN iteration', scanned, expect.dbsize);

  await client.quit();
  console.log(`node-redis ${version} (RESP3) ${ep.name}: commands, multi().exec(), execAsPipeline(), 200 concurrent, scanIterator: ok`);
}
