// Package deploy holds the recipes for running tollgate in production:
// a hardened systemd unit for serve (tollgate.service), a container image
// definition (Dockerfile: a static binary on an empty base, non-root, no
// shell), an ECS task definition sketch, a Prometheus scrape configuration
// reading serve's bearer token from a file, and CloudFormation for the SQS
// job queue with its dead-letter queue and the EventBridge rule sending
// Amazon Connect contact events to serve's queue. Its tests check each
// recipe with the real tool where there is one (systemd-analyze verify, a
// chroot in a new user namespace for the image's binary) and parse the rest.
package deploy
