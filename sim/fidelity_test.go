package sim

import (
	"strings"
	"testing"
	"time"
)

// TestSearchUsersHasNoEmail: SearchUsers answers UserIdentityInfoLite
// (first and last name), which has no Email member; DescribeUser keeps it.
func TestSearchUsersHasNoEmail(t *testing.T) {
	s := newServer(t, Options{RateScale: 100})
	now := time.Now()
	r := do(t, s, "POST", "/search-users", `{"InstanceId":"`+DefaultInstanceID+`"}`, nil, "", now)
	r.check(t, 200, "")
	if !strings.Contains(r.rawBody, `"FirstName":"Ada"`) || strings.Contains(r.rawBody, "Email") {
		t.Errorf("SearchUsers: %s", r.rawBody)
	}
	d := do(t, s, "GET", "/users/"+DefaultInstanceID+"/"+DefaultUserID, "", nil, "", now)
	d.check(t, 200, "")
	if !strings.Contains(d.rawBody, `"Email":"admin@example.com"`) {
		t.Errorf("DescribeUser lost the e-mail: %s", d.rawBody)
	}
}

// TestListLastPageOmitsNextToken: the last page of the List operations has
// no NextToken member (not "NextToken": null); earlier pages have one.
func TestListLastPageOmitsNextToken(t *testing.T) {
	s := newServer(t, Options{RateScale: 100})
	now := time.Now()
	for _, path := range []string{"/queues-summary/", "/contact-flows-summary/", "/agent-status/", "/users-summary/"} {
		r := do(t, s, "GET", path+DefaultInstanceID, "", nil, "", now)
		r.check(t, 200, "")
		if strings.Contains(r.rawBody, "NextToken") {
			t.Errorf("%s last page: %s", path, r.rawBody)
		}
		r = do(t, s, "GET", path+DefaultInstanceID+"?maxResults=1", "", nil, "", now)
		r.check(t, 200, "")
		if tok, _ := r.body["NextToken"].(string); tok == "" {
			t.Errorf("%s first of several pages: no NextToken: %s", path, r.rawBody)
		}
	}
}

// TestPageTokenBoundToOperation: a ListQueues token is refused by
// ListContactFlows (and the reverse) and accepted by ListQueues.
func TestPageTokenBoundToOperation(t *testing.T) {
	s := newServer(t, Options{RateScale: 100})
	now := time.Now()
	tokenOf := func(path string) string {
		r := do(t, s, "GET", path+DefaultInstanceID+"?maxResults=1", "", nil, "", now)
		r.check(t, 200, "")
		tok, _ := r.body["NextToken"].(string)
		if tok == "" {
			t.Fatalf("%s: no NextToken: %s", path, r.rawBody)
		}
		return tok
	}
	q, f := tokenOf("/queues-summary/"), tokenOf("/contact-flows-summary/")
	do(t, s, "GET", "/contact-flows-summary/"+DefaultInstanceID+"?nextToken="+q, "", nil, "", now).check(t, 400, "InvalidParameterException")
	do(t, s, "GET", "/queues-summary/"+DefaultInstanceID+"?nextToken="+f, "", nil, "", now).check(t, 400, "InvalidParameterException")
	do(t, s, "POST", "/search-users", `{"InstanceId":"`+DefaultInstanceID+`","NextToken":"`+q+`"}`, nil, "", now).check(t, 400, "InvalidParameterException")
	do(t, s, "GET", "/queues-summary/"+DefaultInstanceID+"?nextToken="+q, "", nil, "", now).check(t, 200, "")
}

// TestInvalidUTF8Refused: bytes that are not UTF-8 in a JSON body, a query
// parameter or a path label are a 400 SerializationException, not silently
// turned into U+FFFD.
func TestInvalidUTF8Refused(t *testing.T) {
	s := newServer(t, Options{RateScale: 100})
	now := time.Now()
	body := `{"InitialContactId":"c-1","InstanceId":"` + DefaultInstanceID + `","Attributes":{"k":"v` + "\xff\xfe" + `"}}`
	r := do(t, s, "POST", "/contact/attributes", body, nil, "", now)
	r.check(t, 400, "SerializationException")
	if !strings.Contains(r.rawBody, "UTF-8") {
		t.Errorf("message does not say why: %s", r.rawBody)
	}
	do(t, s, "GET", "/queues-summary/"+DefaultInstanceID+"?queueTypes=%FF", "", nil, "", now).check(t, 400, "SerializationException")
	do(t, s, "GET", "/users/"+DefaultInstanceID+"/%FF%FE", "", nil, "", now).check(t, 400, "SerializationException")
	// Valid multi-byte UTF-8 still passes the decoder.
	ok := do(t, s, "POST", "/search-users", `{"InstanceId":"`+DefaultInstanceID+`","SearchCriteria":{"StringCondition":{"FieldName":"firstname","Value":"Zoë","ComparisonType":"EXACT"}}}`, nil, "", now)
	ok.check(t, 200, "")
}
