// Graph through plain HTTP, as our C client does it: a token from
// @azure/identity, then GET with @odata.nextLink followed verbatim.
import { args, credential, errorOf, report } from "./common.mjs";

const a = args();
const serial = a.rest[0] ?? "";
try {
  const { token } = await credential(a).getToken("https://graph.microsoft.com/.default");
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  let next = `${a.url}/v1.0/deviceManagement/windowsAutopilotDeviceIdentities?$top=2`;
  const serials = [];
  let pages = 0;
  while (next) {
    const res = await fetch(next, { headers });
    if (!res.ok) throw new Error(`GET ${next}: ${res.status}`);
    const body = await res.json();
    pages++;
    for (const d of body.value) serials.push(d.serialNumber);
    next = body["@odata.nextLink"];
  }
  const filter = encodeURIComponent(`contains(serialNumber,'${serial.replace(/'/g, "''")}')`);
  const found = await (await fetch(`${a.url}/v1.0/deviceManagement/windowsAutopilotDeviceIdentities?$filter=${filter}`,
    { headers })).json();
  const missing = await fetch(`${a.url}/v1.0/deviceManagement/managedDevices/00000000-0000-4000-8000-000000000000`,
    { headers });
  report({ ok: true, serials, pages, found: found.value.map((d) => d.serialNumber),
    missingStatus: missing.status, missingCode: (await missing.json()).error?.code });
} catch (e) {
  report({ ok: false, error: errorOf(e) });
}
