package redisx_test

import (
	"errors"
	"fmt"

	"github.com/tollgatehq/tollgate/redisx"
)

func ExampleRedactURL() {
	fmt.Println(redisx.RedactURL("rediss://default:my-auth-token@master.example.cache.amazonaws.com:6379"))
	// Output: rediss://default:xxxxx@master.example.cache.amazonaws.com:6379
}

func ExampleNew_invalid() {
	_, err := redisx.New(redisx.Options{URL: "rediss://cache.internal:6379", Account: "123456789012"})
	fmt.Println(errors.Is(err, redisx.ErrInvalidOptions))
	fmt.Println(err)
	// Output:
	// true
	// redisx: invalid options: Region: required (e.g. eu-west-2)
}
