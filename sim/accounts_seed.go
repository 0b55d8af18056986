package sim

import (
	"crypto/sha256"
	"fmt"
	"strconv"

	"github.com/tollgatehq/tollgate/internal/uuid"
)

// accountSeed returns a copy of sd for account k of several: every id
// replaced by accountID-derived one (the same id always maps to the same
// one, so references stay consistent), ids left empty to be generated from
// the account's seed, and phone numbers moved (shiftNumber).
func accountSeed(sd *Seed, accountID string, k int) *Seed {
	id := func(s string) string {
		if s == "" {
			return ""
		}
		h := sha256.Sum256([]byte("tollgate-sim/" + accountID + "/" + s))
		return uuid.V4([16]byte(h[:16]))
	}
	res := func(list []SeedResource) []SeedResource {
		out := make([]SeedResource, len(list))
		for i, r := range list {
			out[i] = SeedResource{ID: id(r.ID), Name: r.Name, Type: r.Type}
		}
		return out
	}
	out := &Seed{}
	for _, si := range sd.Instances {
		ni := si
		ni.ID = id(si.ID)
		ni.Queues, ni.ContactFlows = res(si.Queues), res(si.ContactFlows)
		ni.RoutingProfiles, ni.SecurityProfiles, ni.AgentStatuses = res(si.RoutingProfiles), res(si.SecurityProfiles), res(si.AgentStatuses)
		ni.Users = make([]SeedUser, len(si.Users))
		for i, u := range si.Users {
			nu := u
			nu.ID, nu.RoutingProfileID = id(u.ID), id(u.RoutingProfileID)
			nu.SecurityProfileIDs = nil
			for _, sp := range u.SecurityProfileIDs {
				nu.SecurityProfileIDs = append(nu.SecurityProfileIDs, id(sp))
			}
			ni.Users[i] = nu
		}
		ni.PhoneNumbers = make([]SeedPhone, len(si.PhoneNumbers))
		for i, p := range si.PhoneNumbers {
			np := p
			np.ID, np.Number = id(p.ID), shiftNumber(p.Number, k)
			ni.PhoneNumbers[i] = np
		}
		out.Instances = append(out.Instances, ni)
	}
	for _, c := range sd.Campaigns {
		nc := c
		nc.ID, nc.InstanceID = id(c.ID), id(c.InstanceID)
		out.Campaigns = append(out.Campaigns, nc)
	}
	return out
}

// shiftNumber adds 100·(k-1) to the last four digits of an E.164 number
// (modulo 10000), so each account claims its own numbers:
// +12025550100 → +12025550200 for account 2. Numbers without four
// trailing digits are unchanged.
func shiftNumber(num string, k int) string {
	if k <= 1 || len(num) < 5 {
		return num
	}
	head, tail := num[:len(num)-4], num[len(num)-4:]
	n, err := strconv.Atoi(tail)
	if err != nil || n < 0 || tail[0] == '+' || tail[0] == '-' {
		return num
	}
	return head + fmt.Sprintf("%04d", (n+100*(k-1))%10000)
}
