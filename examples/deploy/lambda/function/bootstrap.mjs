// A minimal custom runtime speaking the Lambda Runtime API (2018-06-01), as
// provided.al2023 bootstraps do: fetch the next invocation, run the
// handler, post its result or its error. Run it as `node bootstrap.mjs`
// (the emulator's bootstrap command) with _HANDLER=index.handler.
import { pathToFileURL } from "node:url";
import path from "node:path";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const [file, fn] = (process.env._HANDLER || "index.handler").split(".");
const dir = process.env.LAMBDA_TASK_ROOT || path.dirname(new URL(import.meta.url).pathname);

let handler;
try {
  handler = (await import(pathToFileURL(path.join(dir, `${file}.mjs`)).href))[fn];
  if (typeof handler !== "function") throw new Error(`${file}.${fn} is not a function`);
} catch (err) {
  await fetch(`${api}/init/error`, {
    method: "POST",
    headers: { "Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError" },
    body: JSON.stringify({ errorType: err.name, errorMessage: err.message }),
  });
  process.exit(1);
}

for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  try {
    const result = await handler(event);
    await fetch(`${api}/invocation/${id}/response`, { method: "POST", body: JSON.stringify(result) });
  } catch (err) {
    await fetch(`${api}/invocation/${id}/error`, {
      method: "POST",
      headers: { "Lambda-Runtime-Function-Error-Type": "Runtime.HandlerError" },
      body: JSON.stringify({ errorType: err.name, errorMessage: err.message }),
    });
  }
}
