// Package cli holds the tollgate subcommands. Each subcommand lives in its own
// file and registers itself with register from an init function, so adding a
// command never touches another command's file. The CLI only wires packages
// together: the work is done in the library packages.
package cli
