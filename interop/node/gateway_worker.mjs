// One Node caller of the side-by-side gateway run
// (interop/gateway_side_by_side.sh): the field guide's recipe, unchanged but
// for endpoint and keys — a ConnectClient with ConfiguredRetryStrategy(8,
// full jitter 1 s … 32 s). ConfiguredRetryStrategy comes from @smithy/core
// (the class @aws-sdk/util-retry re-exports), already installed with
// @aws-sdk/client-connect. Runs JOBS jobs (StartOutboundVoiceContact then
// ListQueues): it touches READY_FILE once its client is built, waits for
// START_FILE (the common start, epoch seconds) and prints one JSON line.
import { ConnectClient, ListQueuesCommand, StartOutboundVoiceContactCommand } from "@aws-sdk/client-connect";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const env = process.env;
const connectClient = new ConnectClient({
  region: "us-east-1",
  endpoint: env.ENDPOINT, // the two-line change: endpoint and keys
  credentials: { accessKeyId: env.KEY, secretAccessKey: env.SECRET },
  retryStrategy: new ConfiguredRetryStrategy(8, (attempt) => {
    const exponentialDelay = Math.min(32000, 1000 * Math.pow(2, attempt));
    return Math.random() * exponentialDelay;
  }),
});

const NON_RETRYABLE_CODES = new Set(["ServiceQuotaExceededException", "AccessDeniedException", "InvalidParameterException"]);
async function executeConnectCommand(command) {
  try {
    return await connectClient.send(command);
  } catch (error) {
    if (NON_RETRYABLE_CODES.has(error.name)) console.error(`non-retryable ${error.name}`);
    throw error;
  }
}

const ok = [];
let failures = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
writeFileSync(env.READY_FILE, "");
while (!existsSync(env.START_FILE)) await sleep(10);
await sleep(50);
await sleep(Math.max(0, Number(readFileSync(env.START_FILE, "utf8")) * 1000 - Date.now()));
for (let i = 0; i < Number(env.JOBS); i++) {
  for (const cmd of [
    new StartOutboundVoiceContactCommand({ InstanceId: env.INSTANCE, ContactFlowId: env.FLOW, DestinationPhoneNumber: "+14155550100" }),
    new ListQueuesCommand({ InstanceId: env.INSTANCE }),
  ]) {
    try {
      await executeConnectCommand(cmd);
      ok.push(Date.now() / 1000);
    } catch {
      failures++;
    }
  }
}
console.log(JSON.stringify({ name: env.NAME, lang: "node", ok, failures, end: Date.now() / 1000 }));
