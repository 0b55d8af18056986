//go:build race

package bench

// raceEnabled is true under the race detector, which makes the 1,000-agent
// shift change too slow for the suite; it runs without -race.
const raceEnabled = true
