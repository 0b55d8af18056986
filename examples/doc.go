// Package examples holds sample configuration and input files (serve
// config, quota file, jobs, simulator config and state) and the test that
// loads each through the loader its command uses. It has no code of its own.
package examples
