'use strict';
// TwinPS against Microsoft's official SDKs, across the two halves of a direct method:
//   - a device written with TwinPS (Connect-IoTDevice, Wait-IoTDeviceMethod, Send-IoTDeviceMethodResponse) answers a
//     method that the official service SDK (azure-iothub Client.invokeDeviceMethod) invokes;
//   - TwinPS's Invoke-IoTDeviceMethod calls a device written with the official device SDK (azure-iot-device onDeviceMethod).
// The TwinPS side runs in a child `dotnet pwsh` with the BUILT module (TWINPS_MODULE_PATH, else out/TwinPS/TwinPS.psd1).

const path = require('path');
const fs = require('fs');
const { spawn } = require('child_process');

const repoRoot = path.resolve(__dirname, '..', '..');
const modulePath = process.env.TWINPS_MODULE_PATH || path.join(repoRoot, 'out', 'TwinPS', 'TwinPS.psd1');
// Child pwsh start-up and module import take seconds on a loaded machine: these steps get a longer bound.
const CROSS_STEP_TIMEOUT_MS = 90000;

function runPwsh(script, args, onLine) {
  const child = spawn('dotnet', ['pwsh', '-NoProfile', '-NonInteractive', '-File', path.join(__dirname, script), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at).replace(/\r$/, '');
      buffer = buffer.slice(at + 1);
      lines.push(line);
      if (onLine) onLine(line);
    }
  });
  child.stderr.on('data', (chunk) => { stderr += chunk.toString(); });
  const exited = new Promise((resolve) => child.on('close', (code) => resolve({ code, lines, stderr })));
  return { child, exited };
}

async function crossSteps({ step, fail, serviceClient, registry, deviceClient, deviceA, deviceB, endpoint, mqttPort, serviceConnectionString }) {
  const caPath = process.env.NODE_EXTRA_CA_CERTS;

  await step('twinps-device-answers-official-service-sdk', async () => {
    if (!fs.existsSync(modulePath)) fail(`the built TwinPS module is missing at ${modulePath} (build first)`);
    const { responseBody: device } = await registry.get(deviceB);
    const connectionString = `HostName=${endpoint.host};DeviceId=${deviceB};SharedAccessKey=${device.authentication.symmetricKey.primaryKey}`;
    let ready;
    const readyLine = new Promise((resolve) => { ready = resolve; });
    const run = runPwsh('twinps-device.ps1', ['-ModulePath', modulePath, '-ConnectionString', connectionString, '-MqttPort', String(mqttPort), '-CACertificatePath', caPath],
      (line) => { if (line === 'READY') ready(); });
    try {
      await Promise.race([readyLine, run.exited.then((r) => fail(`TwinPS device exited early (${r.code}): ${r.stderr || r.lines.join(' | ')}`))]);
      const { result } = await serviceClient.invokeDeviceMethod(deviceB, { methodName: 'firmwareCheck', payload: { channel: 'stable', n: [1, 2] }, responseTimeoutInSeconds: 30, connectTimeoutInSeconds: 0 });
      if (result.status !== 200) fail(`status ${result.status}`);
      const p = result.payload || {};
      if (p.answeredBy !== 'TwinPS' || p.method !== 'firmwareCheck' || !p.echo || p.echo.channel !== 'stable' || JSON.stringify(p.echo.n) !== '[1,2]') fail(`payload ${JSON.stringify(result.payload)}`);
      const outcome = await run.exited;
      if (outcome.code !== 0) fail(`TwinPS device exited with ${outcome.code}: ${outcome.stderr || outcome.lines.join(' | ')}`);
    } finally {
      if (run.child.exitCode === null) run.child.kill();
    }
  }, CROSS_STEP_TIMEOUT_MS);

  await step('twinps-invokes-official-device-sdk', async () => {
    if (!fs.existsSync(modulePath)) fail(`the built TwinPS module is missing at ${modulePath} (build first)`);
    // The official device client is opened by an earlier step: read it when this step runs.
    const client = deviceClient();
    if (!client) fail('the official-SDK device is not connected (device-connect-mqtt failed)');
    let calls = 0;
    client.onDeviceMethod('twinpsPing', (request, response) => {
      calls += 1;
      response.send(207, { answeredBy: 'azure-iot-device', echo: request.payload, method: request.methodName }, () => {});
    });
    const run = runPwsh('twinps-invoke.ps1', ['-ModulePath', modulePath, '-ServiceConnectionString', serviceConnectionString, '-CACertificatePath', caPath, '-DeviceId', deviceA, '-MethodName', 'twinpsPing']);
    const outcome = await run.exited;
    if (outcome.code !== 0) fail(`Invoke-IoTDeviceMethod exited with ${outcome.code}: ${outcome.stderr || outcome.lines.join(' | ')}`);
    const json = outcome.lines.filter((l) => l.startsWith('{')).pop();
    if (!json) fail(`no result printed: ${outcome.lines.join(' | ')}`);
    const result = JSON.parse(json);
    if (result.DeviceId !== deviceA || result.MethodName !== 'twinpsPing' || result.Status !== 207) fail(`result ${json}`);
    if (!result.Payload || result.Payload.answeredBy !== 'azure-iot-device' || !result.Payload.echo || result.Payload.echo.level !== 3) fail(`payload ${json}`);
    if (calls !== 1) fail(`the device saw ${calls} calls`);
  }, CROSS_STEP_TIMEOUT_MS);
}

module.exports = { crossSteps };
