'use strict';
// TwinPS conformance suite: Microsoft's official Azure IoT Node.js SDKs (azure-iothub for the service
// REST API, azure-iot-device + azure-iot-device-mqtt for the device MQTT protocol) driven against the
// TwinPS emulator. If the official SDKs cannot tell the emulator from IoT Hub on these steps, neither
// can users' scripts.
//
// Environment:
//   SERVICE_CONNECTION_STRING  iothubowner connection string; HostName may carry a port (localhost:8443)
//   MQTT_PORT                  the emulator's MQTT/TLS port (device steps; SKIP_DEVICE=1 skips them)
//   NODE_EXTRA_CA_CERTS        the emulator's CA certificate (PEM), so TLS verification stays on
// Output: first 'EXPECT <step>' for every step this script declares (whatever the environment), then one line
// per step, 'PASS <step>', 'FAIL <step>: <reason>' or 'SKIP <step>: <reason>', then 'N passed, N failed'.
// build.ps1 Test (tools/TestRunner.psm1) fails the run for any expected step that did not pass or fail, and
// clears SKIP_DEVICE. To add a step, add an `await step('name', async () => { ... })` call to one of the groups
// below: the call declares the step (the groups run once to declare, then the steps run in order), so nothing
// else needs to change; raise MinTests in tests/suites.psd1 to lock it in. Code between steps in a group runs
// while declaring, before any step: put what needs an earlier step's result inside a step body.

const https = require('https');
const crypto = require('crypto');
const iothub = require('azure-iothub');
const { RestApiClient } = require('azure-iot-http-base');
const { SharedAccessSignature } = require('azure-iothub');
const deviceSdk = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { NoRetry } = require('azure-iot-common');

const STEP_TIMEOUT_MS = 20000;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function fail(message) {
  throw new Error(message);
}

function parseConnectionString(text) {
  const parts = {};
  for (const piece of text.split(';')) {
    const at = piece.indexOf('=');
    if (at > 0) parts[piece.slice(0, at)] = piece.slice(at + 1);
  }
  return parts;
}

function splitHost(hostName) {
  const match = /^(.*):(\d+)$/.exec(hostName);
  return match ? { host: match[1], port: Number(match[2]) } : { host: hostName, port: 443 };
}

const serviceConnectionString = process.env.SERVICE_CONNECTION_STRING;
if (!serviceConnectionString) {
  console.error('SERVICE_CONNECTION_STRING is required.');
  process.exit(2);
}
const service = parseConnectionString(serviceConnectionString);
const endpoint = splitHost(service.HostName || '');
if (!LOOPBACK.has(endpoint.host)) {
  console.error(`Refusing to run against '${endpoint.host}': this suite only talks to the local emulator.`);
  process.exit(2);
}
const skipDevice = process.env.SKIP_DEVICE === '1';
const mqttPort = Number(process.env.MQTT_PORT || '8883');

// The service SDK hands HostName to https.request as the host name, so 'localhost:8443' cannot be dialled.
// This agent dials the port from the connection string; the request, Host header and token are unchanged.
class PortMappingAgent extends https.Agent {
  createConnection(options, callback) {
    return super.createConnection({ ...options, host: endpoint.host, port: endpoint.port, servername: endpoint.host }, callback);
  }
}
const agent = new PortMappingAgent({ keepAlive: true });

class PortMappedRestApiClient extends RestApiClient {
  setOptions(options) {
    super.setOptions({ ...options, http: { ...(options && options.http), agent } });
  }
}

function serviceConfig(connectionString) {
  const parts = parseConnectionString(connectionString);
  return {
    host: parts.HostName,
    keyName: parts.SharedAccessKeyName,
    sharedAccessSignature: SharedAccessSignature.create(parts.HostName, parts.SharedAccessKeyName, parts.SharedAccessKey, Math.floor(Date.now() / 1000) + 3600),
  };
}

// The service Client (direct methods) as Client.fromConnectionString builds it, with the port-mapping REST client.
// Its AMQP transport is never opened: invokeDeviceMethod is a REST call.
function newServiceClient(connectionString) {
  const config = serviceConfig(connectionString);
  const client = new iothub.Client(new iothub.Amqp(config), new PortMappedRestApiClient(config, 'azure-iothub/1.16.6'));
  client.setRetryPolicy(new NoRetry());
  return client;
}

function newRegistry(connectionString) {
  const parts = parseConnectionString(connectionString);
  const config = {
    host: parts.HostName,
    sharedAccessSignature: SharedAccessSignature.create(parts.HostName, parts.SharedAccessKeyName, parts.SharedAccessKey, Date.now()),
  };
  return new iothub.Registry(config, new PortMappedRestApiClient(config, 'azure-iothub/1.16.6'));
}

const registry = newRegistry(serviceConnectionString);
const serviceClient = newServiceClient(serviceConnectionString);
const jobClient = new iothub.JobClient(new PortMappedRestApiClient(serviceConfig(serviceConnectionString), 'azure-iothub/1.16.6'));
const suffix = crypto.randomBytes(4).toString('hex');
const deviceA = `conf-${suffix}-a`;
const deviceB = `conf-${suffix}-b`;
const deviceC = `conf-${suffix}-c`;
const plant = `Plant-${suffix}`;
const state = {};
const results = [];

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

async function waitForJob(jobId, statuses = ['completed', 'failed', 'cancelled']) {
  for (;;) {
    const { jobStatus: job } = await jobClient.getJob(jobId);
    if (statuses.includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The plan: every step is declared (registered) before any runs, so that the runner knows them all.
const plan = [];
let currentGroup = 'service';
async function step(name, body, timeoutMs = STEP_TIMEOUT_MS) {
  plan.push({ name, body, group: currentGroup, timeoutMs });
}

async function runStep(name, body, timeoutMs = STEP_TIMEOUT_MS) {
  try {
    await withTimeout(Promise.resolve().then(body), timeoutMs, name);
    results.push(true);
    console.log(`PASS ${name}`);
  } catch (error) {
    results.push(false);
    console.log(`FAIL ${name}: ${error && error.message ? error.message : error}`);
  }
}

async function expectError(promise, expectedName) {
  try {
    await promise;
  } catch (error) {
    if (error.constructor.name !== expectedName) fail(`expected ${expectedName}, got ${error.constructor.name}: ${error.message}`);
    return error;
  }
  return fail(`expected ${expectedName}, but the call succeeded`);
}

async function queryAll(sql, pageSize) {
  const query = registry.createQuery(sql, pageSize);
  const pages = [];
  do {
    // The promise form of next() without an argument would start over: pass the token the query holds.
    const { result, message } = await query.next(query.continuationToken);
    pages.push({ items: result, continuation: message.headers['x-ms-continuation'], itemType: message.headers['x-ms-item-type'] });
    if (pages.length > 50) fail('more than 50 pages: the continuation never ended');
  } while (query.hasMoreResults);
  return pages;
}

function until(predicate, what, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = predicate();
      if (value) { clearInterval(timer); resolve(value); } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer); reject(new Error(`${what} did not happen within ${timeoutMs} ms`));
      }
    }, 20);
  });
}

async function serviceSteps() {
  await step('create-device-with-generated-keys', async () => {
    // The SDK sends empty-string keys; the hub must generate them.
    const { responseBody: device } = await registry.create({ deviceId: deviceA });
    if (device.deviceId !== deviceA) fail(`deviceId echoed as ${device.deviceId}`);
    const key = device.authentication && device.authentication.symmetricKey && device.authentication.symmetricKey.primaryKey;
    if (!key || Buffer.from(key, 'base64').length < 16) fail('no generated primary key in the response');
    if (device.status !== 'enabled') fail(`status is ${device.status}`);
    state.deviceKey = key;
  });

  await step('create-device-with-given-keys-and-tags', async () => {
    const primaryKey = crypto.randomBytes(32).toString('base64');
    const secondaryKey = crypto.randomBytes(32).toString('base64');
    const { responseBody: device } = await registry.create({
      deviceId: deviceB, status: 'enabled', authentication: { symmetricKey: { primaryKey, secondaryKey } },
    });
    if (device.authentication.symmetricKey.primaryKey !== primaryKey) fail('given primary key not kept');
    await registry.updateTwin(deviceB, { tags: { location: { plant } } }, '*');
    await registry.create({ deviceId: deviceC });
    await registry.updateTwin(deviceC, { tags: { location: { plant } } }, '*');
  });

  await step('create-existing-device-409', async () => {
    await expectError(registry.create({ deviceId: deviceA }), 'DeviceAlreadyExistsError');
  });

  await step('get-device', async () => {
    const { responseBody: device } = await registry.get(deviceA);
    if (device.deviceId !== deviceA || device.status !== 'enabled') fail(`unexpected device ${JSON.stringify(device)}`);
    if (!device.etag) fail('device has no etag');
  });

  await step('get-unknown-device-404', async () => {
    await expectError(registry.get(`${deviceA}-missing`), 'DeviceNotFoundError');
  });

  await step('get-twin', async () => {
    const { responseBody: twin } = await registry.getTwin(deviceA);
    if (twin.deviceId !== deviceA) fail('twin deviceId mismatch');
    if (!twin.etag) fail('twin has no etag');
    if (typeof twin.properties.desired.$version !== 'number') fail('desired $version is not a number');
    if (typeof twin.properties.reported.$version !== 'number') fail('reported $version is not a number');
    state.twin = twin;
  });

  await step('update-twin-with-etag', async () => {
    // Twin.update copies the result into the same object, so keep what we compare against first.
    const twin = state.twin;
    const before = { etag: twin.etag, desiredVersion: twin.properties.desired.$version };
    const { result: after } = await twin.update({
      tags: { location: { plant, region: 'US' } },
      properties: { desired: { telemetry: { interval: 30, unit: 's' } } },
    });
    if (after.etag === before.etag) fail('etag did not change');
    if (after.tags.location.plant !== plant) fail('tag not applied');
    if (after.properties.desired.telemetry.interval !== 30) fail('desired not applied');
    if (after.properties.desired.$version !== before.desiredVersion + 1) fail('desired $version did not go up by 1');
    state.staleEtag = before.etag;
    state.currentEtag = after.etag;
  });

  await step('stale-etag-412', async () => {
    await expectError(registry.updateTwin(deviceA, { tags: { stale: true } }, state.staleEtag), 'InvalidEtagError');
    const { responseBody: twin } = await registry.getTwin(deviceA);
    if (twin.tags.stale !== undefined) fail('the rejected patch was applied');
    if (twin.etag !== state.currentEtag) fail('etag moved on a rejected patch');
  });

  await step('null-removes-desired-key', async () => {
    const { responseBody: twin } = await registry.updateTwin(deviceA, { properties: { desired: { telemetry: { unit: null } } } }, '*');
    if ('unit' in twin.properties.desired.telemetry) fail('null did not remove the key');
    if (twin.properties.desired.telemetry.interval !== 30) fail('sibling key lost');
  });

  await step('query-paging', async () => {
    const pages = await queryAll(`SELECT * FROM devices WHERE tags.location.plant = '${plant}'`, 1);
    if (pages.length !== 3) fail(`expected 3 pages of 1, got ${pages.length}`);
    if (!pages[0].continuation) fail('no x-ms-continuation on the first page');
    if (pages[pages.length - 1].continuation !== undefined) fail('x-ms-continuation present on the last page');
    const ids = pages.flatMap((p) => p.items.map((t) => t.deviceId)).sort();
    const expected = [deviceA, deviceB, deviceC].sort();
    if (JSON.stringify(ids) !== JSON.stringify(expected)) fail(`got ${JSON.stringify(ids)}`);
    if (pages[0].itemType !== 'Twin') fail(`x-ms-item-type is ${pages[0].itemType}`);
  });

  await step('query-projection-and-count', async () => {
    const rows = (await queryAll(`SELECT deviceId, tags.location.region FROM devices WHERE tags.location.plant = '${plant}' AND deviceId = '${deviceA}'`)).flatMap((p) => p.items);
    if (rows.length !== 1 || rows[0].deviceId !== deviceA || rows[0].region !== 'US') fail(`projection rows ${JSON.stringify(rows)}`);
    const count = (await queryAll(`SELECT COUNT() AS n FROM devices WHERE tags.location.plant = '${plant}'`)).flatMap((p) => p.items);
    if (count.length !== 1 || count[0].n !== 3) fail(`count rows ${JSON.stringify(count)}`);
  });

  await step('invalid-query-400', async () => {
    await expectError(registry.createQuery('SELECT * FORM devices').next(), 'ArgumentError');
  });

  await step('job-schedule-twin-update', async () => {
    state.twinJob = `job-twin-${suffix}`;
    const { jobStatus: job } = await jobClient.scheduleTwinUpdate(state.twinJob, `deviceId IN ['${deviceB}', '${deviceC}']`,
      { etag: '*', tags: { job: 'ran' }, properties: { desired: { fromJob: true } } });
    if (job.jobId !== state.twinJob || job.type !== 'scheduleUpdateTwin' || job.status !== 'queued') fail(`job ${JSON.stringify(job)}`);
  });

  await step('job-get-until-completed', async () => {
    const job = await waitForJob(state.twinJob);
    if (job.status !== 'completed') fail(`status ${job.status} ${job.failureReason || ''}`);
    const stats = job.deviceJobStatistics;
    if (stats.deviceCount !== 2 || stats.succeededCount !== 2) fail(`statistics ${JSON.stringify(stats)}`);
    const { responseBody: twin } = await registry.getTwin(deviceC);
    if (twin.tags.job !== 'ran' || twin.properties.desired.fromJob !== true) fail(`twin ${JSON.stringify(twin.tags)} ${JSON.stringify(twin.properties.desired)}`);
  });

  await step('job-devices-jobs-query', async () => {
    const pages = await queryAll(`SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${state.twinJob}'`, 1);
    const rows = pages.flatMap((p) => p.items);
    if (pages[0].itemType !== 'DeviceJob') fail(`x-ms-item-type ${pages[0].itemType}`);
    if (JSON.stringify(rows.map((r) => r.deviceId).sort()) !== JSON.stringify([deviceB, deviceC].sort())) fail(`rows ${JSON.stringify(rows)}`);
    if (!rows.every((r) => r.status === 'completed' && r.jobType === 'scheduleUpdateTwin')) fail(`rows ${JSON.stringify(rows)}`);
  });

  await step('job-duplicate-id-409', async () => {
    await expectError(jobClient.scheduleTwinUpdate(state.twinJob, '*', { etag: '*', tags: { again: true } }), 'DeviceAlreadyExistsError');
  });

  await step('job-schedule-later-and-cancel', async () => {
    state.laterJob = `job-later-${suffix}`;
    const { jobStatus: job } = await jobClient.scheduleTwinUpdate(state.laterJob, '*', { etag: '*', tags: { never: true } }, new Date(Date.now() + 3600 * 1000), 120);
    if (job.status !== 'queued' || job.maxExecutionTimeInSeconds !== 120) fail(`job ${JSON.stringify(job)}`);
    const { jobStatus: cancelled } = await jobClient.cancelJob(state.laterJob);
    if (cancelled.status !== 'cancelled') fail(`cancel answered ${cancelled.status}`);
    const { jobStatus: again } = await jobClient.getJob(state.laterJob);
    if (again.status !== 'cancelled') fail(`status ${again.status}`);
  });

  await step('job-create-query', async () => {
    const query = jobClient.createQuery('scheduleUpdateTwin', 'cancelled', 1);
    const ids = [];
    let pages = 0;
    do {
      const { result, message } = await query.next(query.continuationToken);
      if (message.headers['x-ms-item-type'] !== 'JobResponse') fail(`x-ms-item-type ${message.headers['x-ms-item-type']}`);
      if (result.length > 1) fail(`page of ${result.length} with page size 1`);
      for (const job of result) {
        if (job.type !== 'scheduleUpdateTwin' || job.status !== 'cancelled') fail(`filter let through ${JSON.stringify(job)}`);
        ids.push(job.jobId);
      }
      if (++pages > 200) fail('the continuation never ended');
    } while (query.hasMoreResults);
    if (!ids.includes(state.laterJob) || ids.includes(state.twinJob)) fail(`ids ${JSON.stringify(ids)}`);
  });

  await step('wrong-key-401', async () => {
    const wrong = serviceConnectionString.replace(/SharedAccessKey=[^;]*/, `SharedAccessKey=${crypto.randomBytes(32).toString('base64')}`);
    await expectError(newRegistry(wrong).get(deviceA), 'UnauthorizedError');
  });
}

async function deviceSteps() {
  // The device key is known only once create-device-with-generated-keys has run.
  const deviceConnectionString = () => `HostName=${endpoint.host};DeviceId=${deviceA};SharedAccessKey=${state.deviceKey};GatewayHostName=${endpoint.host}:${mqttPort}`;
  let client;
  const received = [];
  const updateReported = (patch) => new Promise((resolve, reject) => {
    state.deviceTwin.properties.reported.update(patch, (error) => (error ? reject(error) : resolve()));
  });

  await step('device-connect-mqtt', async () => {
    client = deviceSdk.Client.fromConnectionString(deviceConnectionString(), Mqtt);
    // No retries: an error must show at once, not hide behind the SDK's back-off.
    client.setRetryPolicy(new NoRetry());
    await client.open();
  });

  await step('device-get-twin', async () => {
    state.deviceTwin = await client.getTwin();
    const desired = state.deviceTwin.properties.desired;
    if (!desired.telemetry || desired.telemetry.interval !== 30) fail(`desired seen by the device: ${JSON.stringify(desired)}`);
    if (typeof desired.$version !== 'number') fail('desired $version missing');
  });

  await step('device-patch-reported', async () => {
    await updateReported({ temperature: 21.5, connectivity: 'cellular' });
  });

  await step('device-receives-desired-patch', async () => {
    state.deviceTwin.on('properties.desired', (patch) => received.push(patch));
    // Adding the listener subscribes in the background; this call subscribes again and returns after the
    // SUBACK, so the hub has processed the subscription (MQTT keeps a connection's packets in order) before
    // the patch is sent: an event to wait on, not a sleep. The SDK also emits the full desired document
    // once on subscription; the patch is told apart by its content and matched by $version.
    await new Promise((resolve, reject) => state.deviceTwin.enableTwinDesiredPropertiesUpdates((error) => (error ? reject(error) : resolve())));
    const { responseBody: twin } = await registry.updateTwin(deviceA, { properties: { desired: { fanSpeed: 3 } } }, '*');
    const patch = await until(() => received.find((p) => p.fanSpeed === 3 && !('telemetry' in p)), 'the desired patch');
    if (patch.$version !== twin.properties.desired.$version) fail(`patch $version ${patch.$version}, twin ${twin.properties.desired.$version}`);
  });

  await step('service-sees-reported-in-twin', async () => {
    const { responseBody: twin } = await registry.getTwin(deviceA);
    if (twin.properties.reported.connectivity !== 'cellular' || twin.properties.reported.temperature !== 21.5) fail(`reported ${JSON.stringify(twin.properties.reported)}`);
    if (twin.connectionState !== 'Connected') fail(`connectionState ${twin.connectionState}`);
  });

  await step('query-reported', async () => {
    const rows = (await queryAll(`SELECT deviceId FROM devices WHERE properties.reported.connectivity = 'cellular' AND tags.location.plant = '${plant}'`)).flatMap((p) => p.items);
    if (rows.length !== 1 || rows[0].deviceId !== deviceA) fail(`rows ${JSON.stringify(rows)}`);
  });

  await step('method-device-answers', async () => {
    // onDeviceMethod subscribes in the background; connectTimeoutInSeconds lets the hub wait for the subscription.
    client.onDeviceMethod('reboot', (request, response) => {
      response.send(200, { rebooted: true, delay: request.payload.delay, requestName: request.methodName }, () => {});
    });
    const { result } = await serviceClient.invokeDeviceMethod(deviceA, { methodName: 'reboot', payload: { delay: 5 }, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 10 });
    if (result.status !== 200) fail(`status ${result.status}`);
    if (!result.payload || result.payload.rebooted !== true || result.payload.delay !== 5 || result.payload.requestName !== 'reboot') fail(`payload ${JSON.stringify(result.payload)}`);
  });

  await step('method-device-error-status-passed-through', async () => {
    client.onDeviceMethod('explode', (request, response) => response.send(500, { reason: 'boom' }, () => {}));
    const { result } = await serviceClient.invokeDeviceMethod(deviceA, { methodName: 'explode', payload: null, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 10 });
    if (result.status !== 500 || !result.payload || result.payload.reason !== 'boom') fail(`result ${JSON.stringify(result)}`);
  });

  await step('job-schedule-device-method', async () => {
    // The device answers 'reboot' (registered above); the SDK sends no connectTimeoutInSeconds for jobs.
    const jobId = `job-method-${suffix}`;
    const { jobStatus: created } = await jobClient.scheduleDeviceMethod(jobId, `deviceId = '${deviceA}'`, { methodName: 'reboot', payload: { delay: 7 }, responseTimeoutInSeconds: 10 });
    if (created.type !== 'scheduleDeviceMethod' || created.cloudToDeviceMethod.methodName !== 'reboot') fail(`job ${JSON.stringify(created)}`);
    const job = await waitForJob(jobId);
    if (job.status !== 'completed' || job.deviceJobStatistics.succeededCount !== 1) fail(`job ${JSON.stringify(job)}`);
    const rows = (await queryAll(`SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${jobId}'`)).flatMap((p) => p.items);
    const outcome = rows.length === 1 && rows[0].outcome && rows[0].outcome.deviceMethodResponse;
    if (!outcome || outcome.status !== 200 || outcome.payload.delay !== 7) fail(`rows ${JSON.stringify(rows)}`);
  });

  await step('method-not-answered-504', async () => {
    client.onDeviceMethod('hang', () => {});
    const error = await expectError(serviceClient.invokeDeviceMethod(deviceA, { methodName: 'hang', payload: {}, responseTimeoutInSeconds: 5, connectTimeoutInSeconds: 5 }), 'GatewayTimeoutError');
    if (!/504101/.test(error.responseBody || '')) fail(`body ${error.responseBody}`);
  });

  await step('method-bad-timeout-400', async () => {
    await expectError(serviceClient.invokeDeviceMethod(deviceA, { methodName: 'reboot', payload: {}, responseTimeoutInSeconds: 1 }), 'ArgumentError');
  });

  // TwinPS's own device and back end against the official SDKs (tests/conformance/twinps-cross.js).
  await require('./twinps-cross').crossSteps({ step, fail, serviceClient, registry, deviceClient: () => client, deviceA, deviceB, endpoint, mqttPort, serviceConnectionString });

  await step('device-invalid-reported-key-rejected', async () => {
    // The hub answers on $iothub/twin/res/400 with an error body; the SDK turns its message into the error.
    // Only that answer counts: a timeout or a dropped connection is a failure, not the expected rejection.
    let rejection;
    try { await updateReported({ 'bad key': 1 }); } catch (error) { rejection = error; }
    if (!rejection) fail('a key with a space was accepted');
    if (rejection.constructor.name !== 'Error' || !/bad key/.test(rejection.message)) fail(`expected the hub's 400 answer naming 'bad key', got ${rejection.constructor.name}: ${rejection.message}`);
    const { responseBody: twin } = await registry.getTwin(deviceA);
    if ('bad key' in twin.properties.reported) fail('the rejected patch was applied');
  });

  await step('device-close', async () => {
    await client.close();
  });

  await step('method-offline-404103', async () => {
    let error;
    try {
      await serviceClient.invokeDeviceMethod(deviceA, { methodName: 'reboot', payload: {}, responseTimeoutInSeconds: 5 });
    } catch (e) { error = e; }
    if (!error) fail('a method on a disconnected device succeeded');
    if (!error.response || error.response.statusCode !== 404) fail(`status ${error.response && error.response.statusCode}`);
    if (error.response.headers['iothub-errorcode'] !== 'DeviceNotOnline' || !/404103/.test(error.responseBody)) fail(`body ${error.responseBody}`);
  });

  await step('device-wrong-key-refused', async () => {
    const wrong = deviceConnectionString().replace(/SharedAccessKey=[^;]*/, `SharedAccessKey=${crypto.randomBytes(32).toString('base64')}`);
    const bad = deviceSdk.Client.fromConnectionString(wrong, Mqtt);
    bad.setRetryPolicy(new NoRetry());
    // CONNACK 5 'not authorized' is the refusal; a TLS failure or a timeout is not (they are other errors).
    let refusal;
    try { await bad.open(); } catch (error) { refusal = error; } finally { await bad.close().catch(() => {}); }
    if (!refusal) fail('a device with a wrong key connected');
    if (refusal.constructor.name !== 'UnauthorizedError' || !/Not authorized/.test(refusal.message)) fail(`expected UnauthorizedError (CONNACK 'Not authorized'), got ${refusal.constructor.name}: ${refusal.message}`);
  });
}

async function cleanupSteps() {
  await step('delete-devices', async () => {
    for (const id of [deviceA, deviceB, deviceC]) await registry.delete(id);
    const error = await expectError(registry.getTwin(deviceA), 'DeviceNotFoundError');
    if (!/DeviceNotFound|not registered|not found/i.test(error.message)) fail(`message '${error.message}'`);
  });
}

(async () => {
  await serviceSteps();
  currentGroup = 'device';
  await deviceSteps();
  currentGroup = 'cleanup';
  await cleanupSteps();
  for (const { name } of plan) console.log(`EXPECT ${name}`);
  for (const { name, body, group, timeoutMs } of plan) {
    if (skipDevice && group === 'device') console.log(`SKIP ${name}: SKIP_DEVICE=1`);
    else await runStep(name, body, timeoutMs);
  }
  const passed = results.filter(Boolean).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  agent.destroy();
  process.exit(failed === 0 ? 0 : 1);
})().catch((error) => {
  console.log(`FAIL harness: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
