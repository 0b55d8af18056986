package awserr

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgatehq/tollgate/quotas"
)

// withAdvice fills i.Advice from the class, operation and code.
func withAdvice(i Info) Info {
	if i.Advice == "" {
		i.Advice = advise(i)
	}
	return i
}

func advise(i Info) string {
	switch i.Class {
	case ClassRateThrottle:
		return rateAdvice(i)
	case ClassConcurrencyQuota:
		return concurrencyAdvice(i)
	case ClassHardQuota:
		return hardAdvice(i)
	case ClassTransient:
		return "A server-side or network failure, not a quota. Retry with a short jittered backoff (50 ms base); " +
			"if it persists for minutes, check the AWS Health Dashboard for the Region."
	case ClassClientFault:
		return clientAdvice(i)
	case ClassCanceled:
		return "The caller's context was canceled or its deadline passed. Do not retry."
	}
	return "Unrecognised failure. Do not retry blindly; inspect the message and the request ID."
}

func rateAdvice(i Info) string {
	if i.Op == "" {
		return "An API rate quota's token bucket is empty. Wait for a token and retry within the same budget; " +
			"if throttling is sustained, request an increase of the operation's rate quota in Service Quotas."
	}
	a, _ := defaultQuotas().API(i.Op)
	scope := "per account and Region, shared by every caller in the account"
	if a.Scope == quotas.ScopeInstance {
		scope = "per instance"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is limited to %s requests/s with a burst of %d, %s. ", i.Op, fmtRate(a.Rate), a.Burst, scope)
	switch {
	case !a.Adjustable:
		b.WriteString("Wait for a token before retrying. This rate cannot be increased: cache the result and poll once " +
			"for all consumers (one scheduled poller feeding a cache) instead of calling per dashboard or agent.")
	case a.Code != "":
		fmt.Fprintf(&b, "Wait for a token before retrying; if throttling is sustained, request an increase of %s (%s).",
			a.Code, RateQuotaName(i.Op))
	default:
		fmt.Fprintf(&b, "Wait for a token before retrying; if throttling is sustained, request an increase of the %s "+
			"rate quota through Service Quotas or AWS Support.", i.Op)
	}
	return b.String()
}

func concurrencyAdvice(i Info) string {
	name, code := quotaLabel(i)
	return fmt.Sprintf("The %s quota%s is full; the call can succeed once a running contact ends. "+
		"Park the work and requeue it with a delay (seconds to minutes) instead of retrying at once; "+
		"if it stays full, request an increase of %s.", name, paren(code), orName(code, name))
}

func hardAdvice(i Info) string {
	name, code := quotaLabel(i)
	if i.QuotaName == "" && i.QuotaCode == "" {
		return "A resource quota is exhausted; no retry will help. Request an increase of the quota named in the " +
			"error message through Service Quotas, or free resources first."
	}
	if r, ok := defaultQuotas().Resource(quotas.TasksPerPreviousContactID); ok && i.QuotaName == r.Title {
		return "Already 12 tasks reference the same PreviousContactId; no retry will help and this quota cannot be " +
			"increased. Start the task without PreviousContactId or link it to another contact."
	}
	return fmt.Sprintf("No retry will help; request an increase of %s%s, or free resources first.", name, paren(code))
}

func clientAdvice(i Info) string {
	op := i.Op
	if op == "" {
		op = "the operation"
	}
	switch i.Code {
	case "ResourceNotFoundException", "UserNotFoundException", "ContactFlowNotPublishedException", "OutputTypeNotFoundException":
		return "A referenced resource does not exist; check the instance ID, resource IDs and Region. Do not retry."
	case "ContactNotFoundException":
		return "The contact does not exist or has already ended. Do not retry."
	case "AccessDeniedException":
		action := "connect:" + i.Op
		if i.Op == "" {
			action = "the connect: action"
		}
		return fmt.Sprintf("The caller lacks permission for %s; check the IAM policy (%s) and the instance's "+
			"resource ARNs. Do not retry.", op, action)
	case "DestinationNotAllowedException":
		return "Outbound calls to this destination are not allowed (country or number not enabled for the instance). Do not retry."
	case "OutboundContactNotPermittedException":
		return "Outbound contacts are not permitted for this instance or queue (outbound calling disabled, or campaign " +
			"calls not allowed). Do not retry."
	case "DuplicateResourceException", "IdempotencyException", "ResourceConflictException":
		return "The resource already exists, or the client token was reused with different parameters. Do not retry; " +
			"look the resource up instead."
	case "ConflictException", "ConditionalOperationFailedException", "ResourceInUseException",
		"ResourceNotReadyException", "ContactNotTerminatedException", "InvalidCampaignStateException":
		return "The resource is in a conflicting state. Do not retry blindly; re-read its state first."
	case "InvalidActiveRegionException":
		return "The request went to a Region that is not active for this instance (Global Resiliency). Send it to the active Region."
	}
	return "The request was rejected as invalid or unauthorised. Fix the request; retrying it unchanged will not help."
}

// quotaLabel returns a quota's display name and code, with fallbacks.
func quotaLabel(i Info) (name, code string) {
	name = i.QuotaName
	if name == "" {
		name = "resource"
	}
	return name, i.QuotaCode
}

func paren(code string) string {
	if code == "" {
		return ""
	}
	return " (" + code + ")"
}

func orName(code, name string) string {
	if code != "" {
		return code
	}
	return "the " + name + " quota"
}

func fmtRate(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }
