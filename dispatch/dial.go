package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/campaigns"
)

// MaxDialBatch is the most dial requests PutDialRequestBatch takes per call.
const MaxDialBatch = campaigns.MaxBatch

// DefaultDialExpiry is how long a dial request stays valid at Outbound
// Campaigns when neither its ExpirationTime nor the job's NotAfter says.
const DefaultDialExpiry = time.Hour

// DialRequest is the Input of a PutDialRequestBatch job: one customer to
// dial in one campaign. Member names match case-insensitively, so the
// Outbound Campaigns wire names (campaignId, phoneNumber, …) work as given.
// The dial request's clientToken is always the job's ClientToken.
type DialRequest struct {
	// CampaignID is the campaign (path label "id"): 1–256 characters.
	CampaignID string `json:"campaignId"`
	// PhoneNumber is the number to dial: at most 20 characters of 0-9, '-' and '+'.
	PhoneNumber string `json:"phoneNumber"`
	// ExpirationTime is when Outbound Campaigns drops the request. Zero
	// means the job's NotAfter, or DefaultDialExpiry after the call.
	ExpirationTime time.Time `json:"expirationTime,omitzero"`
	// Attributes are passed to the contact flow.
	Attributes map[string]string `json:"attributes,omitempty"`
}

func decodeDial(raw json.RawMessage) (DialRequest, error) {
	var d DialRequest
	if len(bytes.TrimSpace(raw)) == 0 {
		return d, &InputError{Op: OpPutDialRequestBatch, Field: "Input", Problem: "is required (a dial request: campaignId, phoneNumber)"}
	}
	if err := strictDecode(raw, &d); err != nil {
		return d, inputDecodeError(OpPutDialRequestBatch, err)
	}
	return d, nil
}

func (d DialRequest) validate(now time.Time) error {
	bad := func(field, problem string) error {
		return &InputError{Op: OpPutDialRequestBatch, Field: "Input." + field, Problem: problem}
	}
	switch {
	case d.CampaignID == "":
		return bad("campaignId", "is required")
	case len(d.CampaignID) > 256:
		return bad("campaignId", "is longer than 256 characters")
	case strings.ContainsAny(d.CampaignID, "/?#") || strings.ContainsFunc(d.CampaignID, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("campaignId", "contains characters a campaign id cannot have")
	case d.PhoneNumber == "":
		return bad("phoneNumber", "is required")
	case len(d.PhoneNumber) > 20 || strings.Trim(d.PhoneNumber, "0123456789+-") != "":
		return bad("phoneNumber", "must be at most 20 characters of 0-9, '-' and '+'")
	case !d.ExpirationTime.IsZero() && !d.ExpirationTime.After(now):
		return bad("expirationTime", "has already passed")
	}
	return nil
}

// Dialer makes PutDialRequestBatch calls. *campaigns.Client is the real
// one; the dispatcher governs each call and settles every item by its own
// result.
type Dialer interface {
	PutDialRequestBatch(ctx context.Context, campaignID string, reqs []campaigns.DialRequest) (*campaigns.PutDialRequestBatchOutput, error)
}
