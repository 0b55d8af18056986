package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultWindow = 5 * time.Minute
	// UnsignedPayload is the X-Amz-Content-Sha256 value that leaves the
	// body out of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// AmzDateFormat is the layout of X-Amz-Date.
	AmzDateFormat = "20060102T150405Z"
)

// Options configure a Verifier. The zero value accepts any Region and
// service within a ±5 minute window and refuses UNSIGNED-PAYLOAD.
type Options struct {
	// Region, when set, is the only Region a credential scope may name.
	Region string
	// Services, when not empty, are the signing names a scope may name
	// (for Amazon Connect: "connect" and "connect-campaigns").
	Services []string
	// Window is how far X-Amz-Date may be from now either way (0 means
	// DefaultWindow).
	Window time.Duration
	// AllowUnsignedPayload accepts X-Amz-Content-Sha256: UNSIGNED-PAYLOAD,
	// which leaves the body unauthenticated.
	AllowUnsignedPayload bool
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	return o
}

// SecretFunc returns the secret access key of an access key id, or false
// when the key is unknown.
type SecretFunc func(accessKeyID string) (secret string, ok bool)

// Verifier checks SigV4 signatures. It is safe for concurrent use.
type Verifier struct {
	secrets SecretFunc
	o       Options

	mu   sync.Mutex           // guards keys
	keys map[keyID]signingKey // derived signing keys, as the SDK signers cache them
}

// keyID names one derived signing key.
type keyID struct{ akid, date, region, service string }

// signingKey is a derived key and the secret it was derived from (a
// changed secret misses the cache).
type signingKey struct {
	secret string
	key    []byte
}

// maxKeys bounds the signing-key cache; it is emptied when full.
const maxKeys = 4096

// NewVerifier returns a Verifier that looks secrets up with secrets.
func NewVerifier(secrets SecretFunc, o Options) *Verifier {
	return &Verifier{secrets: secrets, o: o.withDefaults()}
}

// Verify checks the signature of r, whose body (already read, and no longer
// readable from r) is body, at time now. It returns the parsed
// Authorization of a valid request, or an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte, now time.Time) (Authorization, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 || vals[0] == "" {
		return Authorization{}, fail(ErrMissing, "Missing Authentication Token")
	}
	if len(vals) > 1 {
		return Authorization{}, fail(ErrMalformed, "The request has more than one Authorization header.")
	}
	a, err := ParseAuthorization(vals[0])
	if err != nil {
		return a, err
	}
	secret, ok := v.secrets(a.AccessKeyID)
	if !ok {
		return a, fail(ErrUnknownKey, "The security token included in the request is invalid.")
	}
	if a.Terminator != "aws4_request" {
		return a, fail(ErrMalformed, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+clip(a.Terminator)+"'.")
	}
	if v.o.Region != "" && a.Region != v.o.Region {
		return a, fail(ErrScope, "Credential should be scoped to a valid region, not '"+clip(a.Region)+"'.")
	}
	if len(v.o.Services) > 0 && !slices.Contains(v.o.Services, a.Service) {
		return a, fail(ErrScope, "Credential should be scoped to correct service: '"+clip(a.Service)+"'.")
	}
	dates := r.Header.Values("X-Amz-Date")
	if len(dates) != 1 {
		return a, fail(ErrMalformed, "Authorization header requires existence of exactly one 'X-Amz-Date' header.")
	}
	amzDate := dates[0]
	t, perr := time.Parse(AmzDateFormat, amzDate)
	if perr != nil {
		return a, fail(ErrMalformed, "X-Amz-Date '"+clip(amzDate)+"' is not in the form YYYYMMDDTHHMMSSZ.")
	}
	if a.Date != amzDate[:8] {
		return a, fail(ErrScope, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+clip(a.Date)+"' != '"+amzDate[:8]+"', from '"+amzDate+"'.")
	}
	if d := now.Sub(t); d > v.o.Window || d < -v.o.Window {
		nowS := now.UTC().Format(AmzDateFormat)
		if d > 0 {
			return a, fail(ErrExpired, "Signature expired: "+amzDate+" is now earlier than "+now.Add(-v.o.Window).UTC().Format(AmzDateFormat)+" ("+nowS+" - "+v.o.Window.String()+".)")
		}
		return a, fail(ErrExpired, "Signature not yet current: "+amzDate+" is still later than "+now.Add(v.o.Window).UTC().Format(AmzDateFormat)+" ("+nowS+" + "+v.o.Window.String()+".)")
	}
	signed := ";" + a.SignedHeaders + ";"
	if !strings.Contains(signed, ";host;") || !strings.Contains(signed, ";x-amz-date;") {
		return a, fail(ErrMalformed, "SignedHeaders must include 'host' and 'x-amz-date'.")
	}
	if strings.Contains(signed, ";authorization;") {
		return a, fail(ErrMalformed, "SignedHeaders must not include 'authorization'.")
	}
	payload, err := v.payloadHash(r, body)
	if err != nil {
		return a, err
	}
	cr, err := CanonicalRequest(r, a.SignedHeaders, payload)
	if err != nil {
		return a, err
	}
	want := hex.EncodeToString(hmacSHA256(v.signingKey(secret, a), StringToSign(amzDate, a.Scope(), cr)))
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return a, fail(ErrMismatch, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return a, nil
}

// payloadHash returns the payload hash to sign: X-Amz-Content-Sha256 when
// present (checked against body), else the body's SHA-256.
func (v *Verifier) payloadHash(r *http.Request, body []byte) (string, error) {
	hs := r.Header.Values("X-Amz-Content-Sha256")
	if len(hs) > 1 {
		return "", fail(ErrMalformed, "The request has more than one X-Amz-Content-Sha256 header.")
	}
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	if len(hs) == 0 {
		return actual, nil
	}
	switch h := hs[0]; {
	case h == UnsignedPayload && v.o.AllowUnsignedPayload:
		return h, nil
	case h == UnsignedPayload:
		return "", fail(ErrMismatch, "UNSIGNED-PAYLOAD is not accepted: sign the body.")
	case h != actual:
		return "", fail(ErrMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return actual, nil
}

// signingKey returns the derived key of a's scope, from the cache when
// it holds one for the same secret.
func (v *Verifier) signingKey(secret string, a Authorization) []byte {
	id := keyID{a.AccessKeyID, a.Date, a.Region, a.Service}
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok && k.secret == secret {
		return k.key
	}
	key := SigningKey(secret, a.Date, a.Region, a.Service)
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= maxKeys {
		v.keys = make(map[keyID]signingKey)
	}
	v.keys[id] = signingKey{secret, key}
	v.mu.Unlock()
	return key
}

// SigningKey derives the SigV4 signing key of secret for a date
// (YYYYMMDD), Region and service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// StringToSign returns the SigV4 string to sign for a canonical request.
func StringToSign(amzDate, scope, canonicalRequest string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// Signature returns hex(HMAC(signing key, stringToSign)), the signing key
// derived from secret, date (YYYYMMDD), region and service.
func Signature(secret, date, region, service, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(SigningKey(secret, date, region, service), stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
