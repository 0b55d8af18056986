package sim

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/sigv4"
)

// STS limits and defaults (AssumeRole's documented ones).
const (
	stsMaxBody         = 64 << 10
	stsMinDuration     = 900
	stsMaxDuration     = 43200
	stsDefaultDuration = 3600
	stsMaxKeys         = 1 << 16 // temporary keys remembered; expired ones go first
	stsNamespace       = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// isSTS reports whether r is an STS query-protocol request: POST / with a
// form body and no X-Amz-Target (Service Quotas), which is what the SDKs'
// STS clients send.
func isSTS(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/" && r.Header.Get("X-Amz-Target") == "" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// tempKey is a temporary credential AssumeRole issued.
type tempKey struct {
	index   int // the account it signs for
	secret  string
	token   string
	arn     string // the assumed-role ARN
	expires time.Time
}

// stsService serves STS AssumeRole and GetCallerIdentity for the accounts
// of a Multi: a role of one of its accounts can be assumed by any caller
// (by any verified caller when signatures are verified); the temporary
// key signs for that account.
type stsService struct {
	m        *Multi
	verifier *sigv4.Verifier

	mu   sync.RWMutex
	keys map[string]*tempKey // requires mu held
}

func newSTS(m *Multi) *stsService {
	return &stsService{m: m, keys: map[string]*tempKey{}, verifier: newVerifier(m.secret, m.o.Region, "sts")}
}

// lookup returns the temporary key akid, expired or not.
func (s *stsService) lookup(akid string) (tempKey, bool) {
	if len(akid) != 20 || !strings.HasPrefix(akid, "ASIA") {
		return tempKey{}, false
	}
	s.mu.RLock()
	t, ok := s.keys[akid]
	s.mu.RUnlock()
	if !ok {
		return tempKey{}, false
	}
	return *t, true
}

// stsError is an STS error: code, message and HTTP status.
type stsError struct {
	status int
	code   string
	msg    string
}

func (s *stsService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a1 := s.m.accounts[0]
	now := s.m.o.Now()
	reqID := a1.ids.next()
	body, err := io.ReadAll(io.LimitReader(r.Body, stsMaxBody+1))
	if err != nil || len(body) > stsMaxBody {
		writeSTSError(w, reqID, &stsError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is unreadable or larger than 64 KiB."})
		return
	}
	caller := callerKey(r.Header.Get("Authorization"))
	if s.m.verify {
		if _, err := s.verifier.Verify(r, body, now); err != nil {
			e := &stsError{http.StatusForbidden, "SignatureDoesNotMatch", err.Error()}
			var se *sigv4.Error
			if errors.As(err, &se) {
				e.status, e.msg = se.Status, se.Message
				switch se.Kind {
				case sigv4.ErrUnknownKey:
					e.code = "InvalidClientTokenId"
				case sigv4.ErrMissing:
					e.code = "MissingAuthenticationToken"
				case sigv4.ErrMalformed:
					e.code = "IncompleteSignature"
				}
			}
			writeSTSError(w, reqID, e)
			return
		}
	}
	req, e := parseSTSForm(body)
	if e != nil {
		writeSTSError(w, reqID, e)
		return
	}
	switch req.action {
	case "AssumeRole":
		s.assumeRole(w, req, caller, reqID, now)
	case "GetCallerIdentity":
		s.getCallerIdentity(w, caller, reqID, now)
	}
}

// callerARN returns the account index and ARN a key signs as; ok is false
// for a key of no account (any key is account 1's with one account).
func (s *stsService) callerARN(akid string, now time.Time) (int, string, bool) {
	if k, ok := accountOfKey(akid); ok && k <= len(s.m.accounts) {
		return k, "arn:aws:iam::" + s.m.accounts[k-1].AccountID() + ":user/sim-account-" + itoa(int64(k)), true
	}
	if t, ok := s.lookup(akid); ok && now.Before(t.expires) {
		return t.index, t.arn, true
	}
	if _, ok := s.m.creds[akid]; ok || len(s.m.accounts) == 1 {
		return 1, "arn:aws:iam::" + s.m.accounts[0].AccountID() + ":user/sim", true
	}
	return 0, "arn:aws:iam::000000000000:user/unknown", false
}

func (s *stsService) assumeRole(w http.ResponseWriter, req stsRequest, caller, reqID string, now time.Time) {
	k, ok := s.m.byAccount[req.roleAccount]
	if !ok {
		_, arn, _ := s.callerARN(caller, now)
		writeSTSError(w, reqID, &stsError{http.StatusForbidden, "AccessDenied",
			"User: " + arn + " is not authorized to perform: sts:AssumeRole on resource: " + req.roleARN})
		return
	}
	akid := "ASIA" + randomText(keyText, 10)
	t := &tempKey{
		index:   k,
		secret:  randomText(base64.RawStdEncoding, 30),
		token:   "IQoJsim" + randomText(base64.RawStdEncoding, 96),
		arn:     "arn:aws:sts::" + req.roleAccount + ":assumed-role/" + req.roleName + "/" + req.sessionName,
		expires: now.Add(time.Duration(req.duration) * time.Second).Truncate(time.Second),
	}
	s.mu.Lock()
	if len(s.keys) >= stsMaxKeys {
		for id, old := range s.keys {
			if !now.Before(old.expires) {
				delete(s.keys, id)
			}
		}
		for id := range s.keys { // all live: drop an arbitrary one
			if len(s.keys) < stsMaxKeys {
				break
			}
			delete(s.keys, id)
		}
	}
	s.keys[akid] = t
	s.mu.Unlock()
	var out assumeRoleResponse
	out.Xmlns = stsNamespace
	res := &out.Result
	res.AssumedRoleUser.Arn = t.arn
	res.AssumedRoleUser.AssumedRoleID = "AROA" + randomText(keyText, 11)[:17] + ":" + req.sessionName
	res.Credentials = stsCredentials{AccessKeyID: akid, SecretAccessKey: t.secret, SessionToken: t.token, Expiration: t.expires.UTC().Format(time.RFC3339)}
	out.RequestID = reqID
	writeSTS(w, reqID, http.StatusOK, out)
}

func (s *stsService) getCallerIdentity(w http.ResponseWriter, caller, reqID string, now time.Time) {
	k, arn, ok := s.callerARN(caller, now)
	if !ok {
		writeSTSError(w, reqID, &stsError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."})
		return
	}
	var out getCallerIdentityResponse
	out.Xmlns = stsNamespace
	out.Result.Account = s.m.accounts[k-1].AccountID()
	out.Result.Arn = arn
	out.Result.UserID = caller
	out.RequestID = reqID
	writeSTS(w, reqID, http.StatusOK, out)
}

// keyText writes access key ids: A–Z and 2–7, as AWS's.
var keyText = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomText returns n random bytes in enc (crypto/rand).
func randomText(enc interface{ EncodeToString([]byte) string }, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return enc.EncodeToString(b)
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials      stsCredentials `xml:"Credentials"`
		PackedPolicySize int            `xml:"PackedPolicySize,omitempty"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeSTS(w http.ResponseWriter, reqID string, status int, v any) {
	b, _ := xml.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeSTSError writes STS's XML error shape.
func writeSTSError(w http.ResponseWriter, reqID string, e *stsError) {
	var out stsErrorResponse
	out.Xmlns = stsNamespace
	out.Error.Type = "Sender"
	if e.status >= 500 {
		out.Error.Type = "Receiver"
	}
	out.Error.Code, out.Error.Message = e.code, e.msg
	out.RequestID = reqID
	writeSTS(w, reqID, e.status, out)
}
