package main

import (
	"os"

	"github.com/tollgatehq/tollgate/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.LambdaArgs(os.Args[0], os.Args[1:], os.Getenv), os.Stdout, os.Stderr))
}
