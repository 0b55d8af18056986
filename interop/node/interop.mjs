// Node AWS SDK v3 (@aws-sdk/client-connect) against tollgate sim: three
// operations succeed, a ThrottlingException arrives with retries off, and
// the same call succeeds with the SDK's retries on.
import {
  ConnectClient,
  DescribeInstanceCommand,
  ListUsersCommand,
  ListQueuesCommand,
} from "@aws-sdk/client-connect";

const endpoint = process.env.SIM_URL;
const instanceId = process.env.SIM_INSTANCE;
if (!endpoint || !instanceId) {
  console.error("SIM_URL and SIM_INSTANCE must be set");
  process.exit(2);
}
const common = {
  region: "us-east-1",
  endpoint,
  credentials: { accessKeyId: "AKIDNODEINTEROP", secretAccessKey: "interop-secret" },
};
const noRetry = new ConnectClient({ ...common, maxAttempts: 1 });
const withRetry = new ConnectClient({ ...common, maxAttempts: 10, retryMode: "standard" });

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok   node ${name}`);
  } else {
    failed++;
    console.log(`FAIL node ${name} ${detail}`);
  }
}

async function step(name, fn) {
  try {
    await fn();
  } catch (err) {
    check(name, false, `${err.name}: ${err.message}`);
  }
}

await step("DescribeInstance", async () => {
  const out = await noRetry.send(new DescribeInstanceCommand({ InstanceId: instanceId }));
  check("DescribeInstance", out.Instance?.Id === instanceId && out.Instance?.InstanceStatus === "ACTIVE", JSON.stringify(out.Instance));
});

await step("ListUsers", async () => {
  const out = await noRetry.send(new ListUsersCommand({ InstanceId: instanceId, MaxResults: 100 }));
  check("ListUsers", (out.UserSummaryList?.length ?? 0) > 0 && out.UserSummaryList[0].LastModifiedTime instanceof Date, JSON.stringify(out.UserSummaryList?.[0]));
});

await step("ListQueues throttled without retries", async () => {
  let throttled = null;
  for (let i = 0; i < 5 && !throttled; i++) {
    try {
      await noRetry.send(new ListQueuesCommand({ InstanceId: instanceId }));
    } catch (err) {
      throttled = err;
    }
  }
  check("ListQueues throttled without retries",
    throttled?.name === "ThrottlingException" && throttled?.$metadata?.httpStatusCode === 429 && throttled?.$metadata?.attempts === 1,
    throttled ? `${throttled.name} ${JSON.stringify(throttled.$metadata)}` : "no throttle in 5 calls");
});

await step("ListQueues succeeds with retries", async () => {
  const out = await withRetry.send(new ListQueuesCommand({ InstanceId: instanceId }));
  check("ListQueues succeeds with retries",
    (out.QueueSummaryList?.length ?? 0) > 0 && out.$metadata.attempts >= 2,
    JSON.stringify(out.$metadata));
});

console.log(`node: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
