// Shared by the Node.js sides of the benchmarks (not a test): an azure-iothub Registry for an emulator connection
// string. The SDK passes HostName ('localhost:PORT') to https.request as a host name; this agent dials host and port
// apart (request, Host header and token unchanged), as the conformance suite does.
'use strict';

const https = require('https');
const iothub = require('azure-iothub');
const { RestApiClient } = require('azure-iot-http-base');

function registryFor(connectionString, maxSockets) {
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
  const agent = new PortAgent({ keepAlive: true, maxSockets });
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

module.exports = { registryFor };
