package poller

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// MaxStateFile bounds the state file read at start.
const MaxStateFile = 64 << 20

// stateFile is the on-disk form: the last value of every query.
type stateFile struct {
	Version int                   `json:"version"`
	Queries map[string]savedQuery `json:"queries"`
}

type savedQuery struct {
	Op        string          `json:"op"`
	Input     json.RawMessage `json:"input,omitempty"`
	Value     json.RawMessage `json:"value"`
	FetchedAt time.Time       `json:"fetched_at"`
	History   []Point         `json:"history,omitempty"`
}

// save writes the state file if one is configured: to a temporary file in
// the same directory, synced, then renamed over the old one, so a process
// killed mid-write leaves the previous file whole.
func (p *Poller) save() {
	if p.o.StateFile == "" {
		return
	}
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return
	}
	st := stateFile{Version: 1, Queries: map[string]savedQuery{}}
	for name, e := range p.entries {
		if e.value == nil {
			continue
		}
		st.Queries[name] = savedQuery{Op: e.q.Op, Input: compact(e.q.Input), Value: e.value, FetchedAt: e.fetchedAt,
			History: append([]Point(nil), e.history...)}
	}
	p.dirty = false
	p.mu.Unlock()
	if err := writeAtomic(p.o.StateFile, st); err != nil {
		p.o.Logger.Warn("poller: could not save the last values", "file", p.o.StateFile, "err", err)
	}
}

// flush saves what is not saved yet.
func (p *Poller) flush() { p.save() }

func writeAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".poll-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// restore reads the state file: every query whose operation and input are
// unchanged gets its last value back, marked restored (stale) until its
// first poll.
func (p *Poller) restore() error {
	f, err := os.Open(p.o.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxStateFile+1))
	if err != nil {
		return err
	}
	if len(b) > MaxStateFile {
		return fmt.Errorf("larger than %d bytes", MaxStateFile)
	}
	st, err := decodeState(b)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, sq := range st.Queries {
		e, ok := p.entries[name]
		if !ok || sq.Op != e.q.Op || !bytes.Equal(compact(sq.Input), compact(e.q.Input)) {
			continue
		}
		e.value, e.fetchedAt, e.restored = sq.Value, sq.FetchedAt, true
		e.numbers = Numbers(sq.Value)
		e.history = sq.History
		if n := len(e.history) - p.o.History; n > 0 {
			e.history = e.history[n:]
		}
	}
	return nil
}

// decodeState parses a state file.
func decodeState(b []byte) (stateFile, error) {
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("not a poller state file: %w", err)
	}
	if st.Version != 1 {
		return st, fmt.Errorf("version %d is not supported (want 1)", st.Version)
	}
	for name, q := range st.Queries {
		if !nameRE.MatchString(name) {
			return st, fmt.Errorf("query name %q is not valid", name)
		}
		if len(q.Value) > 0 && !json.Valid(q.Value) {
			return st, fmt.Errorf("query %q: value is not JSON", name)
		}
	}
	return st, nil
}

func compact(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}
