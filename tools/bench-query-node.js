// Cmdlet benchmark, the official Node.js SDK's side of the query row (not a test): azure-iothub's Registry.createQuery
// paged to the end with query.nextAsTwin() (each result as the SDK's Twin object), after one warm-up query.
// Prints one JSON line: {"count":N,"pages":N,"seconds":S}.
//
// Environment:
//   SERVICE_CONNECTION_STRING  service connection string of the emulator
//   NODE_EXTRA_CA_CERTS        the emulator's CA certificate (PEM), so TLS verification stays on
//   NODE_PATH                  tests/conformance/node_modules (the project's own npm dependencies)
//   BENCH_QUERY, BENCH_WARMUP_QUERY, BENCH_PAGE_SIZE
'use strict';

const { registryFor } = require('./bench-node-registry');

async function page(registry, sql, pageSize) {
  const query = registry.createQuery(sql, pageSize);
  let count = 0;
  let pages = 0;
  while (query.hasMoreResults) {
    const r = await query.nextAsTwin();
    count += r.result.length;
    pages++;
  }
  return { count, pages };
}

async function main() {
  const registry = registryFor(process.env.SERVICE_CONNECTION_STRING, 1); // one keep-alive connection: paging is sequential
  const pageSize = parseInt(process.env.BENCH_PAGE_SIZE || '100', 10);
  await page(registry, process.env.BENCH_WARMUP_QUERY, pageSize);
  const started = process.hrtime.bigint();
  const { count, pages } = await page(registry, process.env.BENCH_QUERY, pageSize);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ count, pages, seconds }));
}

main().catch((err) => {
  console.error((err && err.stack) || String(err));
  process.exit(1);
});
