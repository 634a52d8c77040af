// @azure/keyvault-secrets' SecretClient against the simulated Key Vault: the
// challenge, set/get/versions, paging, soft delete, recover and purge.
import { SecretClient } from "@azure/keyvault-secrets";
import { args, credential, errorOf, report } from "./common.mjs";

const a = args();
const vaultUrl = a.rest[0] ?? a.url;
// The challenge names resource https://vault.azure.net, which is not the
// simulator's host: the check must be off (reference section 9).
const client = new SecretClient(vaultUrl, credential(a), {
  disableChallengeResourceVerification: true,
});
const out = {};
const poll = { updateIntervalInMs: 50 };
try {
  const set1 = await client.setSecret("conf-secret", "value-1", { contentType: "text/plain",
    expiresOn: new Date("2030-01-01T00:00:00Z") });
  out.set = { name: set1.name, version: set1.properties.version, value: set1.value,
    expiresOn: set1.properties.expiresOn?.toISOString(), vaultUrl: set1.properties.vaultUrl };
  await client.setSecret("conf-secret", "value-2");
  out.latest = (await client.getSecret("conf-secret")).value;
  out.byVersion = (await client.getSecret("conf-secret", { version: set1.properties.version })).value;
  const versions = [];
  for await (const p of client.listPropertiesOfSecretVersions("conf-secret")) versions.push(p.version);
  out.versions = versions.length;
  for (let i = 0; i < 4; i++) await client.setSecret(`conf-page-${i}`, `v${i}`);
  const names = [];
  let pages = 0;
  for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) {
    pages++;
    for (const p of page) names.push(p.name);
  }
  out.listed = names.sort();
  out.pages = pages;
  try { await client.getSecret("conf-missing"); out.missing = "found?"; }
  catch (e) { out.missing = { statusCode: e.statusCode, code: e.code }; }
  const del = await client.beginDeleteSecret("conf-secret", poll);
  const deleted = await del.pollUntilDone();
  out.deleted = { name: deleted.name, recoveryId: deleted.recoveryId,
    scheduledPurgeDate: deleted.properties.scheduledPurgeDate?.toISOString() };
  try { await client.setSecret("conf-secret", "again"); out.conflict = "no conflict?"; }
  catch (e) { out.conflict = { statusCode: e.statusCode, code: e.code }; }
  const rec = await client.beginRecoverDeletedSecret("conf-secret", poll);
  await rec.pollUntilDone();
  out.recovered = (await client.getSecret("conf-secret")).value;
  await (await client.beginDeleteSecret("conf-secret", poll)).pollUntilDone();
  await client.purgeDeletedSecret("conf-secret");
  try { await client.getDeletedSecret("conf-secret"); out.purged = false; }
  catch (e) { out.purged = e.statusCode === 404; }
  report({ ok: true, ...out });
} catch (e) {
  report({ ok: false, ...out, error: errorOf(e) });
}
