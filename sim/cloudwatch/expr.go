package cloudwatch

import (
	"fmt"
	"strconv"
	"strings"
)

// node is a parsed metric math expression.
type node struct {
	kind  byte // 'n' number, 'r' query id, 'f' function call, or an operator + - * /
	num   float64
	name  string // query id ('r'), function name ('f')
	left  *node  // operator operands; the argument of 'f' is left
	right *node
}

// MaxExpression caps an expression's length (the model's limit).
const MaxExpression = 2048

// parseExpr parses a metric math expression: numbers, query ids, + - * /,
// unary minus, parentheses, PERIOD(id) and SERVICE_QUOTA(id).
func parseExpr(src string) (*node, error) {
	if len(src) > MaxExpression {
		return nil, fmt.Errorf("expression longer than %d characters", MaxExpression)
	}
	p := &parser{src: src}
	n, err := p.sum(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.src[p.pos:p.pos+1], p.pos)
	}
	return n, nil
}

type parser struct {
	src string
	pos int
}

const maxDepth = 64

func (p *parser) skip() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) sum(depth int) (*node, error) {
	l, err := p.product(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skip()
		if p.pos >= len(p.src) || (p.src[p.pos] != '+' && p.src[p.pos] != '-') {
			return l, nil
		}
		op := p.src[p.pos]
		p.pos++
		r, err := p.product(depth)
		if err != nil {
			return nil, err
		}
		l = &node{kind: op, left: l, right: r}
	}
}

func (p *parser) product(depth int) (*node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skip()
		if p.pos >= len(p.src) || (p.src[p.pos] != '*' && p.src[p.pos] != '/') {
			return l, nil
		}
		op := p.src[p.pos]
		p.pos++
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &node{kind: op, left: l, right: r}
	}
}

func (p *parser) unary(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("expression nested deeper than %d", maxDepth)
	}
	p.skip()
	if p.pos >= len(p.src) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	c := p.src[p.pos]
	switch {
	case c == '-':
		p.pos++
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: '-', left: &node{kind: 'n'}, right: x}, nil
	case c == '(':
		p.pos++
		x, err := p.sum(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skip()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.pos)
		}
		p.pos++
		return x, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		v, err := strconv.ParseFloat(p.src[start:p.pos], 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q at position %d", p.src[start:p.pos], start)
		}
		return &node{kind: 'n', num: v}, nil
	case isIdentStart(c):
		start := p.pos
		for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
			p.pos++
		}
		name := p.src[start:p.pos]
		p.skip()
		if p.pos < len(p.src) && p.src[p.pos] == '(' {
			fn := strings.ToUpper(name)
			if fn != "PERIOD" && fn != "SERVICE_QUOTA" {
				return nil, fmt.Errorf("unsupported function %s", name)
			}
			p.pos++
			p.skip()
			as := p.pos
			for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
				p.pos++
			}
			arg := p.src[as:p.pos]
			p.skip()
			if arg == "" || !isIdentStart(arg[0]) || p.pos >= len(p.src) || p.src[p.pos] != ')' {
				return nil, fmt.Errorf("%s takes one query id, at position %d", fn, as)
			}
			p.pos++
			return &node{kind: 'f', name: fn, left: &node{kind: 'r', name: arg}}, nil
		}
		return &node{kind: 'r', name: name}, nil
	}
	return nil, fmt.Errorf("unexpected %q at position %d", string(c), p.pos)
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdent(c byte) bool      { return isIdentStart(c) || c >= '0' && c <= '9' }

// value is a scalar or a time series keyed by Unix seconds.
type value struct {
	scalar bool
	s      float64
	ts     map[int64]float64
}

// env resolves query ids while evaluating.
type env interface {
	series(id string) (value, error)
	period(id string) (int64, error)
	quota(id string) (float64, error)
}

func (n *node) eval(e env) (value, error) {
	switch n.kind {
	case 'n':
		return value{scalar: true, s: n.num}, nil
	case 'r':
		return e.series(n.name)
	case 'f':
		if n.name == "PERIOD" {
			p, err := e.period(n.left.name)
			return value{scalar: true, s: float64(p)}, err
		}
		q, err := e.quota(n.left.name)
		return value{scalar: true, s: q}, err
	}
	l, err := n.left.eval(e)
	if err != nil {
		return value{}, err
	}
	r, err := n.right.eval(e)
	if err != nil {
		return value{}, err
	}
	f := func(a, b float64) (float64, bool) {
		switch n.kind {
		case '+':
			return a + b, true
		case '-':
			return a - b, true
		case '*':
			return a * b, true
		}
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}
	switch {
	case l.scalar && r.scalar:
		v, ok := f(l.s, r.s)
		if !ok {
			return value{ts: map[int64]float64{}}, nil
		}
		return value{scalar: true, s: v}, nil
	case l.scalar:
		out := make(map[int64]float64, len(r.ts))
		for t, b := range r.ts {
			if v, ok := f(l.s, b); ok {
				out[t] = v
			}
		}
		return value{ts: out}, nil
	case r.scalar:
		out := make(map[int64]float64, len(l.ts))
		for t, a := range l.ts {
			if v, ok := f(a, r.s); ok {
				out[t] = v
			}
		}
		return value{ts: out}, nil
	}
	out := make(map[int64]float64, len(l.ts))
	for t, a := range l.ts {
		if b, ok := r.ts[t]; ok {
			if v, ok := f(a, b); ok {
				out[t] = v
			}
		}
	}
	return value{ts: out}, nil
}
