package sqs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgatehq/tollgate/queue"
)

// Message attribute names.
const (
	attrID       = "tg.id"
	attrOp       = "tg.op"
	attrPriority = "tg.priority"
	attrToken    = "tg.token"
	attrNotAfter = "tg.notAfter"
	attrMeta     = "tg.meta"
)

var attrNames = []string{attrID, attrOp, attrPriority, attrToken, attrNotAfter, attrMeta}

// meta is the tg.meta attribute: the job's bookkeeping that SQS does not keep.
type meta struct {
	Group      string `json:"g,omitempty"`
	Enqueued   int64  `json:"e,omitempty"`  // unix ns
	NotBefore  int64  `json:"nb,omitempty"` // unix ns
	Receives   int    `json:"r,omitempty"`  // receives of earlier copies of this message
	Free       int    `json:"f,omitempty"`  // free requeues so far
	LastError  string `json:"le,omitempty"`
	DeadReason string `json:"dr,omitempty"`
	DeadDetail string `json:"dd,omitempty"`
	DeadAt     int64  `json:"da,omitempty"` // unix ns
	NoInput    bool   `json:"ni,omitempty"` // the job had no Input; the body is "{}"
	Base64     bool   `json:"b64,omitempty"`
}

// encode turns a job and its bookkeeping into a message body and attributes.
// The job's GroupKey, EnqueuedAt and NotBefore override m's copies; the
// counts, last error and dead-letter fields come from m.
func encode(j queue.Job, m meta) (string, map[string]types.MessageAttributeValue, error) {
	m.Group, m.Enqueued, m.NotBefore = j.GroupKey, ns(j.EnqueuedAt), ns(j.NotBefore)
	body := string(j.Input)
	m.NoInput = len(j.Input) == 0
	if m.NoInput {
		body = "{}"
	}
	m.Base64 = !sqsSafe(body)
	if m.Base64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	mj, err := json.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	attrs := map[string]types.MessageAttributeValue{
		attrID:       str(j.ID),
		attrOp:       str(j.Op),
		attrPriority: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(j.Priority))},
		attrToken:    str(j.ClientToken),
		attrMeta:     str(asciiJSON(mj)),
	}
	if !j.NotAfter.IsZero() {
		attrs[attrNotAfter] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.FormatInt(j.NotAfter.UnixNano(), 10))}
	}
	return body, attrs, nil
}

func str(s string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
}

// size estimates a message's size as SQS counts it (body plus attribute
// names, types and values).
func size(body string, attrs map[string]types.MessageAttributeValue) int {
	n := len(body)
	for k, v := range attrs {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
	}
	return n
}

var errNotOurs = errors.New("message has no tg.id attribute: not written by this adapter")

// decode reads a message written by encode. count is SQS's
// ApproximateReceiveCount (0 if absent).
func decode(msg types.Message) (j queue.Job, m meta, count int, err error) {
	a := msg.MessageAttributes
	get := func(k string) string {
		if v, ok := a[k]; ok {
			return aws.ToString(v.StringValue)
		}
		return ""
	}
	count, _ = strconv.Atoi(msg.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	j.ID = get(attrID)
	if j.ID == "" {
		return j, m, count, errNotOurs
	}
	if mj := get(attrMeta); mj != "" {
		if err := json.Unmarshal([]byte(mj), &m); err != nil {
			return j, m, count, fmt.Errorf("tg.meta: %w", err)
		}
	}
	j.Op = get(attrOp)
	j.ClientToken = get(attrToken)
	if p := get(attrPriority); p != "" {
		if j.Priority, err = strconv.Atoi(p); err != nil {
			return j, m, count, fmt.Errorf("tg.priority: %w", err)
		}
	}
	if na := get(attrNotAfter); na != "" {
		v, err := strconv.ParseInt(na, 10, 64)
		if err != nil {
			return j, m, count, fmt.Errorf("tg.notAfter: %w", err)
		}
		j.NotAfter = time.Unix(0, v)
	}
	body := aws.ToString(msg.Body)
	if m.Base64 {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return j, m, count, fmt.Errorf("body: %w", err)
		}
		body = string(b)
	}
	if !m.NoInput {
		j.Input = json.RawMessage(body)
	}
	j.GroupKey = m.Group
	j.EnqueuedAt = fromNS(m.Enqueued)
	j.NotBefore = fromNS(m.NotBefore)
	j.FreeRequeues = m.Free
	j.LastError = m.LastError
	j.DeadReason, j.DeadDetail, j.FinishedAt = m.DeadReason, m.DeadDetail, fromNS(m.DeadAt)
	j.Receives = m.Receives + count
	return j, m, count, nil
}

func fromNS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// sqsSafe reports whether SQS accepts s as a message body: #x9 #xA #xD
// #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF, and valid UTF-8.
func sqsSafe(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return false
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// asciiJSON escapes every non-ASCII character of a JSON text as \uXXXX, so
// the text is safe in a message attribute whatever strings it holds.
func asciiJSON(b []byte) string {
	var sb strings.Builder
	for _, r := range string(b) {
		if r < 0x80 {
			sb.WriteRune(r)
			continue
		}
		if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&sb, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		fmt.Fprintf(&sb, `\u%04x`, r)
	}
	return sb.String()
}

// jsonMarshal encodes m as the tg.meta attribute value.
func jsonMarshal(m meta) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return asciiJSON(b), nil
}

func jsonUnmarshal(s string, m *meta) error { return json.Unmarshal([]byte(s), m) }
