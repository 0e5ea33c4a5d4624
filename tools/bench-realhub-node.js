// Real-hub conditions benchmark, the official Node.js SDK's side (not a test): azure-iothub's Registry.updateTwin on
// every device id given, with a fixed number of calls in flight and no retry of our own (the REST clients of the
// service SDK do not retry; see the throttling reference). Prints one JSON line: {"ok":N,"errors":N,"seconds":S,"codes":{...}}.
//
// Environment:
//   SERVICE_CONNECTION_STRING  iothubowner connection string of the emulator
//   NODE_EXTRA_CA_CERTS        the emulator's CA certificate (PEM), so TLS verification stays on
//   BENCH_PREFIX, BENCH_COUNT  device ids: PREFIX + 6-digit index, 0 .. COUNT-1
//   BENCH_INFLIGHT             calls in flight (default 16)
//   BENCH_VALUE                the desired value to set (property "bench")
'use strict';

const { registryFor } = require('./bench-node-registry');

async function main() {
  const cs = process.env.SERVICE_CONNECTION_STRING;
  const prefix = process.env.BENCH_PREFIX || 'b-';
  const count = parseInt(process.env.BENCH_COUNT || '1000', 10);
  const inflight = parseInt(process.env.BENCH_INFLIGHT || '16', 10);
  const value = parseInt(process.env.BENCH_VALUE || '1', 10);
  const registry = registryFor(cs, 64);
  const ids = Array.from({ length: count }, (_, i) => prefix + String(i).padStart(6, '0'));
  let next = 0;
  let ok = 0;
  let errors = 0;
  const codes = {};
  const started = process.hrtime.bigint();
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        await registry.updateTwin(id, { properties: { desired: { bench: value } } }, '*');
        ok++;
      } catch (err) {
        errors++;
        const code = (err && (err.responseBody && /ErrorCode:(\w+)/.exec(String(err.responseBody)) || [])[1]) || (err && err.name) || 'Error';
        codes[code] = (codes[code] || 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: inflight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ ok, errors, seconds, codes }));
}

main().catch((err) => {
  console.error(err && err.stack || String(err));
  process.exit(1);
});
