package config

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pool is one quota pool of `tollgate serve`: one AWS account's (and
// Region's) Amazon Connect instance, with its own credentials, quotas and
// IDs. With pools configured the dispatcher delivers the one queue's jobs
// across them by headroom (package dispatch, Options.Pools); without, serve
// is the single-account process the aws and limits sections describe.
//
// In YAML (file only; see examples/serve-pools.yaml):
//
//	pools:
//	  - name: east                      # unique, [a-z0-9-]{1,32}
//	    account: "111111111111"         # 12 digits
//	    region: us-east-1
//	    instance_id: <uuid>
//	    endpoint: http://127.0.0.1:8999 # optional; default aws.endpoint, then the Region's
//	    campaigns_endpoint: ...         # optional
//	    weight: 1                       # optional, > 0
//	    credentials:                    # at most one of profile | role_arn | access_key_id
//	      role_arn: arn:aws:iam::111111111111:role/tollgate
//	      external_id: ...              # optional, with role_arn
//	      sts_endpoint: http://...      # optional, with role_arn
//	    quota_file: quotas-east.yaml    # optional, after limits.quota_file
//	    ids:
//	      contact_flows: {outbound-sales: <uuid>}
//	      queues: {sales: <uuid>}
//	      phone_numbers: {main: "+12065550100"}
//	      campaigns: {spring: <uuid>}
//
// A secret access key is never part of the file: access_key_id names the
// environment variable holding it (secret_env).
type Pool struct {
	Name              string          `yaml:"name"`
	Account           string          `yaml:"account"`
	Region            string          `yaml:"region"`
	InstanceID        string          `yaml:"instance_id"`
	Endpoint          string          `yaml:"endpoint"`
	CampaignsEndpoint string          `yaml:"campaigns_endpoint"`
	Weight            float64         `yaml:"weight"` // DefaultPoolWeight when not given
	Credentials       PoolCredentials `yaml:"credentials"`
	QuotaFile         string          `yaml:"quota_file"`
	IDs               PoolIDs         `yaml:"ids"`
}

// PoolCredentials say how a pool signs its requests: a shared-config
// profile, a role assumed through STS (with the default chain's
// credentials), an access key whose secret is in an environment variable,
// or, when all are empty, the default credential chain.
type PoolCredentials struct {
	Profile     string `yaml:"profile"`
	RoleARN     string `yaml:"role_arn"`
	ExternalID  string `yaml:"external_id"`
	STSEndpoint string `yaml:"sts_endpoint"`
	AccessKeyID string `yaml:"access_key_id"`
	SecretEnv   string `yaml:"secret_env"`
}

// Kind names the kind of credentials: "profile", "role", "access-key" or
// "default".
func (c PoolCredentials) Kind() string {
	switch {
	case c.Profile != "":
		return "profile"
	case c.RoleARN != "":
		return "role"
	case c.AccessKeyID != "":
		return "access-key"
	}
	return "default"
}

// PoolIDs map logical names to this pool's IDs, one map per kind: a job
// says "outbound-sales" and each pool substitutes its own contact flow.
type PoolIDs struct {
	ContactFlows map[string]string `yaml:"contact_flows"`
	Queues       map[string]string `yaml:"queues"`
	PhoneNumbers map[string]string `yaml:"phone_numbers"`
	Campaigns    map[string]string `yaml:"campaigns"`
}

// PoolIDKind is one kind of mapped ID: its key under ids and the input
// member of the Connect operations it stands for.
type PoolIDKind struct {
	Key    string // "contact_flows"
	Member string // "ContactFlowId"
}

// PoolIDKinds are the kinds of ids, in the file's order.
var PoolIDKinds = []PoolIDKind{
	{"contact_flows", "ContactFlowId"},
	{"queues", "QueueId"},
	{"phone_numbers", "SourcePhoneNumber"},
	{"campaigns", "CampaignId"},
}

// Kind returns the map of the kind with key k (nil for an unknown key).
func (ids PoolIDs) Kind(k string) map[string]string {
	switch k {
	case "contact_flows":
		return ids.ContactFlows
	case "queues":
		return ids.Queues
	case "phone_numbers":
		return ids.PhoneNumbers
	case "campaigns":
		return ids.Campaigns
	}
	return nil
}

// ByMember returns the mapping keyed by input member name (ContactFlowId,
// QueueId, SourcePhoneNumber, CampaignId), each logical name → this pool's
// ID: the form dispatch.Pool.IDs takes. Kinds without names are left out.
func (ids PoolIDs) ByMember() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, k := range PoolIDKinds {
		if m := ids.Kind(k.Key); len(m) > 0 {
			out[k.Member] = m
		}
	}
	return out
}

// Pools are the pools section: set only in the configuration file.
type Pools []Pool

// DefaultPoolWeight is a pool's weight when the file gives none.
const DefaultPoolWeight = 1.0

// MaxPools bounds the pools section.
const MaxPools = 64

// Label is how errors name pool i: "pools[1] (west)".
func (p Pool) Label(i int) string {
	if p.Name == "" {
		return fmt.Sprintf("pools[%d]", i)
	}
	return fmt.Sprintf("pools[%d] (%s)", i, p.Name)
}

// poolYAML is one item as the file has it: Weight is a pointer, so an
// explicit 0 is told apart from none.
type poolYAML struct {
	Name              string          `yaml:"name"`
	Account           string          `yaml:"account"`
	Region            string          `yaml:"region"`
	InstanceID        string          `yaml:"instance_id"`
	Endpoint          string          `yaml:"endpoint"`
	CampaignsEndpoint string          `yaml:"campaigns_endpoint"`
	Weight            *float64        `yaml:"weight"`
	Credentials       PoolCredentials `yaml:"credentials"`
	QuotaFile         string          `yaml:"quota_file"`
	IDs               PoolIDs         `yaml:"ids"`
}

// parseNode implements nodeParser: each item decoded with unknown keys
// refused (so an inline secret key is "not a setting"), errors naming the
// item and the file's line.
func (ps *Pools) parseNode(n *yaml.Node, where func(*yaml.Node) string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		*ps = nil
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return &FieldError{Field: "pools", Source: where(n), Problem: "must be a list of pools"}
	}
	var out Pools
	for i, item := range n.Content {
		label := fmt.Sprintf("pools[%d]", i)
		if item.Kind != yaml.MappingNode {
			return &FieldError{Field: label, Source: where(item), Problem: "must be a mapping with name, account, region, instance_id, credentials, ids, …"}
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			if k, v := item.Content[j], item.Content[j+1]; k.Value == "name" && v.Kind == yaml.ScalarNode {
				label = Pool{Name: v.Value}.Label(i)
			}
		}
		if err := checkPoolKeys(item, label, where); err != nil {
			return err
		}
		var py poolYAML
		if err := decodeNode(item, &py); err != nil {
			return &FieldError{Field: label, Source: where(item), Problem: err.Error()}
		}
		p := Pool{
			Name: py.Name, Account: py.Account, Region: py.Region, InstanceID: py.InstanceID,
			Endpoint: py.Endpoint, CampaignsEndpoint: py.CampaignsEndpoint, Weight: DefaultPoolWeight,
			Credentials: py.Credentials, QuotaFile: py.QuotaFile, IDs: py.IDs,
		}
		if py.Weight != nil {
			p.Weight = *py.Weight
		}
		out = append(out, p)
	}
	*ps = out
	return nil
}

// poolKeys are the settings of a pool item and of its credentials.
var (
	poolKeys        = []string{"name", "account", "region", "instance_id", "endpoint", "campaigns_endpoint", "weight", "credentials", "quota_file", "ids"}
	credentialsKeys = []string{"profile", "role_arn", "external_id", "sts_endpoint", "access_key_id", "secret_env"}
)

// checkPoolKeys refuses unknown keys of a pool and of its credentials with
// the file's line, and says where a secret goes instead. It never shows a
// value.
func checkPoolKeys(item *yaml.Node, label string, where func(*yaml.Node) string) error {
	for j := 0; j+1 < len(item.Content); j += 2 {
		k, v := item.Content[j], item.Content[j+1]
		if !slices.Contains(poolKeys, k.Value) {
			return &FieldError{Field: label + "." + k.Value, Source: where(k), Problem: "is not a setting (want " + strings.Join(poolKeys, ", ") + ")"}
		}
		if k.Value != "credentials" || v.Kind != yaml.MappingNode {
			continue
		}
		for c := 0; c+1 < len(v.Content); c += 2 {
			ck := v.Content[c]
			if slices.Contains(credentialsKeys, ck.Value) {
				continue
			}
			problem := "is not a setting (want one of profile, role_arn (+ external_id, sts_endpoint), access_key_id + secret_env)"
			if strings.Contains(strings.ToLower(ck.Value), "secret") || strings.Contains(strings.ToLower(ck.Value), "session") {
				problem = "is not a setting: a secret is never written in the file; put it in an environment variable and name it with secret_env (its value is not shown)"
			}
			return &FieldError{Field: label + ".credentials." + ck.Value, Source: where(ck), Problem: problem}
		}
	}
	return nil
}

var (
	poolNameRE    = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	regionRE      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	envNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	accessKeyRE   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	roleARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$`)
	logicalNameRE = regexp.MustCompile(`^[^\s]{1,128}$`)
)

// validatePools adds the pools section's problems, each naming the pool
// ("pools[1] (west)") and the field. Credentials are checked for shape
// here; a role that cannot be assumed is refused at start (internal/app).
func (c Config) validatePools(bad func(field, format string, args ...any)) {
	ps := c.Pools
	if len(ps) == 0 {
		return
	}
	if len(ps) > MaxPools {
		bad("pools", "at most %d pools, got %d", MaxPools, len(ps))
	}
	if c.Queue.Backend == "sqs" {
		bad("queue.backend", "sqs cannot be used with pools: a job whose outcome is unknown is pinned to the pool it was tried on "+
			"(only that account deduplicates its ClientToken), and only the embedded store keeps the pin durably; "+
			"SQS's in-process index would lose it across processes. Use queue.backend embedded")
	}
	if c.Limits.Account != "" {
		bad("limits.account", "is not used with pools: each pool's account keys its buckets and matches the quota files' scoped overrides (set pools[i].account)")
	}
	checkURL := func(field, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(field, "must be an http(s) URL, got %q", v)
		}
	}
	names := map[string]int{}
	accountRegion := map[string]int{}
	instances := map[string]int{}
	for i, p := range ps {
		l := p.Label(i)
		switch {
		case p.Name == "":
			bad(l+".name", "is required")
		case !poolNameRE.MatchString(p.Name):
			bad(l+".name", "must be 1-32 characters of a-z 0-9 -, got %q", p.Name)
		default:
			if j, dup := names[p.Name]; dup {
				bad(l+".name", "is used twice (pools[%d] has it too)", j)
			} else {
				names[p.Name] = i
			}
		}
		if len(p.Account) != 12 || strings.Trim(p.Account, "0123456789") != "" {
			bad(l+".account", "must be a 12-digit AWS account id (quote it in YAML), got %q", p.Account)
		}
		if p.Region == "" {
			bad(l+".region", "is required")
		} else if !regionRE.MatchString(p.Region) {
			bad(l+".region", "must be an AWS Region such as us-east-1, got %q", p.Region)
		}
		if p.Account != "" && p.Region != "" {
			k := p.Account + "/" + p.Region
			if j, dup := accountRegion[k]; dup {
				bad(l+".account", "%s in %s is also %s: one pool per account and Region (they would share one set of Connect buckets)", p.Account, p.Region, ps[j].Label(j))
			} else {
				accountRegion[k] = i
			}
		}
		if p.InstanceID == "" {
			bad(l+".instance_id", "is required")
		} else if j, dup := instances[p.InstanceID]; dup {
			bad(l+".instance_id", "is also %s's: each pool has its own instance", ps[j].Label(j))
		} else {
			instances[p.InstanceID] = i
		}
		checkURL(l+".endpoint", p.Endpoint)
		checkURL(l+".campaigns_endpoint", p.CampaignsEndpoint)
		if !(p.Weight > 0) || math.IsInf(p.Weight, 0) || p.Weight > 1000 {
			bad(l+".weight", "must be > 0 and at most 1000, got %v", p.Weight)
		}
		c.validatePoolCredentials(l, p, bad, checkURL)
		for _, k := range PoolIDKinds {
			for name, id := range p.IDs.Kind(k.Key) {
				if !logicalNameRE.MatchString(name) {
					bad(l+".ids."+k.Key, "logical name %q must be 1-128 characters without spaces", name)
				}
				if strings.TrimSpace(id) == "" {
					bad(l+".ids."+k.Key, "%q maps to an empty id", name)
				}
			}
		}
	}
	// Every logical name must be in every pool: a job may run on any.
	for _, k := range PoolIDKinds {
		first := map[string]int{} // logical name → first pool that has it
		for i, p := range ps {
			for name := range p.IDs.Kind(k.Key) {
				if _, ok := first[name]; !ok {
					first[name] = i
				}
			}
		}
		all := make([]string, 0, len(first))
		for name := range first {
			all = append(all, name)
		}
		slices.Sort(all)
		for i, p := range ps {
			m := p.IDs.Kind(k.Key)
			for _, name := range all {
				if _, ok := m[name]; !ok {
					j := first[name]
					bad(p.Label(i)+".ids."+k.Key, "%q is missing (pool %s has it): every logical name needs an id in every pool", name, ps[j].Name)
				}
			}
		}
	}
}

// validatePoolCredentials checks one pool's credentials section.
func (c Config) validatePoolCredentials(l string, p Pool, bad func(field, format string, args ...any), checkURL func(field, v string)) {
	cr := p.Credentials
	f := l + ".credentials"
	var kinds []string
	if cr.Profile != "" {
		kinds = append(kinds, "profile")
	}
	if cr.RoleARN != "" {
		kinds = append(kinds, "role_arn")
	}
	if cr.AccessKeyID != "" {
		kinds = append(kinds, "access_key_id")
	}
	if len(kinds) > 1 {
		bad(f, "give at most one of profile, role_arn and access_key_id, got %s", strings.Join(kinds, " and "))
	}
	if cr.RoleARN != "" {
		if m := roleARNRE.FindStringSubmatch(cr.RoleARN); m == nil {
			bad(f+".role_arn", "must be an IAM role ARN such as arn:aws:iam::111111111111:role/tollgate, got %q", cr.RoleARN)
		} else if p.Account != "" && m[1] != p.Account {
			bad(f+".role_arn", "is a role of account %s, not of the pool's account %s", m[1], p.Account)
		}
	} else {
		if cr.ExternalID != "" {
			bad(f+".external_id", "goes with role_arn")
		}
		if cr.STSEndpoint != "" {
			bad(f+".sts_endpoint", "goes with role_arn")
		}
	}
	if cr.ExternalID != "" && (len(cr.ExternalID) < 2 || len(cr.ExternalID) > 1224) {
		bad(f+".external_id", "must be 2-1224 characters (its value is not shown)")
	}
	checkURL(f+".sts_endpoint", cr.STSEndpoint)
	switch {
	case cr.AccessKeyID != "" && cr.SecretEnv == "":
		bad(f+".secret_env", "is required with access_key_id: the name of the environment variable holding the secret access key")
	case cr.AccessKeyID == "" && cr.SecretEnv != "":
		bad(f+".secret_env", "goes with access_key_id")
	}
	if cr.AccessKeyID != "" && !accessKeyRE.MatchString(cr.AccessKeyID) {
		bad(f+".access_key_id", "must be an access key id (16-128 characters of A-Z 0-9; the secret goes in the variable secret_env names)")
	}
	if cr.SecretEnv != "" && !envNameRE.MatchString(cr.SecretEnv) {
		bad(f+".secret_env", "must be an environment variable name such as EAST_SECRET (the secret itself is never in the file)")
	}
}
