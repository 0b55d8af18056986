package sim

// The shared opening of every operation handler, written once: decode the
// body, validate the members, check rules across members, take the state
// lock, find the instance the request names and answer a repeated
// ClientToken. A handler is then only what its operation does:
//
//	opX: {"X", "POST", "/x/{InstanceId}", false, codeInvalidParameter, writes((*Server).x)},
//
// with x's input type implementing input (and scoped, idempotent or checker
// as the operation needs).

// handler serves one routed request (opDef.handle).
type handler func(s *Server, rc *reqCtx) (any, *apiError)

// input is an operation's request members, decoded from the JSON body (an
// empty body, as GET requests have, leaves them zero). validate records
// constraint violations in v, answered together with the operation's
// validation code; it reads path labels and query parameters from rc and
// returns an error only when those are malformed.
type input interface {
	validate(v *validator, rc *reqCtx) *apiError
}

// checker is an input with rules across members, checked once every member
// is valid and before the state is locked.
type checker interface {
	check() *apiError
}

// scoped is an input that runs inside one instance (named by id or ARN);
// an unknown instance answers ResourceNotFoundException.
type scoped interface {
	instanceID(rc *reqCtx) string
}

// idempotent is an input with a ClientToken. A token seen before (scoped to
// the operation, and to the instance when scoped) is answered by replay
// with the id the first request remembered under rc.tokenKey; replay's ok
// is false when that result is gone and the request runs as new.
type idempotent interface {
	clientToken() *string
	replay(s *Server, id string) (out any, e *apiError, ok bool)
}

// opFunc is an operation's own work: it runs with the state lock held and
// inst set when the input is scoped (nil otherwise).
type opFunc[P any] func(s *Server, rc *reqCtx, in P, inst *instance) (any, *apiError)

// reads opens a read-only operation: the state lock is held shared.
func reads[I any, P interface {
	*I
	input
}](fn opFunc[P]) handler {
	return opening[I, P](false, fn)
}

// writes opens an operation that changes the state: the state lock is held
// exclusively and a repeated ClientToken is answered without running fn.
func writes[I any, P interface {
	*I
	input
}](fn opFunc[P]) handler {
	return opening[I, P](true, fn)
}

func opening[I any, P interface {
	*I
	input
}](exclusive bool, fn opFunc[P]) handler {
	return func(s *Server, rc *reqCtx) (any, *apiError) {
		in := P(new(I))
		if e := decodeBody(rc.body, in); e != nil {
			return nil, e
		}
		var v validator
		if e := in.validate(&v, rc); e != nil {
			return nil, e
		}
		if e := v.err(rc.valCode); e != nil {
			return nil, e
		}
		if c, ok := any(in).(checker); ok {
			if e := c.check(); e != nil {
				return nil, e
			}
		}
		st := s.st
		if exclusive {
			st.mu.Lock()
			defer st.mu.Unlock()
		} else {
			st.mu.RLock()
			defer st.mu.RUnlock()
		}
		var inst *instance
		scope := ""
		if sc, ok := any(in).(scoped); ok {
			id := sc.instanceID(rc)
			if inst = st.instance(id); inst == nil {
				return nil, instanceNotFound(id)
			}
			scope = inst.id
		}
		if idem, ok := any(in).(idempotent); ok && exclusive {
			rc.tokenKey = clientTokenKey(idem.clientToken(), rc.name, scope)
			if id, ok := st.recall(rc.tokenKey, rc.now); ok {
				if out, e, ok := idem.replay(s, id); ok {
					if e == nil {
						s.stats.duplicates.Add(1)
					}
					return out, e
				}
			}
		}
		return fn(s, rc, in, inst)
	}
}

// pathInstance makes an input scoped to the instance of the path's first
// label ({InstanceId}); validateInstance checks that label.
type pathInstance struct{}

func (pathInstance) instanceID(rc *reqCtx) string { return rc.labels[0] }

func (pathInstance) validateInstance(v *validator, rc *reqCtx) {
	v.length("instanceId", rc.labels[0], 1, 100)
}

// bodyInstance makes an input scoped to the instance of its required
// InstanceId member; validateInstance checks it.
type bodyInstance struct {
	InstanceId *string
}

func (b *bodyInstance) instanceID(*reqCtx) string { return *b.InstanceId }

func (b *bodyInstance) validateInstance(v *validator) { v.instanceID(b.InstanceId) }

// bodyClientToken is the optional ClientToken member of an idempotent
// input (at most 500 characters).
type bodyClientToken struct {
	ClientToken *string
}

func (b *bodyClientToken) clientToken() *string { return b.ClientToken }

func (b *bodyClientToken) validateClientToken(v *validator) {
	v.optLength("clientToken", b.ClientToken, 0, 500)
}

// queryPage is the maxResults and nextToken query parameters of a GET list
// operation; parse reads them (maxResults between 1 and max).
type queryPage struct {
	maxResults *int64
	nextToken  string
}

func (p *queryPage) parse(v *validator, rc *reqCtx, max int64) *apiError {
	n, e := rc.queryInt("maxResults")
	if e != nil {
		return e
	}
	q, _ := rc.queryValues()
	p.maxResults, p.nextToken = n, q.Get("nextToken")
	v.intRange("maxResults", n, 1, max)
	return nil
}
