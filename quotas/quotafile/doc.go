// Package quotafile reads quota overrides from a YAML file into
// []quotas.Override, for (*quotas.Table).Apply.
//
// The format:
//
//	overrides:
//	  - account: "123456789012"   # optional: only this account
//	    region: us-east-1         # optional: only this Region
//	    op: StartOutboundVoiceContact
//	    rate: 10                  # requests per second
//	    burst: 20
//	    code: L-4E9BCC96          # optional Service Quotas code
//	resources:
//	  - name: concurrent-active-calls
//	    value: 50
//	    region: eu-west-2         # optional, as above
//
// Parsing is strict: an unknown field, a duplicate key, a value of the wrong
// type or an invalid value is an error naming the file, the line and the
// field, e.g. "quotas.yaml:7: overrides[1].rate: must be > 0, got -1".
// Resource names are checked against quotas.Default().
//
// This is an adapter: it wraps go.yaml.in/yaml/v3.
package quotafile
