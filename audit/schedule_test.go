package audit

import (
	"testing"
	"time"
)

func TestInterval(t *testing.T) {
	for i, st := range []struct {
		expr string
		want time.Duration
		ok   bool
		err  bool
	}{
		{"rate(1 minute)", time.Minute, true, false},
		{"rate(5 minutes)", 5 * time.Minute, true, false},
		{"rate(2 hours)", 2 * time.Hour, true, false},
		{"rate(1 day)", 24 * time.Hour, true, false},
		{"rate(10 seconds)", 10 * time.Second, true, false}, // AWS rejects it; moto's Scheduler stores it
		{"cron(* * * * ? *)", time.Minute, true, false},
		{"cron(0/5 * * * ? *)", 5 * time.Minute, true, false},
		{"cron(0,15,30,50 * * * ? *)", 10 * time.Minute, true, false},
		{"cron(10-20 8 * * ? *)", time.Minute, true, false},
		{"cron(0 9 * * ? *)", 24 * time.Hour, true, false},
		{"cron(0 */6 * * ? *)", 6 * time.Hour, true, false},
		{"cron(0 1,23 * * ? *)", 2 * time.Hour, true, false},
		{"at(2026-12-02T10:00:00)", 0, false, false},
		{"rate(0 minutes)", 0, false, true},
		{"rate(1 fortnight)", 0, false, true},
		{"cron(* * * *)", 0, false, true},
		{"cron(61 * * * ? *)", 0, false, true},
		{"every minute", 0, false, true},
	} {
		got, ok, err := Interval(st.expr)
		if (err != nil) != st.err || ok != st.ok || got != st.want {
			t.Fatalf("step %d: Interval(%q) = %v, %v, %v; want %v, %v, err=%v", i, st.expr, got, ok, err, st.want, st.ok, st.err)
		}
	}
}

func FuzzInterval(f *testing.F) {
	for _, s := range []string{"rate(1 minute)", "cron(0/5 * * * ? *)", "cron(1-3,7 */2 * * ? *)", "at(x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		d, ok, err := Interval(expr)
		if err == nil && ok && d <= 0 {
			t.Fatalf("Interval(%q) = %v", expr, d)
		}
	})
}

func TestRateExpr(t *testing.T) {
	for i, st := range []struct {
		d    time.Duration
		want string
	}{{30 * time.Second, "rate(1 minute)"}, {time.Minute, "rate(1 minute)"}, {61 * time.Second, "rate(2 minutes)"}, {240 * time.Second, "rate(4 minutes)"}} {
		if got := rateExpr(st.d); got != st.want {
			t.Fatalf("step %d: rateExpr(%v) = %s, want %s", i, st.d, got, st.want)
		}
	}
}
