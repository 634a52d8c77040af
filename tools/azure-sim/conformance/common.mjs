// Shared by the conformance scripts: arguments, the credential as a
// Concierge operator would configure it against the simulator, and output.
import { ClientSecretCredential } from "@azure/identity";

export function args() {
  const [url, tenant, clientId, secret, ...rest] = process.argv.slice(2);
  if (!url || !tenant || !clientId || !secret) {
    console.error("usage: node SCRIPT SIM_URL TENANT CLIENT_ID SECRET [...]");
    process.exit(2);
  }
  return { url, tenant, clientId, secret, rest };
}

// authorityHost is the simulator; instance discovery would ask
// login.microsoftonline.com, which is not reachable (reference section 9).
export function credential(a) {
  return new ClientSecretCredential(a.tenant, a.clientId, a.secret, {
    authorityHost: a.url,
    disableInstanceDiscovery: true,
  });
}

export function errorOf(e) {
  return {
    name: e?.name,
    message: String(e?.message ?? e).slice(0, 2000),
    code: e?.code,
    statusCode: e?.statusCode,
    errorResponse: e?.errorResponse
      ? { error: e.errorResponse.error, errorDescription: e.errorResponse.errorDescription,
          errorCodes: e.errorResponse.errorCodes }
      : undefined,
  };
}

// One JSON document on stdout; t/sim/conformance.t makes the assertions.
export function report(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}
