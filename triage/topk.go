package triage

import (
	"sort"
)

// counter is what is known about one caller (a principal, a user agent, …)
// of one operation.
type counter struct {
	calls, thr  int64
	first, last int64  // Unix seconds of the first and last dated call
	agent, ip   string // a sample, for principals
	session     string
}

// topk counts keys exactly while there are at most cap of them; beyond
// that it prunes to the cap/2 heaviest by calls plus the cap/2 heaviest by
// throttles, so heavy hitters of either kind survive (a lossy-counting
// sketch). dropped is the largest count ever pruned: any count can be low by
// at most that much.
type topk struct {
	m       map[string]*counter
	cap     int
	dropped int64
}

func (t *topk) get(key string) *counter {
	if c, ok := t.m[key]; ok {
		return c
	}
	if t.m == nil {
		t.m = make(map[string]*counter, 8)
	}
	c := &counter{first: -1}
	t.m[key] = c
	if t.cap > 0 && len(t.m) > t.cap {
		t.prune()
		if _, ok := t.m[key]; !ok {
			t.m[key] = c
		}
	}
	return c
}

func (c *counter) seen(sec int64) {
	if sec == 0 {
		return
	}
	if c.first < 0 || sec < c.first {
		c.first = sec
	}
	if sec > c.last {
		c.last = sec
	}
}

// prune keeps the cap/2 heaviest keys by calls and by throttles.
func (t *topk) prune() {
	type kv struct {
		k string
		c *counter
	}
	all := make([]kv, 0, len(t.m))
	for k, c := range t.m {
		all = append(all, kv{k, c})
	}
	keep := make(map[string]bool, t.cap)
	half := t.cap / 2
	sort.Slice(all, func(i, j int) bool {
		return all[i].c.calls > all[j].c.calls || all[i].c.calls == all[j].c.calls && all[i].k < all[j].k
	})
	for i := 0; i < len(all) && i < half; i++ {
		keep[all[i].k] = true
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].c.thr > all[j].c.thr || all[i].c.thr == all[j].c.thr && all[i].k < all[j].k
	})
	for i := 0; i < len(all) && i < half; i++ {
		keep[all[i].k] = true
	}
	for _, e := range all {
		if !keep[e.k] {
			if e.c.calls > t.dropped {
				t.dropped = e.c.calls
			}
			delete(t.m, e.k)
		}
	}
}

// merge adds o into t.
func (t *topk) merge(o *topk) {
	if o.dropped > t.dropped {
		t.dropped = o.dropped
	}
	for k, oc := range o.m {
		c := t.get(k)
		c.calls += oc.calls
		c.thr += oc.thr
		if oc.first >= 0 {
			c.seen(oc.first)
			c.seen(oc.last)
		}
		if c.agent == "" {
			c.agent, c.ip, c.session = oc.agent, oc.ip, oc.session
		}
	}
}

// ranked returns up to n keys ordered by throttles, then calls, then name
// (byThrottles) or by calls, then throttles, then name.
func (t *topk) ranked(n int, byThrottles bool) []string {
	keys := make([]string, 0, len(t.m))
	for k, c := range t.m {
		if byThrottles && c.thr == 0 {
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := t.m[keys[i]], t.m[keys[j]]
		if byThrottles {
			if a.thr != b.thr {
				return a.thr > b.thr
			}
			if a.calls != b.calls {
				return a.calls > b.calls
			}
		} else {
			if a.calls != b.calls {
				return a.calls > b.calls
			}
			if a.thr != b.thr {
				return a.thr > b.thr
			}
		}
		return keys[i] < keys[j]
	})
	if n > 0 && len(keys) > n {
		keys = keys[:n]
	}
	return keys
}
