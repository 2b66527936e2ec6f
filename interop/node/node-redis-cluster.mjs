// node-redis's createCluster against three freqd shards: every form in the
// expectations file (the first argument, written by scale/cluster_test.go
// from a server of the whole table), GET, and RANK for a tenth,
// concurrently (the client pipelines each node's commands); MGET across slots, which the client
// splits by the command tips; DBSIZE summed over the shards; TAG from a
// random node and from each.
import { createCluster } from 'redis';
import { readFileSync } from 'node:fs';
import { check } from './common.mjs';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const cluster = createCluster({
  rootNodes: spec.nodes.slice(0, 1).map((a) => ({ url: `redis://${a}` })),
});
cluster.on('error', (err) => { console.error(`node-redis cluster: ${err}`); process.exit(1); });
await cluster.connect();
check('masters', cluster.masters.length, 3);

const forms = spec.forms;
for (let i = 0; i < forms.length; i += 5000) {
  const chunk = forms.slice(i, i + 5000);
  const got = await Promise.all(chunk.map((f) => cluster.get(f.word)));
  chunk.forEach((f, k) => check(`GET ${f.word}`, got[k], f.get === '' ? null : f.get));
  // RANK, a custom command, for a tenth of them.
  const ranked = chunk.filter((_, k) => k % 10 === 0);
  const ranks = await Promise.all(ranked.map((f) => cluster.sendCommand(f.word, true, ['RANK', f.word])));
  ranked.forEach((f, k) => check(`RANK ${f.word}`, ranks[k], f.rank === '' ? null : Number(f.rank)));
}
console.log(`node-redis cluster: ${forms.length} forms, GET (and RANK of a tenth), as the whole table`);

const step = Math.floor(forms.length / 40);
const some = forms.filter((_, i) => i % step === 0);
check('MGET across slots', await cluster.mGet(some.map((f) => f.word)), some.map((f) => (f.get === '' ? null : f.get)));
check('DBSIZE over the shards', await cluster.dbSize(), spec.dbsize);

// RESP3 is node-redis's default: TAG is a map of word to score.
const flat = (reply) => (reply instanceof Map ? [...reply.entries()] : Object.entries(reply))
  .flatMap(([w, s]) => [String(w), Number(s).toFixed(3)]);
const want = spec.tag.reply.map((v, i) => (i % 2 ? Number(v).toFixed(3) : v));
check('TAG from a random node', flat(await cluster.sendCommand(undefined, true, ['TAG', 'LIMIT', '0', spec.tag.text])), want);
for (const master of cluster.masters) {
  const client = await cluster.nodeClient(master);
  check(`TAG from ${master.host}:${master.port}`, flat(await client.sendCommand(['TAG', 'LIMIT', '0', spec.tag.text])), want);
}
console.log('node-redis cluster: MGET split, DBSIZE summed, TAG from every node, as the whole table');
await cluster.close();
