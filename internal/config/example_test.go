package config_test

import (
	"fmt"

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
