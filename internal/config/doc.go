// Package config is the configuration of `tollgate serve`, built as a
// pipeline: Default gives every value, Parse layers a YAML file, the
// environment (TOLLGATE_*) and command-line flags on top, in that order, and
// Validate checks the result with errors that name the field.
//
// Every setting has one key, used in all three places: the YAML path
// ("dispatch.call_timeout"), the environment variable (TOLLGATE_ + the key
// upper-cased with '.' as '_': TOLLGATE_DISPATCH_CALL_TIMEOUT) and, for most,
// a flag (--call-timeout). Fields lists them. The bearer token has no flag,
// so it never shows in a process listing: set it in the file or in
// TOLLGATE_TOKEN, or let serve generate one in the data directory.
package config
