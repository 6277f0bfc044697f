// keel through ioredis: tests for node's built-in runner that talk to a running server on
// 127.0.0.1:$KEEL_PORT.
//
// compat-tests/tests/clients.rs starts keel in-process and runs this file (after scripts/setup-clients
// has installed ioredis from package-lock.json):
//
//     cd compat-tests/clients/node && KEEL_PORT=6379 node --test test.mjs
//
// Every expectation holds on a real redis-server 7.0 too (run the file against one to check them). Each
// test starts from FLUSHALL, and tests that change configuration parameters set them back.

import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';

const PORT = Number(process.env.KEEL_PORT);
if (!Number.isInteger(PORT) || PORT <= 0) {
  throw new Error('KEEL_PORT is not set: it must name the port of the server under test');
}

// Clients opened by one test, closed after it.
let opened = [];

// A new client of the server under test. It fails fast instead of reconnecting forever, so a server that
// went away fails the test rather than hanging it.
function connect(options = {}) {
  const client = new Redis({
    host: '127.0.0.1',
    port: PORT,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    ...options,
  });
  opened.push(client);
  return client;
}

// Asserts that the promise rejects with a server error (ioredis' ReplyError) of exactly this message.
async function assertReplyError(promise, message) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, 'ReplyError');
    assert.equal(err.message, message);
    return true;
  });
}

// Reads every key that SCAN returns through ioredis' scanStream.
function collectScan(client, options) {
  return new Promise((resolve, reject) => {
    const keys = [];
    const stream = client.scanStream(options);
    stream.on('data', (batch) => keys.push(...batch));
    stream.on('end', () => resolve(keys));
    stream.on('error', reject);
  });
}

// `INFO` text as { section: { field: value } } (values kept as the strings the server sent).
function parseInfo(text) {
  const sections = {};
  let current = null;
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) {
      current = sections[line.slice(2).toLowerCase()] = {};
    } else if (line !== '') {
      const at = line.indexOf(':');
      current[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return sections;
}

let r;

before(async () => {
  r = connect();
  opened = [];
  assert.equal(await r.ping(), 'PONG');
});

after(async () => {
  await r.quit();
});

beforeEach(async () => {
  assert.equal(await r.flushall(), 'OK');
});

afterEach(async () => {
  await Promise.all(opened.map((c) => c.quit()));
  opened = [];
});

describe('strings', () => {
  it('SET and GET', async () => {
    assert.equal(await r.set('k', 'v1'), 'OK');
    assert.equal(await r.get('k'), 'v1');
    assert.equal(await r.get('missing'), null);
    assert.equal(await r.strlen('k'), 2);
  });

  it('SET NX, XX and GET', async () => {
    assert.equal(await r.set('k', 'v1', 'NX'), 'OK');
    assert.equal(await r.set('k', 'v2', 'NX'), null);
    assert.equal(await r.set('missing', 'v', 'XX'), null);
    assert.equal(await r.exists('missing'), 0);
    assert.equal(await r.set('k', 'v3', 'XX'), 'OK');
    assert.equal(await r.set('k', 'v4', 'GET'), 'v3');
    assert.equal(await r.set('fresh', 'v', 'GET'), null);
    assert.equal(await r.get('k'), 'v4');
    assert.equal(await r.setnx('k', 'v5'), 0);
    assert.equal(await r.getset('k', 'v6'), 'v4');
  });

  it('SET EX, PX and KEEPTTL', async () => {
    assert.equal(await r.set('k', 'v', 'EX', 100), 'OK');
    assert.equal(await r.ttl('k'), 100);
    assert.equal(await r.set('k', 'v', 'PX', 100000), 'OK');
    const pttl = await r.pttl('k');
    assert.ok(pttl > 99000 && pttl <= 100000, `pttl ${pttl}`);
    assert.equal(await r.set('k', 'kept', 'KEEPTTL'), 'OK');
    assert.ok((await r.pttl('k')) > 99000);
    assert.equal(await r.get('k'), 'kept');
    assert.equal(await r.set('k', 'plain'), 'OK');
    assert.equal(await r.ttl('k'), -1);
    assert.equal(await r.setex('s', 200, 'v'), 'OK');
    assert.equal(await r.ttl('s'), 200);
    await assertReplyError(r.set('k', 'v', 'EX', 0), "ERR invalid expire time in 'set' command");
    await assertReplyError(r.set('k', 'v', 'NX', 'XX'), 'ERR syntax error');
  });

  it('MSET, MGET and MSETNX', async () => {
    assert.equal(await r.mset({ a: '1', b: '2', c: '3' }), 'OK');
    assert.deepEqual(await r.mget('a', 'missing', 'c', 'b'), ['1', null, '3', '2']);
    assert.equal(await r.msetnx('c', 'x', 'd', '4'), 0);
    assert.equal(await r.get('d'), null);
    assert.equal(await r.msetnx('d', '4', 'e', '5'), 1);
    assert.deepEqual(await r.mget(['d', 'e']), ['4', '5']);
  });

  it('INCR, DECR and INCRBYFLOAT', async () => {
    assert.equal(await r.incr('n'), 1);
    assert.equal(await r.incrby('n', 10), 11);
    assert.equal(await r.decr('n'), 10);
    assert.equal(await r.decrby('n', 13), -3);
    assert.equal(await r.get('n'), '-3');
    assert.equal(await r.incrbyfloat('f', 10.5), '10.5');
    assert.equal(await r.incrbyfloat('f', 0.1), '10.6');
    assert.equal(await r.incrbyfloat('n', '5.0e3'), '4997');
    await r.set('big', '9223372036854775807');
    await assertReplyError(r.incr('big'), 'ERR increment or decrement would overflow');
  });

  it('APPEND, GETRANGE and SETRANGE', async () => {
    assert.equal(await r.append('s', 'Hello'), 5);
    assert.equal(await r.append('s', ' World'), 11);
    assert.equal(await r.getrange('s', 0, 4), 'Hello');
    assert.equal(await r.getrange('s', -5, -1), 'World');
    assert.equal(await r.getrange('s', 100, 200), '');
    assert.equal(await r.setrange('s', 6, 'Redis'), 11);
    assert.equal(await r.get('s'), 'Hello Redis');
    assert.equal(await r.setrange('pad', 3, 'x'), 4);
    assert.deepEqual(await r.getBuffer('pad'), Buffer.from([0, 0, 0, 0x78]));
  });

  it('GETEX and GETDEL', async () => {
    await r.set('k', 'v');
    assert.equal(await r.getex('k', 'EX', 50), 'v');
    assert.equal(await r.ttl('k'), 50);
    assert.equal(await r.getex('k', 'EXAT', 4102444800), 'v');
    assert.equal(await r.expiretime('k'), 4102444800);
    assert.equal(await r.getex('k', 'PERSIST'), 'v');
    assert.equal(await r.ttl('k'), -1);
    assert.equal(await r.getex('missing', 'EX', 10), null);
    assert.equal(await r.getdel('k'), 'v');
    assert.equal(await r.exists('k'), 0);
    assert.equal(await r.getdel('k'), null);
  });

  it('binary keys and values round-trip', async () => {
    const key = Buffer.from([0x62, 0x00, 0xff]);
    const value = Buffer.alloc(1024, 0);
    for (let i = 0; i < value.length; i++) value[i] = i % 256;
    assert.equal(await r.set(key, value), 'OK');
    assert.deepEqual(await r.getBuffer(key), value);
    assert.equal(await r.strlen(key), 1024);
    assert.deepEqual(await r.getrangeBuffer(key, 254, 257), Buffer.from([0xfe, 0xff, 0x00, 0x01]));
  });
});

describe('keys', () => {
  it('DEL, EXISTS and UNLINK', async () => {
    await r.mset('a', '1', 'b', '2', 'c', '3');
    assert.equal(await r.exists('a', 'a', 'missing', 'b'), 3);
    assert.equal(await r.del('a', 'b', 'missing'), 2);
    assert.equal(await r.exists('a', 'b'), 0);
    assert.equal(await r.unlink('c'), 1);
    assert.equal(await r.dbsize(), 0);
  });

  it('RENAME and RENAMENX', async () => {
    await r.set('a', '1', 'EX', 100);
    assert.equal(await r.rename('a', 'b'), 'OK');
    assert.equal(await r.exists('a'), 0);
    assert.equal(await r.get('b'), '1');
    assert.equal(await r.ttl('b'), 100);
    await r.set('c', '3');
    assert.equal(await r.renamenx('b', 'c'), 0);
    assert.equal(await r.renamenx('b', 'd'), 1);
    await assertReplyError(r.rename('missing', 'x'), 'ERR no such key');
  });

  it('KEYS with patterns', async () => {
    await r.mset({ hello: '1', hallo: '2', hxllo: '3', heeello: '4', world: '5' });
    assert.deepEqual((await r.keys('h?llo')).sort(), ['hallo', 'hello', 'hxllo']);
    assert.deepEqual((await r.keys('h[ae]llo')).sort(), ['hallo', 'hello']);
    assert.deepEqual((await r.keys('h*llo')).sort(), ['hallo', 'heeello', 'hello', 'hxllo']);
    assert.deepEqual(await r.keys('nothing*'), []);
  });

  it('TYPE', async () => {
    await r.set('s', 'v');
    assert.equal(await r.type('s'), 'string');
    assert.equal(await r.type('missing'), 'none');
  });

  it('COPY, within a database and to another', async () => {
    await r.set('src', 'v', 'EX', 100);
    assert.equal(await r.copy('src', 'dst'), 1);
    assert.equal(await r.get('dst'), 'v');
    assert.equal(await r.ttl('dst'), 100);
    assert.equal(await r.copy('src', 'dst'), 0);
    await r.set('src', 'w');
    assert.equal(await r.copy('src', 'dst', 'REPLACE'), 1);
    assert.equal(await r.get('dst'), 'w');
    assert.equal(await r.copy('src', 'elsewhere', 'DB', 1), 1);
    assert.equal(await connect({ db: 1 }).get('elsewhere'), 'w');
    assert.equal(await r.exists('elsewhere'), 0);
  });

  it('MOVE between databases', async () => {
    const db2 = connect({ db: 2 });
    await r.set('k', 'v', 'EX', 100);
    assert.equal(await r.move('k', 2), 1);
    assert.equal(await r.exists('k'), 0);
    assert.equal(await db2.get('k'), 'v');
    assert.equal(await db2.ttl('k'), 100);
    await r.set('k', 'again');
    assert.equal(await r.move('k', 2), 0);
    assert.equal(await r.get('k'), 'again');
    await assertReplyError(r.move('k', 0), 'ERR source and destination objects are the same');
  });
});

describe('scanStream', () => {
  it('visits each of 500 keys', async () => {
    const expected = new Set();
    const args = [];
    for (let i = 0; i < 500; i++) {
      const key = `key:${String(i).padStart(3, '0')}`;
      expected.add(key);
      args.push(key, 'v');
    }
    await r.mset(...args);
    await r.mset('other:1', 'v', 'other:2', 'v');
    const matched = new Set(await collectScan(r, { match: 'key:*', count: 50 }));
    assert.deepEqual(matched, expected);
    const all = new Set(await collectScan(r, { count: 1000 }));
    assert.equal(all.size, 502);
    assert.deepEqual(await collectScan(r, { match: 'nothing:*' }), []);
  });
});

describe('expiry', () => {
  it('EXPIRE, TTL, PTTL and PERSIST', async () => {
    await r.set('k', 'v');
    assert.equal(await r.ttl('k'), -1);
    assert.equal(await r.expire('k', 100), 1);
    assert.equal(await r.ttl('k'), 100);
    const pttl = await r.pttl('k');
    assert.ok(pttl > 99000 && pttl <= 100000, `pttl ${pttl}`);
    assert.equal(await r.persist('k'), 1);
    assert.equal(await r.persist('k'), 0);
    assert.equal(await r.ttl('k'), -1);
    assert.equal(await r.ttl('missing'), -2);
    assert.equal(await r.pttl('missing'), -2);
    assert.equal(await r.expire('missing', 10), 0);
    assert.equal(await r.expire('k', 100, 'NX'), 1);
    assert.equal(await r.expire('k', 50, 'GT'), 0);
    assert.equal(await r.expire('k', 30, 'LT'), 1);
    assert.equal(await r.ttl('k'), 30);
  });

  it('EXPIREAT, EXPIRETIME and PEXPIRETIME', async () => {
    await r.set('k', 'v');
    assert.equal(await r.expiretime('k'), -1);
    assert.equal(await r.expiretime('missing'), -2);
    assert.equal(await r.expireat('k', 4102444800), 1);
    assert.equal(await r.expiretime('k'), 4102444800);
    assert.equal(await r.pexpiretime('k'), 4102444800000);
  });

  it('a key set with PX 50 is gone after a short sleep', async () => {
    assert.equal(await r.set('short', 'v', 'PX', 50), 'OK');
    assert.equal(await r.set('long', 'v', 'PX', 60000), 'OK');
    assert.equal(await r.get('short'), 'v');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await r.get('short'), null);
    assert.equal(await r.exists('short'), 0);
    assert.equal(await r.ttl('short'), -2);
    assert.deepEqual(await r.keys('*'), ['long']);
  });
});

describe('pipelines', () => {
  it('200 commands answer in order', async () => {
    const pipe = r.pipeline();
    const expected = [];
    for (let i = 0; i < 50; i++) {
      pipe.set(`p:${i}`, i);
      pipe.incrby(`p:${i}`, i);
      pipe.get(`p:${i}`);
      pipe.exists(`p:${i}`, `missing:${i}`);
      expected.push([null, 'OK'], [null, 2 * i], [null, String(2 * i)], [null, 1]);
    }
    const results = await pipe.exec();
    assert.equal(results.length, 200);
    assert.deepEqual(results, expected);
    assert.equal(await r.dbsize(), 50);
  });

  it('an error in the middle leaves the other replies in place', async () => {
    const results = await r.pipeline().set('s', 'abc').incr('s').append('s', 'd').get('s').exec();
    assert.deepEqual(results[0], [null, 'OK']);
    assert.equal(results[1][0].name, 'ReplyError');
    assert.equal(results[1][0].message, 'ERR value is not an integer or out of range');
    assert.deepEqual(results.slice(2), [
      [null, 4],
      [null, 'abcd'],
    ]);
  });

  it('large values, alone and pipelined', async () => {
    const big = 'x'.repeat(1 << 20);
    assert.equal(await r.set('big', big), 'OK');
    assert.equal(await r.get('big'), big);
    const values = Array.from({ length: 20 }, (_, i) => String.fromCharCode(97 + i).repeat(100000));
    const pipe = r.pipeline();
    values.forEach((v, i) => pipe.set(`v:${i}`, v));
    values.forEach((_, i) => pipe.get(`v:${i}`));
    const results = await pipe.exec();
    assert.deepEqual(results, [...values.map(() => [null, 'OK']), ...values.map((v) => [null, v])]);
  });

  it('20 clients incrementing one counter concurrently', async () => {
    const clients = Array.from({ length: 20 }, () => connect());
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 50; i++) await c.incr('counter');
      }),
    );
    assert.equal(await r.get('counter'), '1000');
  });

  it('auto-pipelined concurrent commands each get their own reply', async () => {
    const auto = connect({ enableAutoPipelining: true });
    const writes = [];
    for (let i = 0; i < 100; i++) writes.push(auto.set(`a:${i}`, `v${i}`));
    assert.deepEqual(await Promise.all(writes), Array(100).fill('OK'));
    const reads = [];
    for (let i = 0; i < 100; i++) reads.push(auto.get(`a:${i}`));
    assert.deepEqual(
      await Promise.all(reads),
      Array.from({ length: 100 }, (_, i) => `v${i}`),
    );
  });
});

describe('errors', () => {
  it('INCR on a non-integer is a ReplyError with the exact message', async () => {
    await r.set('s', 'abc');
    await assertReplyError(r.incr('s'), 'ERR value is not an integer or out of range');
    await assertReplyError(r.incrbyfloat('s', 1), 'ERR value is not a valid float');
    assert.equal(await r.get('s'), 'abc');
  });

  it('unknown commands and wrong arity', async () => {
    await assertReplyError(
      r.call('nosuchcmd', 'a', 'b'),
      "ERR unknown command 'nosuchcmd', with args beginning with: 'a' 'b' ",
    );
    await assertReplyError(r.call('GET'), "ERR wrong number of arguments for 'get' command");
    await assertReplyError(
      r.expire('k', 10, 'NX', 'XX'),
      'ERR NX and XX, GT or LT options at the same time are not compatible',
    );
    assert.equal(await r.ping(), 'PONG');
  });
});

describe('connection', () => {
  it('CLIENT SETNAME, GETNAME and ID', async () => {
    const c = connect();
    assert.equal(await c.client('GETNAME'), null);
    assert.equal(await c.client('SETNAME', 'keel-node'), 'OK');
    assert.equal(await c.client('GETNAME'), 'keel-node');
    const id = await c.client('ID');
    assert.ok(Number.isInteger(id) && id > 0, `client id ${id}`);
    const info = await c.client('INFO');
    assert.match(info, new RegExp(`^id=${id} .* name=keel-node `));
    const list = await r.client('LIST');
    assert.equal(list.split('\n').filter((line) => line.startsWith(`id=${id} `)).length, 1);
    await assertReplyError(
      c.client('SETNAME', 'a b'),
      'ERR Client names cannot contain spaces, newlines or special characters.',
    );
    assert.equal(await c.client('GETNAME'), 'keel-node');
  });

  it('connectionName is set when connecting', async () => {
    const c = connect({ connectionName: 'named-at-connect' });
    assert.equal(await c.client('GETNAME'), 'named-at-connect');
  });

  it('databases chosen at connect time are separate', async () => {
    const db5 = connect({ db: 5 });
    await r.set('k', 'db0');
    await db5.set('k', 'db5');
    assert.equal(await r.get('k'), 'db0');
    assert.equal(await db5.get('k'), 'db5');
    assert.equal(await db5.flushdb(), 'OK');
    assert.equal(await db5.dbsize(), 0);
    assert.equal(await r.get('k'), 'db0');
  });
});

describe('server', () => {
  it('INFO server and keyspace sections', async () => {
    const server = parseInfo(await r.info('server')).server;
    assert.match(server.redis_version, /^7\.0\.\d+$/);
    assert.equal(server.redis_mode, 'standalone');
    assert.equal(server.tcp_port, String(PORT));
    assert.match(server.run_id, /^[0-9a-f]{40}$/);
    assert.deepEqual(parseInfo(await r.info('keyspace')), { keyspace: {} });
    await r.set('a', '1');
    await r.set('b', '2');
    await connect({ db: 3 }).set('c', '3');
    assert.deepEqual(parseInfo(await r.info('keyspace')), {
      keyspace: { db0: 'keys=2,expires=0,avg_ttl=0', db3: 'keys=1,expires=0,avg_ttl=0' },
    });
  });

  it('CONFIG GET and CONFIG SET', async () => {
    assert.deepEqual(await r.config('GET', 'maxmemory'), ['maxmemory', '0']);
    assert.deepEqual(await r.config('GET', 'no-such-parameter'), []);
    const [, hz] = await r.config('GET', 'hz');
    try {
      assert.equal(await r.config('SET', 'hz', '20'), 'OK');
      assert.deepEqual(await r.config('GET', 'hz'), ['hz', '20']);
      assert.equal(await r.config('SET', 'maxmemory', '100mb'), 'OK');
      assert.deepEqual(await r.config('GET', 'maxmemory'), ['maxmemory', '104857600']);
      await assertReplyError(
        r.config('SET', 'nosuch', '1'),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
      );
    } finally {
      await r.config('SET', 'hz', hz, 'maxmemory', '0');
    }
    assert.deepEqual(await r.config('GET', 'hz'), ['hz', hz]);
  });
});

describe('transactions and data types', () => {
  it('MULTI/EXEC runs queued commands atomically', async () => {
    const results = await r.multi().set('tx:a', 1).incr('tx:a').rpush('tx:l', 'x', 'y').hset('tx:h', 'f', 'v').exec();
    assert.deepEqual(results, [[null, 'OK'], [null, 2], [null, 2], [null, 1]]);
    assert.deepEqual(await r.lrange('tx:l', 0, -1), ['x', 'y']);
    assert.deepEqual(await r.hgetall('tx:h'), { f: 'v' });
  });

  it('WATCH makes EXEC fail after a concurrent write', async () => {
    const watcher = connect();
    await watcher.set('tx:w', '1');
    await watcher.watch('tx:w');
    await r.set('tx:w', '2');
    assert.equal(await watcher.multi().set('tx:w', '3').exec(), null);
    assert.equal(await r.get('tx:w'), '2');
  });

  it('BLPOP is served by a push from another client', async () => {
    const consumer = connect();
    const popped = consumer.blpop('tx:q', 2);
    await r.rpush('tx:q', 'job');
    assert.deepEqual(await popped, ['tx:q', 'job']);
  });

  it('sorted sets and sets', async () => {
    assert.equal(await r.zadd('tx:z', 2, 'b', 1, 'a'), 2);
    assert.deepEqual(await r.zrange('tx:z', 0, -1, 'WITHSCORES'), ['a', '1', 'b', '2']);
    assert.equal(await r.sadd('tx:s', 'x', 'y', 'x'), 2);
    assert.deepEqual((await r.smembers('tx:s')).sort(), ['x', 'y']);
  });
});
