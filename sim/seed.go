package sim

import (
	"fmt"
	"strings"
)

// Fixed ids of the default state, so a client snippet can be pasted before
// the simulator starts.
const (
	DefaultInstanceID        = "c0ffee00-0000-4000-8000-000000000001"
	DefaultQueueID           = "c0ffee00-0000-4000-8000-0000000000a1"
	DefaultContactFlowID     = "c0ffee00-0000-4000-8000-0000000000f1"
	DefaultRoutingProfileID  = "c0ffee00-0000-4000-8000-0000000000b1"
	DefaultSecurityProfileID = "c0ffee00-0000-4000-8000-0000000000c1"
	DefaultUserID            = "c0ffee00-0000-4000-8000-0000000000d1"
	DefaultPhoneNumberID     = "c0ffee00-0000-4000-8000-0000000000e1"
	DefaultPhoneNumber       = "+12025550100"
	DefaultCampaignID        = "c0ffee00-0000-4000-8000-0000000000ca"
)

// Seed is the initial state of the simulated account (Options.State, or the
// "state" section / --seed-file in YAML or JSON). Missing ids are generated
// from Options.Seed.
type Seed struct {
	Instances []SeedInstance `json:"instances" yaml:"instances"`
	Campaigns []SeedCampaign `json:"campaigns" yaml:"campaigns"`
}

// SeedInstance is one Connect instance and its resources.
type SeedInstance struct {
	ID                     string         `json:"id" yaml:"id"`
	Alias                  string         `json:"alias" yaml:"alias"`
	IdentityManagementType string         `json:"identity_management_type" yaml:"identity_management_type"` // default CONNECT_MANAGED
	Queues                 []SeedResource `json:"queues" yaml:"queues"`                                     // Type: STANDARD (default) or AGENT
	ContactFlows           []SeedResource `json:"contact_flows" yaml:"contact_flows"`                       // Type: CONTACT_FLOW (default), …
	RoutingProfiles        []SeedResource `json:"routing_profiles" yaml:"routing_profiles"`
	SecurityProfiles       []SeedResource `json:"security_profiles" yaml:"security_profiles"`
	AgentStatuses          []SeedResource `json:"agent_statuses" yaml:"agent_statuses"` // Type: ROUTABLE, CUSTOM (default) or OFFLINE
	Users                  []SeedUser     `json:"users" yaml:"users"`
	PhoneNumbers           []SeedPhone    `json:"phone_numbers" yaml:"phone_numbers"`
}

// SeedResource is a named resource with an optional type.
type SeedResource struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
	Type string `json:"type" yaml:"type"`
}

// SeedUser is one user (agent).
type SeedUser struct {
	ID                 string   `json:"id" yaml:"id"`
	Username           string   `json:"username" yaml:"username"`
	FirstName          string   `json:"first_name" yaml:"first_name"`
	LastName           string   `json:"last_name" yaml:"last_name"`
	Email              string   `json:"email" yaml:"email"`
	RoutingProfileID   string   `json:"routing_profile_id" yaml:"routing_profile_id"`     // default: the first routing profile
	SecurityProfileIDs []string `json:"security_profile_ids" yaml:"security_profile_ids"` // default: the first security profile
}

// SeedPhone is one phone number claimed by the instance.
type SeedPhone struct {
	ID          string `json:"id" yaml:"id"`
	Number      string `json:"number" yaml:"number"` // E.164
	Type        string `json:"type" yaml:"type"`     // default DID
	CountryCode string `json:"country_code" yaml:"country_code"`
	Description string `json:"description" yaml:"description"`
}

// SeedCampaign is one Outbound Campaigns campaign.
type SeedCampaign struct {
	ID         string `json:"id" yaml:"id"`
	Name       string `json:"name" yaml:"name"`
	InstanceID string `json:"instance_id" yaml:"instance_id"` // default: the first instance
	State      string `json:"state" yaml:"state"`             // Initialized, Running (default), Paused, Stopped, Failed
}

// DefaultSeed returns the default state: one instance with queues, contact
// flows, a routing profile, security profiles, agent statuses, six users, a
// claimed phone number, and one running campaign.
func DefaultSeed() *Seed {
	users := []SeedUser{{ID: DefaultUserID, Username: "admin", FirstName: "Ada", LastName: "Admin", Email: "admin@example.com"}}
	for i, n := range []string{"Alice", "Bob", "Carol", "Dan", "Erin"} {
		users = append(users, SeedUser{Username: fmt.Sprintf("agent%d", i+1), FirstName: n, LastName: "Agent"})
	}
	return &Seed{
		Instances: []SeedInstance{{
			ID:    DefaultInstanceID,
			Alias: "tollgate-sim",
			Queues: []SeedResource{
				{ID: DefaultQueueID, Name: "BasicQueue"},
				{Name: "Sales"},
				{Name: "Support"},
				{Name: "agent1-queue", Type: "AGENT"},
			},
			ContactFlows: []SeedResource{
				{ID: DefaultContactFlowID, Name: "Default outbound"},
				{Name: "Sample inbound flow"},
				{Name: "Default customer queue", Type: "CUSTOMER_QUEUE"},
				{Name: "Default agent whisper", Type: "AGENT_WHISPER"},
				{Name: "Default outbound whisper", Type: "OUTBOUND_WHISPER"},
				{Name: "Campaign flow", Type: "CAMPAIGN"},
			},
			RoutingProfiles:  []SeedResource{{ID: DefaultRoutingProfileID, Name: "Basic Routing Profile"}},
			SecurityProfiles: []SeedResource{{ID: DefaultSecurityProfileID, Name: "Agent"}, {Name: "Admin"}, {Name: "CallCenterManager"}},
			AgentStatuses: []SeedResource{
				{Name: "Available", Type: "ROUTABLE"},
				{Name: "Offline", Type: "OFFLINE"},
				{Name: "Break", Type: "CUSTOM"},
				{Name: "Lunch", Type: "CUSTOM"},
			},
			Users:        users,
			PhoneNumbers: []SeedPhone{{ID: DefaultPhoneNumberID, Number: DefaultPhoneNumber, Type: "DID", CountryCode: "US", Description: "Outbound caller ID"}},
		}},
		Campaigns: []SeedCampaign{{ID: DefaultCampaignID, Name: "tollgate-demo"}},
	}
}

var (
	queueTypes         = []string{"STANDARD", "AGENT"}
	contactFlowTypes   = []string{"CONTACT_FLOW", "CUSTOMER_QUEUE", "CUSTOMER_HOLD", "CUSTOMER_WHISPER", "AGENT_HOLD", "AGENT_WHISPER", "OUTBOUND_WHISPER", "AGENT_TRANSFER", "QUEUE_TRANSFER", "CAMPAIGN"}
	agentStatusTypes   = []string{"ROUTABLE", "CUSTOM", "OFFLINE"}
	directoryTypes     = []string{"SAML", "CONNECT_MANAGED", "EXISTING_DIRECTORY"}
	phoneNumberTypes   = []string{"TOLL_FREE", "DID", "UIFN", "SHARED", "THIRD_PARTY_TF", "THIRD_PARTY_DID", "SHORT_CODE"}
	campaignStates     = []string{"Initialized", "Running", "Paused", "Stopped", "Failed"}
	currentMetricNames = []string{"AGENTS_ONLINE", "AGENTS_AVAILABLE", "AGENTS_ON_CALL", "AGENTS_NON_PRODUCTIVE", "AGENTS_AFTER_CONTACT_WORK", "AGENTS_ERROR", "AGENTS_STAFFED", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "CONTACTS_SCHEDULED", "AGENTS_ON_CONTACT", "SLOTS_ACTIVE", "SLOTS_AVAILABLE", "ESTIMATED_WAIT_TIME"}
	historicalNames    = []string{"CONTACTS_QUEUED", "CONTACTS_HANDLED", "CONTACTS_ABANDONED", "CONTACTS_CONSULTED", "CONTACTS_AGENT_HUNG_UP_FIRST", "CONTACTS_HANDLED_INCOMING", "CONTACTS_HANDLED_OUTBOUND", "CONTACTS_HOLD_ABANDONS", "CONTACTS_TRANSFERRED_IN", "CONTACTS_TRANSFERRED_OUT", "CONTACTS_TRANSFERRED_IN_FROM_QUEUE", "CONTACTS_TRANSFERRED_OUT_FROM_QUEUE", "CONTACTS_MISSED", "CALLBACK_CONTACTS_HANDLED", "API_CONTACTS_HANDLED", "OCCUPANCY", "HANDLE_TIME", "AFTER_CONTACT_WORK_TIME", "QUEUED_TIME", "ABANDON_TIME", "QUEUE_ANSWER_TIME", "HOLD_TIME", "INTERACTION_TIME", "INTERACTION_AND_HOLD_TIME", "SERVICE_LEVEL"}
	groupings          = []string{"QUEUE", "CHANNEL", "ROUTING_PROFILE", "ROUTING_STEP_EXPRESSION", "AGENT_STATUS", "SUBTYPE", "VALIDATION_TEST_TYPE"}
	channels           = []string{"VOICE", "CHAT", "TASK", "EMAIL"}
	units              = []string{"SECONDS", "COUNT", "PERCENT"}
	statistics         = []string{"SUM", "MAX", "AVG"}
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// validate checks a seed; errors name the field, e.g.
// "state.instances[0].users[2].username: must not be empty".
func (sd *Seed) validate() error {
	ids := map[string]string{}
	uniq := func(field, id string) error {
		if id == "" {
			return nil
		}
		if prev, ok := ids[id]; ok {
			return fmt.Errorf("%s.id: %q already used by %s", field, id, prev)
		}
		ids[id] = field
		return nil
	}
	if len(sd.Instances) == 0 {
		return fmt.Errorf("state.instances: at least one instance is required")
	}
	for i, in := range sd.Instances {
		f := fmt.Sprintf("state.instances[%d]", i)
		if err := uniq(f, in.ID); err != nil {
			return err
		}
		if in.IdentityManagementType != "" && !contains(directoryTypes, in.IdentityManagementType) {
			return fmt.Errorf("%s.identity_management_type: must be one of %s, got %q", f, strings.Join(directoryTypes, ", "), in.IdentityManagementType)
		}
		if len(in.Alias) > 45 {
			return fmt.Errorf("%s.alias: at most 45 characters", f)
		}
		check := func(kind string, list []SeedResource, types []string) error {
			for j, r := range list {
				g := fmt.Sprintf("%s.%s[%d]", f, kind, j)
				if err := uniq(g, r.ID); err != nil {
					return err
				}
				if r.Name == "" {
					return fmt.Errorf("%s.name: must not be empty", g)
				}
				if r.Type != "" && types != nil && !contains(types, r.Type) {
					return fmt.Errorf("%s.type: must be one of %s, got %q", g, strings.Join(types, ", "), r.Type)
				}
			}
			return nil
		}
		if err := check("queues", in.Queues, queueTypes); err != nil {
			return err
		}
		if err := check("contact_flows", in.ContactFlows, contactFlowTypes); err != nil {
			return err
		}
		if err := check("routing_profiles", in.RoutingProfiles, nil); err != nil {
			return err
		}
		if err := check("security_profiles", in.SecurityProfiles, nil); err != nil {
			return err
		}
		if err := check("agent_statuses", in.AgentStatuses, agentStatusTypes); err != nil {
			return err
		}
		names := map[string]bool{}
		for j, u := range in.Users {
			g := fmt.Sprintf("%s.users[%d]", f, j)
			if err := uniq(g, u.ID); err != nil {
				return err
			}
			if u.Username == "" || len(u.Username) > 100 {
				return fmt.Errorf("%s.username: must be 1..100 characters", g)
			}
			if names[u.Username] {
				return fmt.Errorf("%s.username: %q is used twice", g, u.Username)
			}
			names[u.Username] = true
		}
		nums := map[string]bool{}
		for j, p := range in.PhoneNumbers {
			g := fmt.Sprintf("%s.phone_numbers[%d]", f, j)
			if err := uniq(g, p.ID); err != nil {
				return err
			}
			if !isE164(p.Number) {
				return fmt.Errorf("%s.number: must be E.164 (+ and 2..15 digits), got %q", g, p.Number)
			}
			if nums[p.Number] {
				return fmt.Errorf("%s.number: %q is used twice", g, p.Number)
			}
			nums[p.Number] = true
			if p.Type != "" && !contains(phoneNumberTypes, p.Type) {
				return fmt.Errorf("%s.type: must be one of %s, got %q", g, strings.Join(phoneNumberTypes, ", "), p.Type)
			}
		}
	}
	for i, c := range sd.Campaigns {
		f := fmt.Sprintf("state.campaigns[%d]", i)
		if err := uniq(f, c.ID); err != nil {
			return err
		}
		if c.State != "" && !contains(campaignStates, c.State) {
			return fmt.Errorf("%s.state: must be one of %s, got %q", f, strings.Join(campaignStates, ", "), c.State)
		}
		if c.InstanceID != "" {
			found := false
			for _, in := range sd.Instances {
				found = found || in.ID == c.InstanceID
			}
			if !found {
				return fmt.Errorf("%s.instance_id: no instance %q in state.instances", f, c.InstanceID)
			}
		}
	}
	return nil
}

// isE164 matches \+[1-9]\d{1,14} without a regexp.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
