package extension

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/gateway"
)

// secretVar is the name FunctionCallers resolves the secret under; the
// secret itself never appears in the generated callers document.
const secretVar = "TOLLGATE_FUNCTION_SECRET"

// FunctionCallers returns the gateway's callers for one Lambda function:
// a single caller whose key is the function's own access key (only the
// function holds its secret), named principal, allowed operations (nil
// or empty: every operation, "*").
func FunctionCallers(creds aws.Credentials, principal string, operations []string) (*gateway.Callers, error) {
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, errors.New("extension: the function's credentials are missing (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	if principal == "" {
		principal = "function"
	}
	ops := `["*"]`
	if len(operations) > 0 {
		q := make([]string, len(operations))
		for i, op := range operations {
			q[i] = strconv.Quote(op)
		}
		ops = "[" + strings.Join(q, ", ") + "]"
	}
	doc := "callers:\n  - access_key_id: " + strconv.Quote(creds.AccessKeyID) +
		"\n    secret_env: " + secretVar +
		"\n    principal: " + strconv.Quote(principal) +
		"\n    operations: " + ops + "\n    priority: normal\n"
	return gateway.ParseCallers("function credentials", []byte(doc), func(k string) string {
		if k == secretVar {
			return creds.SecretAccessKey
		}
		return ""
	})
}

// Guard refuses a signed request whose X-Amz-Security-Token is not the
// function's own session token (the gateway's signature check proves the
// key and secret; the token is signed but compared only here). An empty
// token (long-term keys) leaves next unguarded.
func Guard(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Amz-Security-Token")
		if r.Header.Get("Authorization") != "" && subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-ErrorType", "UnrecognizedClientException")
			w.Header().Set(gateway.ClassHeader, "client-fault")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"The security token included in the request is invalid."}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}
