package main

import (
	"os"

	"github.com/tollgatehq/tollgate/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
