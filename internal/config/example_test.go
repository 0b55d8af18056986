package config_test

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/internal/config"
)

func ExampleParse() {
	env := map[string]string{"TOLLGATE_DISPATCH_CONCURRENCY": "4", "TOLLGATE_AWS_ENDPOINT": "http://127.0.0.1:8999"}
	c, err := config.Parse(config.Default(), config.Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err == nil {
		err = c.Validate()
	}
	fmt.Println(c.Dispatch.Concurrency, c.AWS.Endpoint, c.EffectiveVisibility(), err)
	// Output: 4 http://127.0.0.1:8999 3m0s <nil>
}

// ExampleTable shows how a command's settings join the pipeline: bind each
// field once, and the file, the environment and the flags all fill it.
func ExampleTable() {
	type benchSettings struct {
		Calls    int
		Scenario string
		Only     []string
	}
	s := benchSettings{Calls: 600, Scenario: "burst"} // the defaults
	t := config.NewTable("TOLLGATE_BENCH_",
		config.Bind("calls", "calls", "calls per run", &s.Calls),
		config.Bind("scenario", "scenario", "scenario name", &s.Scenario),
		config.Bind("only", "only", "strategies to run (repeatable)", &s.Only),
	)
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	t.RegisterFlags(fs)
	_ = fs.Parse([]string{"--only", "tollgate", "--only", "sdk-standard"})
	env := map[string]string{"TOLLGATE_BENCH_CALLS": "100"}
	err := t.Parse(config.Sources{Flags: fs, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	fmt.Println(s.Calls, s.Scenario, s.Only, err)

	err = t.Parse(config.Sources{LookupEnv: func(string) (string, bool) { return "many", true }})
	fmt.Println(err)
	// Output:
	// 100 burst [tollgate sdk-standard] <nil>
	// calls (TOLLGATE_BENCH_CALLS): must be an integer, got "many"
}
