package redisx

// keyspace builds the keys of one account and Region. Every key carries the
// hash tag {account:region}, so in a cluster they all live on one slot and a
// script may touch any of them.
type keyspace struct {
	base string // prefix:{account:region}:
}

func newKeyspace(prefix, account, region string) keyspace {
	return keyspace{base: prefix + ":{" + account + ":" + region + "}:"}
}

// account is the account bucket (a hash: tk, ts).
func (k keyspace) account() string { return k.base + "a" }

// op is an operation's bucket (a hash: tk, ts).
func (k keyspace) op(name string) string { return k.base + "o:" + name }

// limits holds the limits set at run time (fields r:<op>, b:<op>; op "" is
// the account).
func (k keyspace) limits() string { return k.base + "limits" }

// learner is the adaptive learner of op ("" for the account): a hash of v
// (version) and s (the learner's encoded state).
func (k keyspace) learner(op string) string { return k.base + "l:" + op }

// workers is the heartbeat set (member worker id, score last beat).
func (k keyspace) workers() string { return k.base + "workers" }

// cache is a cached value; cacheLock its refresh lock.
func (k keyspace) cache(key string) string     { return k.base + "c:" + key }
func (k keyspace) cacheLock(key string) string { return k.base + "c:" + key + ":lock" }
