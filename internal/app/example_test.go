package app_test

import (
	"fmt"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
)

// ExampleNewAdmission builds the limiter `tollgate serve --rate-scale 10
// --adaptive` runs: the published table ×10, one token of headroom off each
// burst, the adaptive learner around it.
func ExampleNewAdmission() {
	adm, err := app.NewAdmission(app.AdmissionOptions{
		Limits: config.Limits{RateScale: 10, BurstHeadroom: 1, Adaptive: true},
	})
	if err != nil {
		panic(err)
	}
	defer adm.Close()
	api, _ := adm.Table.API("StartOutboundVoiceContact")
	fmt.Printf("StartOutboundVoiceContact: %g/s, burst %d, learning: %v\n", api.Rate, api.Burst, adm.Adapter != nil)
	// Output: StartOutboundVoiceContact: 20/s, burst 49, learning: true
}
