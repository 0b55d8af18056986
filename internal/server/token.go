package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the generated token in the data directory.
const TokenFile = "token"

// LoadToken returns the API token: configured if set, else read from
// dataDir/token, else generated there (0600, in a 0700 directory). source
// says which, for the log ("config", "file", "generated"); the token itself
// must never be logged.
func LoadToken(configured, dataDir string) (token, source string, err error) {
	if configured != "" {
		return configured, "config", nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(dataDir, TokenFile)
	if b, err := os.ReadFile(path); err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return "", "", err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", "", fmt.Errorf("token file %s has permissions %#o; others may read it: run chmod 600 on it", path, fi.Mode().Perm())
		}
		tok := strings.TrimSpace(string(b))
		if len(tok) < 16 {
			return "", "", fmt.Errorf("token file %s holds fewer than 16 characters", path)
		}
		return tok, "file", nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("token file: %w", err)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("token file: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", "", fmt.Errorf("token file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("token file: %w", err)
	}
	return tok, "generated", nil
}

// tokenChecker compares presented tokens with the configured one in
// constant time (over SHA-256 digests, so the length does not leak either).
type tokenChecker struct{ sum [32]byte }

func newTokenChecker(token string) tokenChecker { return tokenChecker{sha256.Sum256([]byte(token))} }

func (c tokenChecker) ok(presented string) bool {
	s := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(s[:], c.sum[:]) == 1
}
