// Package config is the configuration pipeline of every command, built as
// litestream's is: a default value, then Parse layers a YAML file, the
// environment and command-line flags on top, in that order, then Validate
// checks the result with errors that name the field.
//
// Every setting has one key, used in all three places: the YAML path
// ("dispatch.call_timeout"), the environment variable (the command's prefix
// + the key upper-cased with '.' as '_': TOLLGATE_DISPATCH_CALL_TIMEOUT) and,
// for most, a flag (--call-timeout). A command lists its settings once, as a
// Table of Fields bound to its settings value (NewTable, Bind); the table
// registers the flags and drives Parse. Config is `tollgate serve`'s
// (TOLLGATE_*: Default, Parse, Validate, Load); sim.Config is
// `tollgate sim`'s (TOLLGATE_SIM_*: DefaultSim, SimTable, LoadSim).
//
// Quota pools (Pools, pools.go: several accounts sharing the queue) are
// set only in the file, as poll.queries are; Validate refuses a logical name
// missing from one pool, two pools on one account and Region, two kinds of
// credentials in one pool, an inline secret and the SQS backend, naming the
// pool ("pools[1] (west)") and the field.
//
// The bearer token has no flag, so it never shows in a process listing: set
// it in the file or in TOLLGATE_TOKEN, or let serve generate one in the data
// directory. Secret fields are never echoed in errors.
package config
