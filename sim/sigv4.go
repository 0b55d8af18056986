package sim

import (
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/tollgatehq/tollgate/sigv4"
)

// callerKey returns the access key id of an Authorization header without
// allocating, or "" when the header is not SigV4.
func callerKey(h string) string { return sigv4.AccessKeyID(h) }

// parseAuthorization splits a SigV4 Authorization header.
func parseAuthorization(h string) (sigv4.Authorization, bool) {
	a, err := sigv4.ParseAuthorization(h)
	return a, err == nil
}

// newVerifier returns a SigV4 verifier of the simulated account: its
// secrets, its Region and the signing names it accepts (Connect and
// Outbound Campaigns for the Connect routes; Service Quotas and CloudWatch
// for the services of aws.go; STS for sts.go).
func newVerifier(secrets sigv4.SecretFunc, region string, services ...string) *sigv4.Verifier {
	return sigv4.NewVerifier(secrets, sigv4.Options{Region: region, Services: services})
}

// mapSecrets looks secrets up in creds.
func mapSecrets(creds map[string]string) sigv4.SecretFunc {
	return func(k string) (string, bool) {
		s, ok := creds[k]
		return s, ok
	}
}

// verifySigV4 checks the request's SigV4 signature (package sigv4) and
// answers a failure the way AWS front doors do:
//   - no Authorization header: 403 MissingAuthenticationTokenException
//   - malformed header: 400 IncompleteSignatureException
//   - unknown access key: 403 UnrecognizedClientException
//   - wrong signature, skewed or mismatched date, foreign scope: 403
//     InvalidSignatureException
func verifySigV4(v *sigv4.Verifier, r *http.Request, body []byte, now time.Time) *apiError {
	if _, err := v.Verify(r, body, now); err != nil {
		var e *sigv4.Error
		if errors.As(err, &e) {
			return errf(e.Code, e.Message)
		}
		return errf(codeInvalidSignature, err.Error())
	}
	return nil
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
