// @azure/identity's ClientSecretCredential against the simulated Entra ID:
// a token for SCOPE, or the error the SDK raises.
import { args, credential, errorOf, report } from "./common.mjs";

const a = args();
const scope = a.rest[0] ?? "https://management.azure.com/.default";
try {
  const t = await credential(a).getToken(scope);
  report({ ok: true, token: t.token, expiresOnTimestamp: t.expiresOnTimestamp });
} catch (e) {
  report({ ok: false, error: errorOf(e) });
}
