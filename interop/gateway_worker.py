#!/usr/bin/env python3
"""One Python caller of the side-by-side gateway run (interop/gateway_side_by_side.sh).

The field guide's recipe, unchanged but for endpoint and keys: a boto3 Connect
client in adaptive retry mode (max_attempts 10) wrapped in a full-jitter retry
loop (base 1 s, cap 32 s, 8 tries). It runs JOBS jobs, each a
StartOutboundVoiceContact then a ListQueues. It touches READY_FILE once its
client is built, waits for START_FILE (the common start, epoch seconds) and
prints one JSON line: name, success times, failures, end.
"""
import json
import os
import random
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT, KEY, SECRET, NAME = os.environ["ENDPOINT"], os.environ["KEY"], os.environ["SECRET"], os.environ["NAME"]
INSTANCE, FLOW = os.environ["INSTANCE"], os.environ["FLOW"]
JOBS = int(os.environ["JOBS"])

connect_client = boto3.client(
    "connect", region_name="us-east-1",
    endpoint_url=ENDPOINT, aws_access_key_id=KEY, aws_secret_access_key=SECRET,  # the two-line change
    config=Config(retries={"mode": "adaptive", "max_attempts": 10}),
)


def exponential_backoff_with_jitter(attempt, base_delay=1.0, max_delay=32.0):
    return random.uniform(0, min(max_delay, base_delay * (2 ** attempt)))


RETRYABLE = {"ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "ServiceUnavailableException", "InternalServiceException"}


def call_connect_api_with_retry(api_func, max_retries=8, **kwargs):
    for attempt in range(max_retries):
        try:
            return api_func(**kwargs)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code in RETRYABLE and attempt < max_retries - 1:
                time.sleep(exponential_backoff_with_jitter(attempt))
                continue
            raise


def main():
    ok, failures = [], 0
    open(os.environ["READY_FILE"], "w").close()
    while not os.path.exists(os.environ["START_FILE"]):
        time.sleep(0.01)
    time.sleep(0.05)
    start_at = float(open(os.environ["START_FILE"]).read())
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(JOBS):
        for fn, kw in ((connect_client.start_outbound_voice_contact,
                        dict(InstanceId=INSTANCE, ContactFlowId=FLOW, DestinationPhoneNumber="+14155550100")),
                       (connect_client.list_queues, dict(InstanceId=INSTANCE))):
            try:
                call_connect_api_with_retry(fn, **kw)
                ok.append(time.time())
            except ClientError:
                failures += 1
    print(json.dumps({"name": NAME, "lang": "python", "ok": ok, "failures": failures, "end": time.time()}))


if __name__ == "__main__":
    sys.exit(main())
