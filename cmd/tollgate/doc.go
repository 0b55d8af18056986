// Command tollgate keeps Amazon Connect integrations productive under API
// throttling: demo, serve, queue, sim, bench, triage and version. It only
// runs the CLI (package internal/cli) and maps errors to exit codes; see the
// README for the subcommands.
package main
