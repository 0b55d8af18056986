package sim

import (
	"fmt"
	"io"
)

// WriteBanner prints what a user needs to point clients at the simulator.
// With one account it is Server.WriteBanner. With several: the "listening
// on" line, one WriteAccounts line per account, and how to reach them.
func (m *Multi) WriteBanner(w io.Writer, baseURL string) error {
	if len(m.accounts) == 1 {
		return m.accounts[0].WriteBanner(w, baseURL)
	}
	if _, err := fmt.Fprintf(w, "tollgate sim: Amazon Connect simulator listening on %s\n", baseURL); err != nil {
		return err
	}
	if err := m.WriteAccounts(w); err != nil {
		return err
	}
	key, secret := AccountKey(1)
	_, err := fmt.Fprintf(w, `  %[2]d accounts in %[3]s; the access key that signs a request chooses its account
  accounts %[1]s/_sim/accounts   stats %[1]s/_sim/stats (summed)   account k: %[1]s/_sim/accounts/k/stats, …/outage, …/quotas
  STS AssumeRole at %[1]s: any role arn:aws:iam::<account id>:role/<name> of these accounts

AWS CLI (account 1):
	AWS_ACCESS_KEY_ID=%[4]s AWS_SECRET_ACCESS_KEY=%[5]s \
	aws connect list-queues --instance-id %[6]s --endpoint-url %[1]s --region %[3]s
`, baseURL, len(m.accounts), m.o.Region, key, secret, m.Accounts()[0].InstanceID)
	if err == nil && m.adminToken != "" && m.o.AdminToken == "" {
		_, err = fmt.Fprintf(w, "\nadmin token (generated; /_sim/ and /metrics need \"Authorization: Bearer <token>\"): %s\n", m.adminToken)
	}
	return err
}

// WriteAccounts prints one line per account when there are several
// (nothing for one), in key=value form a script can read:
//
//	tollgate sim: account index=1 account_id=100000000001 access_key_id=AKIDSIMACCOUNT000001 secret_access_key=sim-secret-1 instance_id=… contact_flow_id=… queue_id=… phone_number=+12025550100
func (m *Multi) WriteAccounts(w io.Writer) error {
	if len(m.accounts) == 1 {
		return nil
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, a := range m.Accounts() {
		if _, err := fmt.Fprintf(w, "tollgate sim: account index=%d account_id=%s access_key_id=%s secret_access_key=%s instance_id=%s contact_flow_id=%s queue_id=%s phone_number=%s\n",
			a.Index, a.AccountID, a.AccessKeyID, a.SecretAccessKey, dash(a.InstanceID), dash(a.ContactFlowID), dash(a.QueueID), dash(a.PhoneNumber)); err != nil {
			return err
		}
	}
	return nil
}
