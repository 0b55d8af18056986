package sim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// stsRequest is a parsed STS query-protocol form (the actions the
// simulator serves).
type stsRequest struct {
	action      string // AssumeRole or GetCallerIdentity
	roleARN     string
	roleAccount string // the role's 12-digit account
	roleName    string // the last segment of the role's path
	sessionName string
	externalID  string
	duration    int // seconds, stsMinDuration..stsMaxDuration
}

// parseSTSForm parses and validates an STS form body the way STS does:
// InvalidAction for an unknown action or version, ValidationError naming
// the member for a missing or bad AssumeRole parameter, MalformedQueryString
// for a body that is not a form.
func parseSTSForm(body []byte) (stsRequest, *stsError) {
	var req stsRequest
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return req, &stsError{http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form: " + clip(err.Error())}
	}
	req.action = form.Get("Action")
	if v := form.Get("Version"); v != "" && v != "2011-06-15" {
		return req, &stsError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + clip(req.action) + " for version " + clip(v)}
	}
	switch req.action {
	case "GetCallerIdentity":
		return req, nil
	case "AssumeRole":
	default:
		return req, &stsError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + clip(req.action) + " for version 2011-06-15"}
	}
	var errs []string
	invalid := func(member, value, constraint string) {
		errs = append(errs, "Value '"+clip(value)+"' at '"+member+"' failed to satisfy constraint: "+constraint)
	}
	req.roleARN = form.Get("RoleArn")
	req.sessionName = form.Get("RoleSessionName")
	req.externalID = form.Get("ExternalId")
	if !form.Has("RoleArn") {
		errs = append(errs, "Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	} else if acct, name, ok := parseRoleARN(req.roleARN); !ok {
		invalid("roleArn", req.roleARN, "Member must be a role ARN arn:aws:iam::<12-digit account>:role/<name>")
	} else {
		req.roleAccount, req.roleName = acct, name
	}
	if !form.Has("RoleSessionName") {
		errs = append(errs, "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	} else if n := len(req.sessionName); n < 2 || n > 64 || strings.Trim(req.sessionName, sessionNameChars) != "" {
		invalid("roleSessionName", req.sessionName, `Member must have length between 2 and 64 and satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	if form.Has("ExternalId") {
		if n := len(req.externalID); n < 2 || n > 1224 {
			invalid("externalId", req.externalID, "Member must have length between 2 and 1224")
		}
	}
	req.duration = stsDefaultDuration
	if v := form.Get("DurationSeconds"); form.Has("DurationSeconds") {
		d, err := strconv.Atoi(v)
		if err != nil || d < stsMinDuration || d > stsMaxDuration {
			invalid("durationSeconds", v, "Member must have value between 900 and 43200")
		} else {
			req.duration = d
		}
	}
	if len(errs) > 0 {
		prefix := strconv.Itoa(len(errs)) + " validation error"
		if len(errs) > 1 {
			prefix += "s"
		}
		return req, &stsError{http.StatusBadRequest, "ValidationError", prefix + " detected: " + strings.Join(errs, "; ")}
	}
	return req, nil
}

// sessionNameChars are the characters of [\w+=,.@-].
const sessionNameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-"

// parseRoleARN splits arn:<partition>:iam::<account>:role/<path/>name.
func parseRoleARN(arn string) (account, name string, ok bool) {
	if len(arn) < 20 || len(arn) > 2048 {
		return "", "", false
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "iam" || parts[3] != "" {
		return "", "", false
	}
	account = parts[4]
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", false
	}
	res, ok := strings.CutPrefix(parts[5], "role/")
	if !ok {
		return "", "", false
	}
	name = res[strings.LastIndexByte(res, '/')+1:]
	if name == "" || len(name) > 64 {
		return "", "", false
	}
	return account, name, true
}
