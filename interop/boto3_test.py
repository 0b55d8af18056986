#!/usr/bin/env python3
"""boto3 against tollgate sim: three operations succeed, a
ThrottlingException arrives with retries off, and the same call succeeds
with botocore's retries on. Run by interop/run.sh (SIM_URL, SIM_INSTANCE)."""

import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["SIM_URL"]
INSTANCE = os.environ["SIM_INSTANCE"]

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   boto3 {name}")
    else:
        failed += 1
        print(f"FAIL boto3 {name} {detail}")


def client(attempts, mode="standard"):
    return boto3.client(
        "connect",
        endpoint_url=URL,
        region_name="us-east-1",
        aws_access_key_id="AKIDBOTO3INTEROP",
        aws_secret_access_key="interop-secret",
        config=Config(retries={"mode": mode, "total_max_attempts": attempts}),
    )


no_retry = client(1)
with_retry = client(10)


def step(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report and continue
        check(name, False, f"{type(e).__name__}: {e}")


def describe_instance():
    out = no_retry.describe_instance(InstanceId=INSTANCE)
    check("DescribeInstance", out["Instance"]["Id"] == INSTANCE and out["Instance"]["InstanceStatus"] == "ACTIVE", out["Instance"])


def list_users():
    out = no_retry.list_users(InstanceId=INSTANCE, MaxResults=100)
    users = out.get("UserSummaryList", [])
    check("ListUsers", len(users) > 0 and "LastModifiedTime" in users[0], users[:1])


def list_queues_throttled():
    err = None
    for _ in range(5):
        try:
            no_retry.list_queues(InstanceId=INSTANCE)
        except ClientError as e:
            err = e
            break
    ok = (
        err is not None
        and err.response["Error"]["Code"] == "ThrottlingException"
        and err.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        and err.response["ResponseMetadata"].get("RetryAttempts", 0) == 0
    )
    check("ListQueues throttled without retries", ok, err.response if err else "no throttle in 5 calls")


def list_queues_retried():
    out = with_retry.list_queues(InstanceId=INSTANCE)
    attempts = out["ResponseMetadata"].get("RetryAttempts", 0)
    check("ListQueues succeeds with retries", len(out.get("QueueSummaryList", [])) > 0 and attempts >= 1, out["ResponseMetadata"])


step("DescribeInstance", describe_instance)
step("ListUsers", list_users)
step("ListQueues throttled without retries", list_queues_throttled)
step("ListQueues succeeds with retries", list_queues_retried)

print(f"boto3: {passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
