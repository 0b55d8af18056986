package awserr

import (
	"strings"
	"unicode"

	"github.com/tollgatehq/tollgate/quotas"
)

// SanitizeCode reduces an error type as found on the wire or in a log to the
// bare code, the way the AWS SDKs do: it keeps the part before the first ':'
// (dropping a ":http://…" URI suffix), then the part after the first '#'
// (dropping an "ns#" namespace prefix). It also trims space, drops control
// characters and limits the result to 128 bytes so that hostile input cannot
// flood logs.
func SanitizeCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code = strings.TrimSpace(code)
	if strings.IndexFunc(code, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) >= 0 {
		code = strings.Map(func(r rune) rune {
			if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
				return -1
			}
			return r
		}, code)
	}
	if len(code) > maxCodeLen {
		code = code[:maxCodeLen]
		code = strings.ToValidUTF8(code, "")
	}
	return code
}

const maxCodeLen = 128

// codeClass is the default class of well-known error codes, keyed by the
// lower-cased code (AWS SDKs dispatch codes case-insensitively). Codes whose
// meaning depends on the operation are refined by opRules.
var codeClass = map[string]Class{}

// canonical maps a lower-cased known code to its canonical spelling.
var canonical = map[string]string{}

func init() {
	add := func(c Class, codes ...string) {
		for _, code := range codes {
			k := strings.ToLower(code)
			codeClass[k] = c
			canonical[k] = code
		}
	}
	add(ClassRateThrottle,
		"ThrottlingException", "TooManyRequestsException", "Throttling", "ThrottledException",
		"RequestThrottledException", "RequestThrottled", "RequestLimitExceeded", "SlowDown",
		"ProvisionedThroughputExceededException", "BandwidthLimitExceeded",
		"PriorRequestNotComplete", "EC2ThrottledException", "TransactionInProgressException")
	add(ClassTransient,
		"InternalServiceException", "InternalServerException", "InternalServerError",
		"InternalFailure", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
		"RequestTimeout", "RequestTimeoutException")
	add(ClassClientFault,
		"AccessDeniedException", "ConditionalOperationFailedException", "ConflictException",
		"ContactFlowNotPublishedException", "ContactNotFoundException", "ContactNotTerminatedException",
		"DestinationNotAllowedException", "DuplicateResourceException", "IdempotencyException",
		"InvalidActiveRegionException", "InvalidContactFlowException", "InvalidContactFlowModuleException",
		"InvalidParameterException", "InvalidRequestException", "InvalidTestCaseException",
		"MaximumResultReturnedException", "OutboundContactNotPermittedException",
		"OutputTypeNotFoundException", "PropertyValidationException", "ResourceConflictException",
		"ResourceInUseException", "ResourceNotFoundException", "ResourceNotReadyException",
		"UserNotFoundException", "ValidationException", "InvalidCampaignStateException",
		"UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch",
		"IncompleteSignature", "InvalidClientTokenId", "ExpiredTokenException",
		"MissingAuthenticationTokenException", "SerializationException", "UnknownOperationException",
		"NotFoundException", "RequestTimeTooSkewed", "AuthFailure")
	add(ClassHardQuota, "ServiceQuotaExceededException", "LimitExceededException")
}

// opRule refines the meaning of a code on one operation.
type opRule struct {
	class    Class
	resource string // quotas resource name, "" if none
}

type opCode struct{ op, code string } // code lower-cased

// opRules holds the codes whose meaning depends on the operation
// (connect-api.md §2 and §5.3). Any other LimitExceededException or
// ServiceQuotaExceededException is a hard quota with no known quota code.
var opRules = map[opCode]opRule{
	{"StartChatContact", "limitexceededexception"}:              {ClassConcurrencyQuota, quotas.ConcurrentActiveChats},
	{"StartOutboundVoiceContact", "limitexceededexception"}:     {ClassConcurrencyQuota, quotas.ConcurrentActiveCalls},
	{"StartTaskContact", "servicequotaexceededexception"}:       {ClassConcurrencyQuota, quotas.ConcurrentActiveTasks},
	{"CreateUser", "limitexceededexception"}:                    {ClassHardQuota, quotas.UsersPerInstance},
	{"CreateUser", "servicequotaexceededexception"}:             {ClassHardQuota, quotas.UsersPerInstance},
	{"CreateInstance", "servicequotaexceededexception"}:         {ClassHardQuota, quotas.InstancesPerAccount},
	{"CreateInstance", "limitexceededexception"}:                {ClassHardQuota, quotas.InstancesPerAccount},
	{"ClaimPhoneNumber", "servicequotaexceededexception"}:       {ClassHardQuota, quotas.PhoneNumbersPerInstance},
	{"ClaimPhoneNumber", "limitexceededexception"}:              {ClassHardQuota, quotas.PhoneNumbersPerInstance},
	{"CreateQueue", "servicequotaexceededexception"}:            {ClassHardQuota, quotas.QueuesPerInstance},
	{"CreateQueue", "limitexceededexception"}:                   {ClassHardQuota, quotas.QueuesPerInstance},
	{"CreateRoutingProfile", "servicequotaexceededexception"}:   {ClassHardQuota, quotas.RoutingProfilesPerInst},
	{"CreateRoutingProfile", "limitexceededexception"}:          {ClassHardQuota, quotas.RoutingProfilesPerInst},
	{"CreateContactFlow", "servicequotaexceededexception"}:      {ClassHardQuota, quotas.ContactFlowsPerInstance},
	{"CreateContactFlow", "limitexceededexception"}:             {ClassHardQuota, quotas.ContactFlowsPerInstance},
	{"CreateHoursOfOperation", "servicequotaexceededexception"}: {ClassHardQuota, quotas.HoursOfOperationPerInst},
	{"CreateHoursOfOperation", "limitexceededexception"}:        {ClassHardQuota, quotas.HoursOfOperationPerInst},
	{"CreateQuickConnect", "servicequotaexceededexception"}:     {ClassHardQuota, quotas.QuickConnectsPerInstance},
	{"CreateQuickConnect", "limitexceededexception"}:            {ClassHardQuota, quotas.QuickConnectsPerInstance},
	{"CreateSecurityProfile", "servicequotaexceededexception"}:  {ClassHardQuota, quotas.SecurityProfilesPerInst},
	{"CreateSecurityProfile", "limitexceededexception"}:         {ClassHardQuota, quotas.SecurityProfilesPerInst},
	{"CreateCampaign", "servicequotaexceededexception"}:         {ClassHardQuota, quotas.CampaignsPerInstance},
}
