// @azure/arm-resources' ResourceManagementClient against the simulated ARM:
// resource groups, a deployment polled through Azure-AsyncOperation, a
// failing deployment, deployment operations, and deletion polled through
// Location.
import { ResourceManagementClient } from "@azure/arm-resources";
import { args, credential, errorOf, report } from "./common.mjs";

const a = args();
const subscription = a.rest[0];
// A sovereign-cloud style set-up: endpoint moved, scope unchanged.
const client = new ResourceManagementClient(credential(a), subscription, {
  endpoint: a.url,
  credentialScopes: ["https://management.azure.com/.default"],
});
const poll = { updateIntervalInMs: 100 };

function template(vmName) {
  return {
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    contentVersion: "1.0.0.0",
    parameters: { vmName: { type: "string" }, adminUsername: { type: "string" } },
    variables: { nic: "[concat(parameters('vmName'), '-nic')]" },
    resources: [
      { type: "Microsoft.Network/networkInterfaces", apiVersion: "2021-05-01",
        name: "[variables('nic')]", location: "[resourceGroup().location]",
        properties: { ipConfigurations: [{ name: "ipconfig1",
          properties: { privateIPAllocationMethod: "Dynamic" } }] } },
      { type: "Microsoft.Compute/virtualMachines", apiVersion: "2021-11-01",
        name: "[parameters('vmName')]", location: "[resourceGroup().location]",
        dependsOn: ["[resourceId('Microsoft.Network/networkInterfaces', variables('nic'))]"],
        properties: {
          hardwareProfile: { vmSize: "Standard_B2s" },
          storageProfile: { imageReference: { publisher: "Canonical",
            offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts-gen2", version: "latest" } },
          osProfile: { computerName: "[parameters('vmName')]",
            adminUsername: "[parameters('adminUsername')]", linuxConfiguration: {} },
          networkProfile: { networkInterfaces: [{ id:
            "[resourceId('Microsoft.Network/networkInterfaces', variables('nic'))]" }] } } },
    ],
    outputs: { vmId: { type: "string",
      value: "[reference(resourceId('Microsoft.Compute/virtualMachines', parameters('vmName'))).vmId]" } },
  };
}

function deployment(vmName) {
  return { properties: { mode: "Incremental", template: template(vmName),
    parameters: { vmName: { value: vmName }, adminUsername: { value: "azureuser" } } } };
}

const out = {};
try {
  const rg = await client.resourceGroups.createOrUpdate("rg-conformance", { location: "westeurope" });
  out.rg = { name: rg.name, location: rg.location, state: rg.properties?.provisioningState };
  const ok = await client.deployments.beginCreateOrUpdateAndWait("rg-conformance", "dep-ok",
    deployment("vm-conf-01"), poll);
  out.deployment = { state: ok.properties?.provisioningState, vmId: ok.properties?.outputs?.vmId?.value };
  try {
    await client.deployments.beginCreateOrUpdateAndWait("rg-conformance", "dep-bad",
      deployment("bad_name!"), poll);
    out.failed = "succeeded?";
  } catch (e) {
    out.failed = { code: e.code, message: String(e.message).slice(0, 500) };
  }
  const ops = [];
  for await (const op of client.deploymentOperations.list("rg-conformance", "dep-bad")) {
    ops.push({ state: op.properties?.provisioningState,
      code: op.properties?.statusMessage?.error?.code });
  }
  out.operations = ops;
  await client.resourceGroups.beginDeleteAndWait("rg-conformance", poll);
  out.exists = await client.resourceGroups.checkExistence("rg-conformance").then((r) => r.body);
  report({ ok: true, ...out });
} catch (e) {
  report({ ok: false, ...out, error: errorOf(e) });
}
