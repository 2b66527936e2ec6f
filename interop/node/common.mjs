// Shared by the Node.js interop clients: what the server must answer,
// from the environment run.sh sets, and a tiny assertion helper.
import assert from 'node:assert/strict';

export const expect = {
  the: process.env.EXPECT_THE,
  you: process.env.EXPECT_YOU,
  don: process.env.EXPECT_DON,
  dbsize: Number(process.env.EXPECT_DBSIZE),
};

export const endpoints = [
  { name: 'tcp', host: process.env.FREQD_HOST, port: Number(process.env.FREQD_PORT) },
  { name: 'unix', path: process.env.FREQD_SOCKET },
];

export function check(what, got, want) {
  assert.deepStrictEqual(got, want, `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export function ok(what, cond, detail) {
  assert.ok(cond, `${what}: ${JSON.stringify(detail)}`);
}
