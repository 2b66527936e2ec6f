// ioredis, default options: commands, a transaction (multi), a pipeline
// and a SCAN stream, over TCP and a unix socket.
import Redis from 'ioredis';
import { createRequire } from 'node:module';
import { expect, endpoints, check, ok } from './common.mjs';

const version = createRequire(import.meta.url)('ioredis/package.json').version;

for (const ep of endpoints) {
  const opts = ep.path ? { path: ep.path } : { host: ep.host, port: ep.port };
  const redis = new Redis({ ...opts, maxRetriesPerRequest: 0, lazyConnect: true });
  redis.on('error', (err) => { console.error(`ioredis ${ep.name}: ${err}`); process.exit(1); });
  await redis.connect();

  check('PING', await redis.ping(), 'PONG');
  check('GET the', await redis.get('the'), expect.the);
  check('GET absent', await redis.get('nosuchwordzz'), null);
  check('MGET', await redis.mget('you', 'nosuchwordzz'), [expect.you, null]);
  check('EXISTS', await redis.exists('the', 'nosuchwordzz'), 1);
  check('DBSIZE', await redis.dbsize(), expect.dbsize);
  check('FREQ', await redis.call('FREQ', 'the', 'nosuchwordzz'), [Number(expect.the), 0]);
  // A UTF-8 argument, and the contraction answered from its part.
  check("FREQ don’t DON'T", await redis.call('FREQ', 'don’t', "DON'T"), [Number(expect.don), Number(expect.don)]);
  // RESP2 sends doubles as bulk strings.
  const zipf = (await redis.call('ZIPF', 'the', 'nosuchwordzz')).map(Number);
  ok('ZIPF', zipf.length === 2 && zipf[0] > 7 && zipf[1].toFixed(2) === '1.30', zipf);
  const tag = await redis.call('TAG', 'LIMIT', '2', 'the xylophone and the zymurgy');
  ok('TAG', Array.isArray(tag) ? tag.length === 4 && tag.includes('xylophone') : Object.keys(tag).length === 2, tag);

  const tx = await redis.multi().get('the').get('nosuchwordzz').call('FREQ', 'you').exec();
  check('MULTI/EXEC', tx, [[null, expect.the], [null, null], [null, [Number(expect.you)]]]);
  const pipe = await redis.pipeline().get('the').get('you').dbsize().exec();
  check('pipeline', pipe, [[null, expect.the], [null, expect.you], [null, expect.dbsize]]);

  let scanned = 0;
  await new Promise((resolve, reject) => {
    redis.scanStream({ count: 5000 }).on('data', (keys) => { scanned += keys.length; }).on('end', resolve).on('error', reject);
  });
  check('SCAN stream', scanned, expect.dbsize);

  await redis.quit();
  console.log(`ioredis ${version} ${ep.name}: commands, multi().exec(), pipeline().exec(), scanStream: ok`);
}
