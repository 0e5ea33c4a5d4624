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

const https = require('https');
const iothub = require('azure-iothub');
const { RestApiClient } = require('azure-iot-http-base');

// The SDK passes HostName ('localhost:PORT') to https.request as a host name; this agent dials host and port apart
// (request, Host header and token unchanged), as the conformance suite does. One keep-alive connection: paging is
// sequential.
function registryFor(connectionString) {
  const parts = {};
  for (const piece of connectionString.split(';')) {
    const at = piece.indexOf('=');
    if (at > 0) parts[piece.slice(0, at)] = piece.slice(at + 1);
  }
  const m = /^(.*):(\d+)$/.exec(parts.HostName);
  const host = m ? m[1] : parts.HostName;
  const port = m ? Number(m[2]) : 443;
  class PortAgent extends https.Agent {
    createConnection(options, callback) {
      return super.createConnection({ ...options, host, port, servername: host }, callback);
    }
  }
  const agent = new PortAgent({ keepAlive: true, maxSockets: 1 });
  class Client extends RestApiClient {
    setOptions(options) {
      super.setOptions({ ...options, http: { ...(options && options.http), agent } });
    }
  }
  const config = {
    host: parts.HostName,
    sharedAccessSignature: iothub.SharedAccessSignature.create(parts.HostName, parts.SharedAccessKeyName, parts.SharedAccessKey, Math.floor(Date.now() / 1000) + 3600),
  };
  return new iothub.Registry(config, new Client(config, 'azure-iothub/1.16.6'));
}

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
  const registry = registryFor(process.env.SERVICE_CONNECTION_STRING);
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
