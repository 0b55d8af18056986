package api_test

import (
	"encoding/json"
	"fmt"

	"github.com/tollgatehq/tollgate/internal/api"
)

// ExampleJobSpec_Job decodes one line of a submission and turns it into the
// queue's job.
func ExampleJobSpec_Job() {
	var spec api.JobSpec
	line := `{"op":"StartOutboundVoiceContact","priority":1,"client_token":"c-42","input":{"DestinationPhoneNumber":"+12065550100"}}`
	if err := json.Unmarshal([]byte(line), &spec); err != nil {
		panic(err)
	}
	j := spec.Job()
	fmt.Println(j.Op, j.Priority, j.ClientToken, string(j.Input))
	// Output: StartOutboundVoiceContact 1 c-42 {"DestinationPhoneNumber":"+12065550100"}
}
